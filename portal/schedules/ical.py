"""The private iCalendar feed (RFC 5545, SPEC §9): ``build_feed(name, entries) -> bytes``.

Times are wall-clock times in Vietnam, so every DTSTART carries ``TZID=Asia/Ho_Chi_Minh`` with a
VTIMEZONE for programs that do not know the zone; all-day entries are DATE values. The UID is the
entry's own and never changes; SEQUENCE is the entry's change counter, so a program replaces its
copy; a cancelled entry stays in the feed as ``STATUS:CANCELLED`` so it disappears from phones.
Only what the printed schedule shows goes out: no document content.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar as ICalendar
from icalendar import Event

from portal.db import utcnow
from portal.schedules import services
from portal.schedules.models import Entry

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def build_feed(name: str, entries: Iterable[Entry]) -> bytes:
    cal = ICalendar()
    cal.add("prodid", "-//QLVB-DH//Lich cong tac tuan//VI")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", ZONE.key)
    stamp = utcnow()
    for entry in entries:
        cal.add_component(_event(entry, stamp))
    cal.add_missing_timezones()
    return cal.to_ical()


def _event(entry: Entry, stamp: datetime) -> Event:
    values = services.snapshot(entry)
    event = Event()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", stamp)
    event.add("last-modified", entry.changed_at or entry.updated_at)
    if entry.all_day or entry.start_time is None:
        event.add("dtstart", entry.day)
        event.add("dtend", entry.day + timedelta(days=1))
    else:
        start, end = services.interval(entry)
        event.add("dtstart", start.replace(tzinfo=ZONE))
        event.add("dtend", end.replace(tzinfo=ZONE))
    event.add("summary", values["content"])
    if values["location"]:
        event.add("location", values["location"])
    lines = [f"{label}: {values[key]}" for key, label in
             (("presiding", "Chủ trì"), ("participants", "Thành phần"), ("preparing", "Đơn vị chuẩn bị"),
              ("notes", "Ghi chú")) if values[key]]
    if entry.change_mark is not None:
        lines.insert(0, entry.change_mark.label)
    if lines:
        event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    return event
