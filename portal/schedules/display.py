"""How a week reads: its days and headings, an entry's time and values as text (compared before
and after a change, kept as the struck-through old values), and the page's layout by session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from portal.schedules.models import ChangeMark, Entry
from portal.timeutil import local_today

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
NOON = time(12)


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


# --- entries as text ---------------------------------------------------------------------------------

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
