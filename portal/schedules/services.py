"""The weekly schedule (SPEC §9): who may see and do what, the workflow, entries with their
post-publication marks, double-booking checks and the private iCalendar feeds. No Flask here.

========================  ========================  ==========================================
action                    week state                actor
========================  ========================  ==========================================
add / change / cancel     Dự thảo, Đã công bố       an editor: SCHEDULE_EDITOR of the
                                                    organisation (unit calendars: also the
                                                    unit head)
submit                    Dự thảo                   an editor
approve                   Chờ duyệt                 the approver: an agency leader (unit
                                                    calendars: the unit head)
return (with comment)     Chờ duyệt, Đã duyệt       the approver
publish                   Đã duyệt                  the approver
========================  ========================  ==========================================

After publication an editor's change goes live at once as a new revision, without approval
again: the entry is marked ("Bổ sung", "Điều chỉnh" keeping the values readers saw, "Hủy"), its
iCalendar SEQUENCE goes up, and the week's revision number too.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm.attributes import set_committed_value

from portal import audit
from portal.auth.models import Position, PositionRole, Role, User, UserStatus
from portal.db import session, utcnow
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.orgs.models import Organisation, OrgKind
from portal.schedules.models import Calendar, ChangeMark, Entry, FeedKind, FeedToken, Week, WeekState
from portal.text import nfc
from portal.timeutil import local_today

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
NOON = time(12)
DEFAULT_LENGTH = timedelta(hours=1)  # an entry without an end time counts as one hour (SPEC §9)
FEED_HISTORY = timedelta(weeks=8)  # how far back a feed reaches
LIMITS = {"content": 1000, "presiding_text": 300, "participants_text": 500, "location": 200, "notes": 500}
FIELD_LABELS = {"content": "Nội dung", "presiding_text": "Chủ trì (ghi thêm)",
                "participants_text": "Thành phần (ghi thêm)", "location": "Địa điểm", "notes": "Ghi chú"}
S = WeekState


class WrongState(NotAllowed):
    """The week is not in a state where this action is possible (403 with the reason)."""


# --- weeks and days --------------------------------------------------------------------------------

def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(text: str | None) -> date:
    """Any day of the week as ``2026-03-05`` or an ISO week ``2026-W10``; anything else (or
    nothing) is this week, so a mistyped address still lands somewhere useful."""
    text = (text or "").strip().upper()
    try:
        if "-W" in text:
            year, week = text.split("-W", 1)
            return date.fromisocalendar(int(year), int(week[:2]), 1)
        if text:
            return monday_of(date.fromisoformat(text))
    except ValueError:
        pass
    return monday_of(local_today())


def day_heading(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day:%d/%m}"


def week_title(monday: date) -> str:
    return f"từ ngày {monday:%d/%m/%Y} đến ngày {monday + timedelta(days=6):%d/%m/%Y}"


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


def available_actions(user: User, cal: Calendar, week: Week | None) -> set[str]:
    state = week.state if week is not None else S.DRAFT
    actions: set[str] = set()
    if is_editor(user, cal):
        if state in (S.DRAFT, S.PUBLISHED):
            actions.add("edit")
        if state == S.DRAFT:
            actions.add("submit")
    if is_approver(user, cal) and state == S.SUBMITTED:
        actions |= {"approve", "return"}
    elif is_approver(user, cal) and state == S.APPROVED:
        actions |= {"publish", "return"}
    return actions


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
    for (org, unit), key in zip(wanted, keys, strict=True):
        cal = found.get(key)
        if cal is None:
            cal = found[key] = Calendar(organisation=org, unit=unit, key=key)
            session.add(cal)
            session.flush()
        else:  # the page names them: already loaded, so no query per calendar (nothing is changed)
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


def _week(cal: Calendar, monday: date) -> Week:
    week = find_week(cal, monday)
    if week is None:
        week = Week(calendar=cal, monday=monday, state=S.DRAFT, revision=0)
        session.add(week)
        session.flush()
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


# --- entries -----------------------------------------------------------------------------------------

@dataclass
class EntryData:
    day: date | None
    start: time | None = None
    end: time | None = None
    all_day: bool = False
    content: str = ""
    presiding_ids: list[int] = field(default_factory=list)
    presiding_text: str = ""
    participant_ids: list[int] = field(default_factory=list)
    unit_ids: list[int] = field(default_factory=list)
    participants_text: str = ""
    location: str = ""
    preparing_unit_id: int | None = None
    notes: str = ""


def _validate(cal: Calendar, monday: date, data: EntryData) -> EntryData:
    errors: dict[str, str] = {}
    if data.day is None or not monday <= data.day <= monday + timedelta(days=6):
        errors["day"] = "Chọn một ngày trong tuần này."
    if data.all_day:
        data.start = data.end = None
    elif data.start is None:
        errors["start"] = "Nhập giờ bắt đầu hoặc chọn “Cả ngày”."
    elif data.end is not None and data.end <= data.start:
        errors["end"] = "Giờ kết thúc phải sau giờ bắt đầu."
    for name, limit in LIMITS.items():
        value = nfc(getattr(data, name)) or ""
        setattr(data, name, value)
        if len(value) > limit:
            errors[name] = f"{FIELD_LABELS[name]} tối đa {limit:,} ký tự (đang có {len(value):,}).".replace(",", ".")
    if not data.content:
        errors["content"] = "Nhập nội dung công việc."
    people = {u.id for u in people_of(cal.organisation_id)}
    if not set(data.presiding_ids) <= {u.id for u in leaders_of(cal.organisation_id)}:
        errors["presiding_ids"] = "Người chủ trì phải là lãnh đạo của cơ quan."
    if not set(data.participant_ids) <= people:
        errors["participant_ids"] = "Thành phần phải là người của cơ quan."
    units = {u.id for u in units_of(cal.organisation_id)}
    if not set(data.unit_ids) <= units:
        errors["unit_ids"] = "Đơn vị tham dự phải thuộc cơ quan."
    if data.preparing_unit_id is not None and data.preparing_unit_id not in units:
        errors["preparing_unit_id"] = "Đơn vị chuẩn bị phải thuộc cơ quan."
    if errors:
        raise ValidationFailed(errors)
    return data


def check_entry(cal: Calendar, monday: date, data: EntryData) -> None:
    """The rules alone, for a form that already failed elsewhere: every message at once."""
    _validate(cal, monday, data)


def _apply(entry: Entry, data: EntryData) -> None:
    entry.day = data.day  # type: ignore[assignment]  (validated)
    entry.all_day = data.all_day
    entry.start_time, entry.end_time = data.start, data.end
    entry.content = data.content
    entry.presiding_text = data.presiding_text or None
    entry.participants_text = data.participants_text or None
    entry.location = data.location or None
    entry.notes = data.notes or None
    entry.preparing_unit = session.get(Organisation, data.preparing_unit_id) if data.preparing_unit_id else None
    entry.presiding = [session.get(User, i) for i in dict.fromkeys(data.presiding_ids)]  # type: ignore[misc]
    entry.participants = [session.get(User, i) for i in dict.fromkeys(data.participant_ids)]  # type: ignore[misc]
    entry.participant_units = [session.get(Organisation, i) for i in dict.fromkeys(data.unit_ids)]  # type: ignore[misc]


def _can_edit(actor: User, week: Week | None, cal: Calendar, action: str) -> None:
    if not is_editor(actor, cal):
        raise NotAllowed(f"schedules.{action}", "Chỉ người lập lịch của lịch này mới được thêm, sửa hoặc hủy mục lịch.")
    if week is not None and week.state not in (S.DRAFT, S.PUBLISHED):
        raise WrongState(f"schedules.{action}", f"Lịch tuần đang ở trạng thái “{week.state.label}”, không sửa được; "
                                                "người duyệt cần trả lại để sửa.")


def _went_live(entry: Entry, mark: ChangeMark) -> None:
    """A change to a published week: mark it, bump SEQUENCE and the week's revision."""
    now = utcnow()
    entry.change_mark = mark
    entry.changed_at = now
    entry.week.revision += 1
    entry.week.revised_at = now


