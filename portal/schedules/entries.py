"""Entries of a week: the rules, add / change / cancel with their post-publication marks, and the
double-booking check (SPEC §9). Each step locks the week's row first and asks the tables in
``workflow.py`` whether this person may act on it now.

After publication an editor's change goes live at once as a new revision, without approval
again: the entry is marked ("Bổ sung", "Điều chỉnh" keeping the values readers saw, "Hủy"), its
iCalendar SEQUENCE goes up, and the week's revision number too.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select

from portal import audit
from portal.auth.models import User
from portal.db import session, utcnow
from portal.errors import NotFound, ValidationFailed
from portal.orgs.models import Organisation
from portal.schedules.access import ensure_week, find_week, leaders_of, people_among, units_of
from portal.schedules.display import day_heading, snapshot, time_label
from portal.schedules.models import Calendar, ChangeMark, Entry, Week
from portal.schedules.workflow import ENTRY, WEEK, Unsaved, deleted
from portal.text import nfc
from portal.workflow import AlreadyDone, lock, relock

DEFAULT_LENGTH = timedelta(hours=1)  # an entry without an end time counts as one hour (SPEC §9)
LIMITS = {"content": 1000, "presiding_text": 300, "participants_text": 500, "location": 200, "notes": 500}
FIELD_LABELS = {"content": "Nội dung", "presiding_text": "Chủ trì (ghi thêm)",
                "participants_text": "Thành phần (ghi thêm)", "location": "Địa điểm", "notes": "Ghi chú"}


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
    if not set(data.presiding_ids) <= {u.id for u in leaders_of(cal.organisation_id)}:
        errors["presiding_ids"] = "Người chủ trì phải là lãnh đạo của cơ quan."
    if not set(data.participant_ids) <= {u.id for u in people_among(cal.organisation_id, data.participant_ids)}:
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


def _went_live(entry: Entry, mark: ChangeMark) -> None:
    """A change to a published week: mark it, bump SEQUENCE and the week's revision."""
    now = utcnow()
    entry.change_mark = mark
    entry.changed_at = now
    entry.week.revision += 1
    entry.week.revised_at = now


def locked_entry(actor: User, entry: Entry) -> Entry:
    """The entry re-read under its week's lock. One removed meanwhile (before publication) is
    AlreadyDone for a person who could have removed it, else 404."""
    entry_id, week_id = entry.id, entry.week_id
    lock(session, Week, week_id)
    found = lock(session, Entry, entry_id)
    if found is None:
        gone = deleted(actor, entry_id)
        if gone is None:
            raise NotFound()
        raise AlreadyDone(gone[0], action="schedule_entry.cancel")
    return found


def add_entry(actor: User, cal: Calendar, monday: date, data: EntryData) -> tuple[Entry, list[Conflict]]:
    existing = find_week(cal, monday)
    WEEK.guard(actor, "edit", relock(session, existing) if existing else Unsaved(cal, monday))
    data = _validate(cal, monday, data)
    week = existing or ensure_week(cal, monday)
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
    entry = locked_entry(actor, entry)
    ENTRY.guard(actor, "change", entry)
    week, cal = entry.week, entry.week.calendar
    data = _validate(cal, week.monday, data)
    before = snapshot(entry)
    _apply(entry, data)
    session.flush()
    after = snapshot(entry)
    if after == before:  # nothing changed (also: the same form sent twice): no revision, no audit row
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
    entry = locked_entry(actor, entry)
    ENTRY.guard(actor, "cancel", entry)
    week, cal = entry.week, entry.week.calendar
    if not week.is_published:
        audit.record(actor, "schedules.entry_deleted", entry, organisation_id=cal.organisation_id,
                     details={"week": week.monday.isoformat(), "calendar_id": cal.id, "content": entry.content[:200]})
        session.delete(entry)
        session.flush()
        return None
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


def people_in(entry: Entry) -> set[int]:
    return {u.id for u in entry.presiding} | {u.id for u in entry.participants}


def conflicts_of(entry: Entry) -> list[Conflict]:
    """Other live entries, in any calendar of the same organisation and any state, that share a
    presiding leader or participant and overlap in time."""
    mine = people_in(entry)
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
        shared = mine & people_in(other)
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
