"""The assignment rows a person holds on a document: the primitives the step table and the
handling steps read (SPEC §5.6). No Flask here.

Every assignment row keeps its own state. The lead person's "Hoàn thành" closes the document and
the **lead chain** only: the lead's level-1 row and, when that is a unit, the unit's own lead person
below it. Co-operating parties finish their own part (also after the document is done);
for-information rows are only marked "Đã xem".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.auth.models import User
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.incoming.models import Assignment, AssignmentRole, AssignmentState
from portal.incoming.visibility import OPEN_STATUSES, S, headed_unit_id


def lead_chain(doc: IncomingDocument) -> list[Assignment]:
    """The level-1 lead row, then (for a lead unit) the unit's lead person row, if named yet."""
    rows = list(session.execute(select(Assignment).where(Assignment.document_id == doc.id,
                                                         Assignment.role == AssignmentRole.LEAD)
                                .order_by(Assignment.id)).scalars())
    top = next((r for r in rows if r.level == 1), None)
    if top is None:
        return []
    if top.assignee_user_id is not None:
        return [top]
    return [top, *(r for r in rows if r.parent_id == top.id and r.assignee_user_id is not None)][:2]


def open_parts(user: User, doc: IncomingDocument) -> list[Assignment]:
    """This person's own parts still open: co-operating rows, and the lead row inside a
    co-operating unit. Not the lead chain (the document's finish closes it), not for-information."""
    chain = {r.id for r in lead_chain(doc)}
    rows = session.execute(select(Assignment).where(
        Assignment.document_id == doc.id, Assignment.assignee_user_id == user.id,
        Assignment.state != AssignmentState.DONE, Assignment.role != AssignmentRole.INFORM)
        .order_by(Assignment.level, Assignment.id)).scalars()
    return [r for r in rows if r.id not in chain]


def close_parts(rows: list[Assignment], now: datetime) -> None:
    """Done, each row; a unit's own lead finishing closes the unit's row too (its part is done)."""
    for row in rows:
        row.state, row.finished_at = AssignmentState.DONE, now
        if row.role == AssignmentRole.LEAD and row.parent_id is not None:
            unit_row = session.get(Assignment, row.parent_id)
            if unit_row is not None and unit_row.state != AssignmentState.DONE:
                unit_row.state, unit_row.finished_at = AssignmentState.DONE, now


def unit_assignment(user: User, doc: IncomingDocument) -> Assignment | None:
    """The level-1 row naming the unit this person heads, if any."""
    unit = headed_unit_id(user)
    if unit is None:
        return None
    return session.execute(select(Assignment).where(Assignment.document_id == doc.id, Assignment.level == 1,
                                                    Assignment.assignee_unit_id == unit)).scalars().first()



def my_assignments(user: User, doc: IncomingDocument) -> list[Assignment]:
    return list(session.execute(select(Assignment).where(Assignment.document_id == doc.id,
                                                         Assignment.assignee_user_id == user.id)
                                .order_by(Assignment.level, Assignment.id)).scalars())


def lead_person_assignment(doc: IncomingDocument) -> Assignment | None:
    """The person who answers for the document: the lead person, directly or through the lead
    unit's own lead."""
    chain = lead_chain(doc)
    return chain[-1] if chain and chain[-1].assignee_user_id is not None else None


def progress_rows(user: User, doc: IncomingDocument) -> list[Assignment]:
    """The rows a progress note may be about: any of mine not done while the document is open;
    after the lead's finish, only my own open part."""
    if doc.status in OPEN_STATUSES:
        return [r for r in my_assignments(user, doc) if r.state != AssignmentState.DONE]
    return open_parts(user, doc) if doc.status == S.DONE else []