def add_entry(actor: User, cal: Calendar, monday: date, data: EntryData) -> tuple[Entry, list[Conflict]]:
    _can_edit(actor, find_week(cal, monday), cal, "entry_add")
    data = _validate(cal, monday, data)
    week = _week(cal, monday)
    entry = Entry(week=week, uid=f"{uuid.uuid4()}@lich-cong-tac", sequence=0, created_by_id=actor.id)
    _apply(entry, data)
    session.add(entry)
    session.flush()
    if week.is_published:
        _went_live(entry, ChangeMark.ADDED)
    found = _record_conflicts(entry)
    audit.record(actor, "schedules.entry_added", entry, organisation_id=cal.organisation_id,
                 details={"week": monday.isoformat(), "revision": week.revision,
                          **({"conflicts": [c.entry.id for c in found]} if found else {})})
    return entry, found


def update_entry(actor: User, entry: Entry, data: EntryData) -> tuple[Entry, list[Conflict]]:
    week, cal = entry.week, entry.week.calendar
    _can_edit(actor, week, cal, "entry_change")
    if entry.cancelled:
        raise WrongState("schedules.entry_change", "Mục lịch đã hủy, không sửa được.")
    data = _validate(cal, week.monday, data)
    before = snapshot(entry)
    _apply(entry, data)
    session.flush()
    after = snapshot(entry)
    if after == before:
        return entry, conflicts_of(entry)
    entry.sequence += 1
    entry.updated_at = utcnow()
    if week.is_published:
        if entry.change_mark is None:
            entry.previous = json.dumps(before, ensure_ascii=False)
            _went_live(entry, ChangeMark.CHANGED)
        else:  # "Bổ sung" stays an addition; "Điều chỉnh" keeps the values first published
            _went_live(entry, entry.change_mark)
    found = _record_conflicts(entry)
    audit.record(actor, "schedules.entry_changed", entry, organisation_id=cal.organisation_id,
                 details={"changed": sorted(k for k in after if after[k] != before[k]), "revision": week.revision,
                          **({"conflicts": [c.entry.id for c in found]} if found else {})})
    return entry, found


