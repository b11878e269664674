"""Who is who on an incoming document, and who may see it (SPEC §2.3–2.4). No Flask here.

``visible_clause(user)`` is the one permission predicate of every list, search, count and page:
R1 the organisation's clerks and agency leaders, R2 the participants, R3 the head of an assigned
unit. ``get_visible`` loads one document through it (404 otherwise). The step rules that read these
predicates live in ``incoming/workflow.py``.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select

from portal.auth.models import Role, User
from portal.db import session
from portal.documents.models import IncomingDocument, IncomingStatus
from portal.errors import NotAllowed, NotFound
from portal.incoming.models import Assignment

S = IncomingStatus
OPEN_STATUSES = (S.ASSIGNED, S.IN_PROGRESS)
# an assignment not yet done can still be worked on, chased and listed while its document is at
# one of these: the lead's finish (06) leaves co-operating parts open (handling.py)
WORK_STATUSES = (*OPEN_STATUSES, S.DONE)


def org_id(user: User) -> int:
    if user.organisation is None:
        raise NotAllowed("incoming.access", "Bạn chưa có chức vụ đang hiệu lực.")
    return user.organisation.id


def is_clerk(user: User, doc: IncomingDocument | None = None) -> bool:
    return user.has_role(Role.CLERK) and (doc is None or doc.organisation_id == org_id(user))


def is_agency_leader(user: User, doc: IncomingDocument | None = None) -> bool:
    return user.has_role(Role.AGENCY_LEADER) and (doc is None or doc.organisation_id == org_id(user))


def is_leader(user: User) -> bool:
    return user.has_role(Role.AGENCY_LEADER, Role.UNIT_HEAD)


def headed_unit_id(user: User) -> int | None:
    """The unit this person heads in their current position (R3)."""
    position = user.current_position
    if position is None or Role.UNIT_HEAD not in position.role_set:
        return None
    return position.unit_id


def is_front_desk(user: User) -> bool:
    """Clerks and agency leaders see every document of their organisation (R1)."""
    return user.has_role(Role.CLERK, Role.AGENCY_LEADER)


def participant_scope(user: User) -> ColumnElement[bool]:
    """What a participant may see at all: their organisation's documents, once accepted and
    while not returned or recalled."""
    d = IncomingDocument
    return and_(d.organisation_id == org_id(user), d.status.not_in((S.RECALLED, S.RETURNED, S.ARRIVED)))


def participation(user: User) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """The ways a participant reaches a document (R2, R3), each its own condition: on the document
    (registered it, it is presented to them) and on one assignment row (assigned to them or by
    them, or to the unit they head). Separate, so a list can walk each one's index."""
    d, a = IncomingDocument, Assignment
    on_document = [d.registered_by_id == user.id, d.presented_to_id == user.id]
    on_assignment = [a.assignee_user_id == user.id, a.assigned_by_id == user.id]
    unit = headed_unit_id(user)
    if unit is not None:
        on_assignment.append(a.assignee_unit_id == unit)
    return on_document, on_assignment


def visible_clause(user: User) -> ColumnElement[bool]:
    """One set-based predicate for every list, search, count and page (SPEC §2.3–2.4):
    R1 clerks and agency leaders of the organisation; R2 participants (registering clerk, the
    leader it is presented to, assignees and assigners); R3 the head of an assigned unit.
    Recalled documents are gone for everyone; returned ones stay with the clerks. (A
    participant's list pages are built from the same parts by ``queries.page``.)"""
    d = IncomingDocument
    if is_front_desk(user):
        return and_(d.organisation_id == org_id(user), d.status != S.RECALLED)
    on_document, on_assignment = participation(user)
    reached = exists().where(Assignment.document_id == d.id, or_(*on_assignment))
    return and_(participant_scope(user), or_(*on_document, reached))


def get_visible(user: User, document_id: int) -> IncomingDocument:
    doc = session.execute(select(IncomingDocument).where(IncomingDocument.id == document_id,
                                                         visible_clause(user))).scalar_one_or_none()
    if doc is None:
        raise NotFound()
    return doc

