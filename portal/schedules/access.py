"""Who is who on a calendar, and the calendars, weeks and entries a person may reach (SPEC §9).

One predicate per role (editor, approver, reader); the workflow table (``workflow.py``) and the
lists read them. Another organisation's calendar, or a unit's the person may not read, does not
exist for them (404).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal.auth.models import Position, PositionRole, Role, User, UserStatus
from portal.db import session, utcnow
from portal.errors import NotAllowed, NotFound
from portal.orgs.models import Organisation, OrgKind
from portal.schedules.models import Calendar, Entry, Week, WeekState
from portal.text import fold
from portal.timeutil import local_today

S = WeekState


# --- who is who ------------------------------------------------------------------------------------

def _editor(pos: Position | None, cal: Calendar) -> bool:
    if pos is None or pos.organisation_id != cal.organisation_id:
        return False
    roles = pos.role_set
    return Role.SCHEDULE_EDITOR in roles or (
        cal.unit_id is not None and Role.UNIT_HEAD in roles and pos.unit_id == cal.unit_id)


def _approver(pos: Position | None, cal: Calendar) -> bool:
    if pos is None or pos.organisation_id != cal.organisation_id:
        return False
    if cal.unit_id is None:
        return Role.AGENCY_LEADER in pos.role_set
    return Role.UNIT_HEAD in pos.role_set and pos.unit_id == cal.unit_id


def _reader(pos: Position | None, cal: Calendar) -> bool:
    """Published weeks: an organisation's calendar for its staff, the province's own (the root's)
    for everyone in the province, a unit's for the unit and the organisation's leaders."""
    if pos is None:
        return False
    if _editor(pos, cal) or _approver(pos, cal):
        return True
    if cal.unit_id is not None:
        return pos.organisation_id == cal.organisation_id and (
            pos.unit_id == cal.unit_id or Role.AGENCY_LEADER in pos.role_set)
    if pos.organisation_id == cal.organisation_id:
        return True
    root = cal.organisation
    return (root.parent_id is None and root.kind != OrgKind.EXTERNAL
            and pos.organisation.path.startswith(root.path))


def is_editor(user: User, cal: Calendar) -> bool:
    return _editor(user.current_position, cal)


def is_approver(user: User, cal: Calendar) -> bool:
    return _approver(user.current_position, cal)


def can_read(user: User, cal: Calendar) -> bool:
    return _reader(user.current_position, cal)


def can_see_week(user: User, cal: Calendar, week: Week | None) -> bool:
    """Drafts, submitted and approved weeks only to those who make them."""
    if week is not None and week.is_published:
        return can_read(user, cal)
    return is_editor(user, cal) or is_approver(user, cal)


# --- calendars -------------------------------------------------------------------------------------

def _organisation(user: User) -> Organisation:
    if user.organisation is None:
        raise NotAllowed("schedules.access", "Bạn chưa có chức vụ đang hiệu lực.")
    return user.organisation


def _calendar_key(organisation: Organisation, unit: Organisation | None = None) -> str:
    return f"{organisation.id}/{unit.id}" if unit is not None else str(organisation.id)


def calendar_for(organisation: Organisation, unit: Organisation | None = None) -> Calendar:
    """Calendars exist for every organisation and unit; the row is made the first time it is needed."""
    return _calendars([(organisation, unit)])[0]


def _calendars(wanted: list[tuple[Organisation, Organisation | None]]) -> list[Calendar]:
    """The calendars of these (organisation, unit) pairs in one query, the missing ones made."""
    keys = [_calendar_key(org, unit) for org, unit in wanted]
    found = {cal.key: cal for cal in session.execute(select(Calendar).where(Calendar.key.in_(keys))).scalars()}
    cals = []
    missing = [(org, unit, key) for (org, unit), key in zip(wanted, keys, strict=True) if key not in found]
    if missing:
        # two first views of a new calendar at the same moment both get the one row (ON CONFLICT
        # DO NOTHING on the unique key), never a unique-violation 500
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(Calendar).values([
            {"organisation_id": org.id, "unit_id": unit.id if unit else None, "key": key, "created_at": utcnow()}
            for org, unit, key in missing]).on_conflict_do_nothing())
        found.update({cal.key: cal for cal in session.execute(
            select(Calendar).where(Calendar.key.in_([key for _o, _u, key in missing]))).scalars()})
    for (org, unit), key in zip(wanted, keys, strict=True):
        cal = found[key]
        # the page names them: already loaded, so no query per calendar (nothing is changed)
        set_committed_value(cal, "organisation", org)
        set_committed_value(cal, "unit", unit)
        cals.append(cal)
    return cals


def units_of(organisation_id: int) -> list[Organisation]:
    return list(session.execute(select(Organisation).where(
        Organisation.owner_id == organisation_id, Organisation.is_issuing.is_(False),
        Organisation.valid_to.is_(None)).order_by(Organisation.name)).scalars())


def calendars_for(user: User) -> list[Calendar]:
    """What the calendar switcher offers: the organisation's, the units' the person may read,
    and the province's own (one query for the calendars, one for the units)."""
    org = _organisation(user)
    units = units_of(org.id)
    wanted: list[tuple[Organisation, Organisation | None]] = [(org, None), *((org, unit) for unit in units)]
    root_ids = org.ancestor_ids
    root = session.get(Organisation, root_ids[0]) if root_ids else None
    if root is not None and root.kind != OrgKind.EXTERNAL:
        wanted.append((root, None))
    cals = _calendars(wanted)
    return [cal for cal in cals if cal.unit_id is None or can_read(user, cal)]


def get_calendar(user: User, calendar_id: int) -> Calendar:
    """Another organisation's calendar, or a unit's the person may not read, does not exist for them."""
    cal = session.get(Calendar, calendar_id)
    if cal is None or not can_read(user, cal):
        raise NotFound()
    return cal


def find_week(cal: Calendar, monday: date) -> Week | None:
    return session.execute(select(Week).where(Week.calendar_id == cal.id, Week.monday == monday)).scalar_one_or_none()


def ensure_week(cal: Calendar, monday: date) -> Week:
    """The week's row, made if missing. Two first requests for the same week at the same moment
    both get the one row (``ON CONFLICT DO NOTHING`` on the unique (calendar, monday)), never a
    unique-violation 500."""
    week = find_week(cal, monday)
    if week is None:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(Week).values(calendar_id=cal.id, monday=monday, state=S.DRAFT, revision=0)
                        .on_conflict_do_nothing())
        week = find_week(cal, monday)
        assert week is not None
    return week