def cancel_entry(actor: User, entry: Entry) -> Entry | None:
    """Before publication a mistaken entry is simply removed; after it, readers must see that it
    was cancelled, so it stays, marked "Hủy" (and STATUS:CANCELLED in calendar programs)."""
    week, cal = entry.week, entry.week.calendar
    _can_edit(actor, week, cal, "entry_cancel")
    if not week.is_published:
        audit.record(actor, "schedules.entry_deleted", entry, organisation_id=cal.organisation_id,
                     details={"week": week.monday.isoformat(), "content": entry.content[:200]})
        session.delete(entry)
        session.flush()
        return None
    if entry.cancelled:
        raise WrongState("schedules.entry_cancel", "Mục lịch này đã hủy.")
    entry.sequence += 1
    _went_live(entry, ChangeMark.CANCELLED)
    audit.record(actor, "schedules.entry_cancelled", entry, organisation_id=cal.organisation_id,
                 details={"revision": week.revision})
    return entry


# --- double booking ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    entry: Entry
    people: list[User]

    @property
    def text(self) -> str:
        names = ", ".join(u.full_name for u in self.people)
        return f"{names}: {day_heading(self.entry.day)} {time_label(self.entry)}, “{self.entry.content[:80]}”"


def interval(entry: Entry) -> tuple[datetime, datetime]:
    """Half-open, so 08:00–09:00 and 09:00–10:00 do not collide; all day covers the whole day."""
    if entry.all_day or entry.start_time is None:
        start = datetime.combine(entry.day, time.min)
        return start, start + timedelta(days=1)
    start = datetime.combine(entry.day, entry.start_time)
    end = datetime.combine(entry.day, entry.end_time) if entry.end_time else start + DEFAULT_LENGTH
    return start, end


def _people(entry: Entry) -> set[int]:
    return {u.id for u in entry.presiding} | {u.id for u in entry.participants}


def conflicts_of(entry: Entry) -> list[Conflict]:
    """Other live entries, in any calendar of the same organisation and any state, that share a
    presiding leader or participant and overlap in time."""
    mine = _people(entry)
    if entry.cancelled or not mine:
        return []
    others = session.execute(
        select(Entry).join(Week, Week.id == Entry.week_id).join(Calendar, Calendar.id == Week.calendar_id).where(
            Calendar.organisation_id == entry.week.calendar.organisation_id, Entry.day == entry.day,
            Entry.id != entry.id, or_(Entry.change_mark.is_(None), Entry.change_mark != ChangeMark.CANCELLED),
        ).order_by(Entry.start_time, Entry.id)).scalars()
    start, end = interval(entry)
    found = []
    for other in others:
        shared = mine & _people(other)
        o_start, o_end = interval(other)
        if shared and start < o_end and o_start < end:
            people = [u for u in [*other.presiding, *other.participants] if u.id in shared]
            found.append(Conflict(other, list({u.id: u for u in people}.values())))
    return found


