"""Who decides a gia hạn request (SPEC §5.6). No Flask here.

Whoever set the row's deadline (its ``assigned_by``) decides while they are still at work in the document's
organisation. Once they are not, whoever now directs at that level decides instead: the current head of the
unit for a deadline set within a unit (a level-2 row, under its unit's row), the organisation's agency leaders
for a deadline set at the organisation's level (level 1). Otherwise a request to someone who has left would
wait for ever and the work with it. The unit decides only while someone heads it today (a position valid today
with the unit head's role there, the account not disabled); a unit with no head sends the request up to the
agency leaders.

Whoever asked never decides their own request: not as the setter (a person who set their own deadline), not as
the unit's head (the lead officer who has since become head of the unit), not anywhere. When the decider would
be the requester, the agency leaders decide instead; ``may_decide`` refuses the requester whatever their roles,
so a requester who is the organisation's only agency leader cannot decide it either (nobody can, until another
leader is appointed or the setter returns).

"Still at work" means the account is not disabled and holds a position valid today in that organisation. A
lock (the lockout after failed sign-ins, or IT's) is a pause, not a departure: the request waits for them, and
nobody can move a person's decisions to others by failing their password.

One rule, read in three places that must agree: the assignment table's guard (``workflow``: approve and refuse,
under the document's lock), the inbox's items (``work``: the owner returned by ``decider``) and the notice of a
new request (``portal.notifications``). The owner is the inbox's: a person (USER), whoever heads a unit in their
current position (UNIT), or the people of an organisation who hold the queue's roles, here its agency leaders
(ORG), which is exactly what ``headed_unit_id`` and ``is_agency_leader`` check in the guard.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.auth.models import Position, PositionRole, Role, User, UserStatus
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.inbox.registry import ORG, UNIT, USER
from portal.incoming.models import Assignment, ExtensionState
from portal.incoming.visibility import headed_unit_id, is_agency_leader
from portal.timeutil import local_today

Owner = tuple[str, int]


def _valid_today():  # type: ignore[no-untyped-def]
    today = local_today()
    return (or_(Position.valid_from.is_(None), Position.valid_from <= today),
            or_(Position.valid_to.is_(None), Position.valid_to >= today))


def at_work(db: Session, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (person, organisation) pairs of ``pairs`` whose person is still at work in that organisation: not
    disabled, and holding a position there valid today (``Position.is_active``, in SQL)."""
    if not pairs:
        return set()
    found = db.execute(
        select(Position.user_id, Position.organisation_id).join(User, User.id == Position.user_id)
        .where(Position.user_id.in_({person for person, _ in pairs}), User.status != UserStatus.DISABLED,
               *_valid_today()))
    return set(pairs) & {(person, organisation) for person, organisation in found}


def heads(db: Session, units: Collection[int]) -> dict[int, set[int]]:
    """Unit → the people heading it today (a position there valid today with the unit head's role, the account
    not disabled: a lock is a pause, as for the setter), for every unit of ``units`` at once; a unit nobody heads
    is absent."""
    if not units:
        return {}
    found: dict[int, set[int]] = {}
    for unit, person in db.execute(
            select(Position.unit_id, Position.user_id).join(User, User.id == Position.user_id)
            .join(PositionRole, PositionRole.position_id == Position.id)
            .where(Position.unit_id.in_(set(units)), PositionRole.role == Role.UNIT_HEAD,
                   User.status != UserStatus.DISABLED, *_valid_today())):
        found.setdefault(unit, set()).add(person)
    return found


def decider(setter_id: int, organisation_id: int, unit_id: int | None, setter_at_work: bool,
            requester_id: int | None = None, unit_heads: Collection[int] = ()) -> Owner:
    """The setter while at work; else the unit the row was set within, while someone heads it (``unit_heads``);
    else the organisation (its agency leaders). Never the requester: a setter or a unit head who asked sends the
    request to the organisation."""
    if setter_at_work and setter_id != requester_id:
        return USER, setter_id
    if unit_id is not None and unit_heads and requester_id not in unit_heads:
        return UNIT, unit_id
    return ORG, organisation_id


def unit_of(row: Assignment) -> int | None:
    """The unit a row was set within (a level-2 row's unit row names it); None at the organisation's level."""
    parent = session.get(Assignment, row.parent_id) if row.parent_id is not None else None
    return parent.assignee_unit_id if parent is not None else None


def requester_of(row: Assignment) -> int | None:
    """Who asked the row's pending request (the table decides only the newest, and only while it waits)."""
    latest = row.extensions[-1] if row.extensions else None
    return latest.requested_by_id if latest is not None and latest.state == ExtensionState.PENDING else None


def decider_of(row: Assignment) -> Owner:
    """``decider`` for one row's pending request, read now (the guard calls it under the document's lock)."""
    doc = session.get(IncomingDocument, row.document_id)
    assert doc is not None
    pair, unit = (row.assigned_by_id, doc.organisation_id), unit_of(row)
    setter_at_work = pair in at_work(session(), {pair})
    unit_heads = heads(session(), {unit}).get(unit, set()) if unit is not None else set()
    return decider(row.assigned_by_id, doc.organisation_id, unit, setter_at_work, requester_of(row), unit_heads)


def may_decide(user: User, row: Assignment) -> bool:
    """Whoever decides the pending request now (``decider_of``), never the person who asked it."""
    if user.id == requester_of(row):
        return False
    kind, owner = decider_of(row)
    if kind == USER:
        return user.id == owner
    if kind == UNIT:
        return headed_unit_id(user) == owner
    doc = session.get(IncomingDocument, row.document_id)
    return doc is not None and is_agency_leader(user, doc)
