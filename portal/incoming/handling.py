"""Who finishes what on an incoming document, and its replies (SPEC §5.6). No Flask here.

Every assignment row keeps its own state. The lead person's "Hoàn thành" closes the document and
the **lead chain** only: the lead's level-1 row and, when that is a unit, the unit's own lead person
below it. Co-operating parties finish their own part (also after the document is done: they report
by their own deadlines); for-information rows are only marked "Đã xem". Nobody is shown "Hoàn
thành" for work they did not do, and "Mở lại" puts back only what the lead's finish closed.

A reply is a draft written as the document's answer (``Draft.reply_to_id``) and the outgoing
document it became; the link lives on the draft, so finishing or reopening the incoming document
never touches it. Finishing records the newest issued reply as "văn bản trả lời"
(``answer_outgoing_id``, the register's column) unless one is recorded already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.auth.models import User
from portal.db import session
from portal.documents.models import IncomingDocument, OutgoingDocument, OutgoingStatus
from portal.incoming.models import Assignment, AssignmentRole, AssignmentState

if TYPE_CHECKING:
    from portal.drafts.models import Draft


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


@dataclass
class Reply:
    draft: Draft | None  # None: an outgoing document recorded as the answer without a draft here
    outgoing: OutgoingDocument | None  # None while the draft is not issued


def replies(doc: IncomingDocument) -> list[Reply]:
    """Every reply of the document in any state but cancelled, oldest first; the recorded answer
    too when no draft here leads to it."""
    from portal.drafts.models import Draft, DraftStatus  # importing portal.drafts at load time is circular

    found = [Reply(draft, out) for draft, out in session.execute(
        select(Draft, OutgoingDocument).outerjoin(OutgoingDocument, OutgoingDocument.id == Draft.outgoing_id)
        .where(Draft.reply_to_id == doc.id, Draft.status != DraftStatus.CANCELLED).order_by(Draft.id)).all()]
    if doc.answer_outgoing_id is not None and all(r.outgoing is None or r.outgoing.id != doc.answer_outgoing_id
                                                  for r in found):
        found.append(Reply(None, session.get(OutgoingDocument, doc.answer_outgoing_id)))
    return found


def issued_reply_id(doc: IncomingDocument) -> int | None:
    """The newest issued (not recalled) outgoing document drafted as this document's reply."""
    from portal.drafts.models import Draft

    return session.execute(
        select(OutgoingDocument.id).join(Draft, Draft.outgoing_id == OutgoingDocument.id)
        .where(Draft.reply_to_id == doc.id, OutgoingDocument.status == OutgoingStatus.ISSUED)
        .order_by(OutgoingDocument.issued_at.desc(), OutgoingDocument.id.desc()).limit(1)).scalar_one_or_none()