def _record_conflicts(entry: Entry) -> list[Conflict]:
    """Saving is allowed anyway; which overlaps the editor saw and saved over is kept."""
    found = conflicts_of(entry)
    entry.conflicts = json.dumps([c.entry.id for c in found]) if found else None
    return found


# --- display -----------------------------------------------------------------------------------------

def time_label(entry: Entry) -> str:
    if entry.all_day or entry.start_time is None:
        return "Cả ngày"
    if entry.end_time:
        return f"{entry.start_time:%H:%M} – {entry.end_time:%H:%M}"
    return f"{entry.start_time:%H:%M}"


def _join(*parts: str | None) -> str:
    return "; ".join(p for p in parts if p)


def snapshot(entry: Entry) -> dict[str, str]:
    """What a reader sees of an entry, as text: compared before and after a change, and kept as
    the struck-through old values."""
    return {
        "day": entry.day.isoformat(),
        "time": time_label(entry),
        "content": entry.content,
        "presiding": _join(*(u.full_name for u in entry.presiding), entry.presiding_text),
        "participants": _join(*(u.full_name for u in entry.participants),
                              *(u.name for u in entry.participant_units), entry.participants_text),
        "location": entry.location or "",
        "preparing": entry.preparing_unit.name if entry.preparing_unit else "",
        "notes": entry.notes or "",
    }


@dataclass(frozen=True)
class Row:
    entry: Entry
    values: dict[str, str]
    old: dict[str, str]  # the fields changed since publication: what readers saw before

    @property
    def session(self) -> str:
        e = self.entry
        return "sang" if e.all_day or e.start_time is None or e.start_time < NOON else "chieu"


def row_of(entry: Entry) -> Row:
    values = snapshot(entry)
    old: dict[str, str] = {}
    if entry.change_mark == ChangeMark.CHANGED:
        before = entry.previous_values
        old = {k: v for k, v in before.items() if k != "day" and v != values.get(k)}
        if before.get("day") and before["day"] != values["day"]:
            old["time"] = f"{day_heading(date.fromisoformat(before['day']))} {before.get('time', '')}"
    return Row(entry, values, old)


def _order(entry: Entry) -> tuple[date, int, time, int]:
    return entry.day, 0 if entry.all_day else 1, entry.start_time or time.min, entry.id


@dataclass(frozen=True)
class Day:
    day: date
    heading: str
    sessions: list[tuple[str, str, list[Row]]]  # (slug, "Sáng"/"Chiều", rows)


def layout(monday: date, entries: list[Entry]) -> list[Day]:
    rows = [row_of(e) for e in sorted(entries, key=_order)]
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        today = [r for r in rows if r.entry.day == day]
        days.append(Day(day, day_heading(day), [
            ("sang", "Sáng", [r for r in today if r.session == "sang"]),
            ("chieu", "Chiều", [r for r in today if r.session == "chieu"]),
        ]))
    return days


# --- workflow ----------------------------------------------------------------------------------------

def _state(week: Week, action: str, *allowed: WeekState) -> None:
    if week.state not in allowed:
        raise WrongState(f"schedules.{action}",
                         f"Lịch tuần đang ở trạng thái “{week.state.label}”, không thể thực hiện thao tác này.")


def _approver_only(actor: User, cal: Calendar, action: str) -> None:
    if not is_approver(actor, cal):
        who = "lãnh đạo cơ quan" if cal.unit_id is None else "lãnh đạo đơn vị"
        raise NotAllowed(f"schedules.{action}", f"Chỉ {who} mới được duyệt, trả lại hoặc công bố lịch này.")


def _record(actor: User, action: str, week: Week, **details: object) -> None:
    audit.record(actor, f"schedules.{action}", week, organisation_id=week.calendar.organisation_id,
                 details={"week": week.monday.isoformat(), "state": week.state.value, **details})


def submit(actor: User, cal: Calendar, monday: date) -> Week:
    if not is_editor(actor, cal):
        raise NotAllowed("schedules.submit", "Chỉ người lập lịch của lịch này mới được gửi duyệt.")
    week = _week(cal, monday)
    _state(week, "submit", S.DRAFT)
    week.state, week.submitted_by_id, week.submitted_at = S.SUBMITTED, actor.id, utcnow()
    _record(actor, "submit", week)
    return week