def get_entry(user: User, entry_id: int) -> Entry:
    entry = session.get(Entry, entry_id)
    if entry is None or not can_see_week(user, entry.week.calendar, entry.week):
        raise NotFound()
    return entry


# --- choices -----------------------------------------------------------------------------------------

def people_of(organisation_id: int, *roles: Role) -> list[User]:
    """Active people with a position in the organisation (with one of ``roles``, if given)."""
    q = select(User).join(Position, Position.user_id == User.id).where(
        Position.organisation_id == organisation_id, User.status == UserStatus.ACTIVE)
    if roles:
        q = q.join(PositionRole, PositionRole.position_id == Position.id).where(PositionRole.role.in_(roles))
    return list(session.execute(q.distinct().order_by(User.full_name)).scalars())


def leaders_of(organisation_id: int) -> list[User]:
    return people_of(organisation_id, Role.AGENCY_LEADER, Role.UNIT_HEAD)


def people_among(organisation_id: int, ids: Iterable[int]) -> list[User]:
    """Those of ``ids`` that ``people_of`` would list (one query, whatever the organisation's size):
    what the service checks a form's participants against, and the names of an entry form's chips."""
    wanted = set(ids)
    if not wanted:
        return []
    q = select(User).join(Position, Position.user_id == User.id).where(
        Position.organisation_id == organisation_id, User.status == UserStatus.ACTIVE, User.id.in_(wanted))
    return list(session.execute(q.distinct().order_by(User.full_name, User.id)).scalars())


def find_participants(organisation_id: int, q: str, limit: int = 15) -> tuple[list[Organisation], list[User]]:
    """The "Thành phần" type-ahead: the organisation's open units, then its active people holding a
    position there today, whose name (without diacritics) or user name contains ``q``; at most ``limit``."""
    folded = fold(q)
    units_q = select(Organisation).where(Organisation.owner_id == organisation_id, Organisation.is_issuing.is_(False),
                                         Organisation.valid_to.is_(None))
    if folded:
        units_q = units_q.where(Organisation.name_folded.contains(folded, autoescape=True))
    units = list(session.execute(units_q.order_by(Organisation.name).limit(min(6, limit))).scalars())
    today = local_today()
    people_q = select(User).join(Position, Position.user_id == User.id).where(
        Position.organisation_id == organisation_id, User.status == UserStatus.ACTIVE,
        or_(Position.valid_from.is_(None), Position.valid_from <= today),
        or_(Position.valid_to.is_(None), Position.valid_to >= today))
    if folded:
        people_q = people_q.where(or_(User.full_name_folded.contains(folded, autoescape=True),
                                      User.username.contains(folded, autoescape=True)))
    people = list(session.execute(people_q.distinct().order_by(User.full_name, User.id).limit(limit - len(units))
                                  .options(selectinload(User.positions))).scalars())
    return units, people


def participant_name(organisation_id: int, kind: str, ident: int) -> str | None:
    """The name on a chip: a unit (``units_of``'s rule) or a person (``people_of``'s) of the
    organisation; None for anything else, which may not be chosen."""
    if kind == "unit":
        unit = session.get(Organisation, ident)
        inside = unit is not None and unit.owner_id == organisation_id and not unit.is_issuing and unit.valid_to is None
        return unit.name if inside and unit is not None else None
    found = people_among(organisation_id, [ident])
    return found[0].full_name if found else None