def approve(actor: User, week: Week) -> Week:
    _approver_only(actor, week.calendar, "approve")
    _state(week, "approve", S.SUBMITTED)
    week.state, week.approved_by_id, week.approved_at = S.APPROVED, actor.id, utcnow()
    _record(actor, "approve", week)
    return week


def return_week(actor: User, week: Week, comment: str) -> Week:
    _approver_only(actor, week.calendar, "return")
    _state(week, "return", S.SUBMITTED, S.APPROVED)
    comment = nfc(comment) or ""
    if not comment:
        raise ValidationFailed({"comment": "Nhập lý do trả lại để người lập lịch biết cần sửa gì."})
    if len(comment) > 1000:
        raise ValidationFailed({"comment": "Lý do trả lại tối đa 1.000 ký tự."})
    week.state, week.returned_by_id, week.returned_at, week.return_comment = S.DRAFT, actor.id, utcnow(), comment
    week.approved_by_id = week.approved_at = None
    _record(actor, "return", week, comment=comment[:200])
    return week


def publish(actor: User, week: Week) -> Week:
    _approver_only(actor, week.calendar, "publish")
    _state(week, "publish", S.APPROVED)
    week.state, week.published_by_id, week.published_at, week.revision = S.PUBLISHED, actor.id, utcnow(), 1
    _record(actor, "publish", week)
    return week


# --- private iCalendar feeds -------------------------------------------------------------------------

def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feeds_of(user: User) -> list[FeedToken]:
    return list(session.execute(select(FeedToken).where(FeedToken.user_id == user.id, FeedToken.revoked_at.is_(None))
                                .order_by(FeedToken.id)).scalars())


def create_feed(actor: User, kind: FeedKind) -> tuple[FeedToken, str]:
    """The secret is returned once, to show; only its hash is kept."""
    org = _organisation(actor)
    secret = secrets.token_urlsafe(32)
    token = FeedToken(user_id=actor.id, kind=kind, organisation_id=org.id, token_hash=_hash(secret))
    session.add(token)
    session.flush()
    audit.record(actor, "schedules.feed_created", token, organisation_id=org.id, details={"kind": kind.value})
    return token, secret


def revoke_feed(actor: User, token_id: int) -> FeedToken:
    token = session.get(FeedToken, token_id)
    if token is None or token.user_id != actor.id or token.revoked_at is not None:
        raise NotFound()
    token.revoked_at = utcnow()
    audit.record(actor, "schedules.feed_revoked", token, organisation_id=token.organisation_id)
    return token


def feed(secret: str) -> tuple[FeedToken, list[Entry]]:
    """What a calendar program fetches, without a sign-in: the token names the person and what
    they may see now; a revoked token, a disabled person or a person who left the organisation
    gets 404. Published weeks only; document content never."""
    token = session.execute(select(FeedToken).where(FeedToken.token_hash == _hash(secret))).scalar_one_or_none()
    if token is None or token.revoked_at is not None or token.user.status != UserStatus.ACTIVE:
        raise NotFound()
    pos = next((p for p in token.user.active_positions() if p.organisation_id == token.organisation_id), None)
    if pos is None:
        raise NotFound()
    token.last_used_at = utcnow()
    org = token.organisation
    wanted: list[tuple[Organisation, Organisation | None]] = [(org, None)]
    if token.kind != FeedKind.ORGANISATION:
        wanted += [(org, u) for u in units_of(org.id)]
        root = session.get(Organisation, org.ancestor_ids[0]) if org.ancestor_ids else None
        if root is not None:
            wanted.append((root, None))
    cals = _calendars(wanted)
    cals = [c for c in cals if _reader(pos, c)]
    entries = list(session.execute(
        select(Entry).join(Week, Week.id == Entry.week_id).where(
            Week.calendar_id.in_([c.id for c in cals]), Week.state == S.PUBLISHED,
            Week.monday >= monday_of(local_today()) - FEED_HISTORY).order_by(Entry.day, Entry.start_time)).scalars())
    if token.kind == FeedKind.PERSON:
        entries = [e for e in entries if token.user_id in _people(e)
                   or (pos.unit_id is not None and pos.unit_id in {u.id for u in e.participant_units})]
    return token, entries
