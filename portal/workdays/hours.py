"""Working hours (SPEC §16): the office hours of every working day, a setting
(``PORTAL_WORK_HOURS``, default "07:30-11:30,13:00-17:00" in Asia/Ho_Chi_Minh). "Within 2 working
hours" from 16:30 on a Friday ends at 09:00 on Monday; from 12:00 it ends at 15:00 (the lunch
break does not count)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import current_app, has_app_context

from portal.timeutil import to_local, zone
from portal.workdays.calendar import SEARCH_LIMIT, is_working_day

DEFAULT_HOURS = "07:30-11:30,13:00-17:00"
Span = tuple[time, time]


def parse_clock(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(text)
    return time(int(hours), int(minutes))


def parse_hours(text: str) -> list[Span]:
    """"07:30-11:30,13:00-17:00" → the spans, in order, not overlapping; ValueError in Vietnamese."""
    spans: list[Span] = []
    try:
        for part in (text or "").split(","):
            start, _, end = part.partition("-")
            spans.append((parse_clock(start), parse_clock(end)))
    except ValueError:
        raise ValueError(f"PORTAL_WORK_HOURS không hợp lệ ({text!r}): hãy viết như 07:30-11:30,13:00-17:00.") from None
    for (start, end), following in zip(spans, [*spans[1:], None], strict=True):
        if end <= start or (following is not None and following[0] < end):
            raise ValueError(f"PORTAL_WORK_HOURS không hợp lệ ({text!r}): các khoảng giờ phải tăng dần, "
                             "không chồng nhau.")
    return spans


def office_hours() -> list[Span]:
    text = current_app.config.get("WORK_HOURS", DEFAULT_HOURS) if has_app_context() else DEFAULT_HOURS
    return parse_hours(str(text))


def opening_time() -> time:
    return office_hours()[0][0]


def closing_time() -> time:
    return office_hours()[-1][1]


def at(day: date, moment: time) -> datetime:
    """That clock time of that day in Vietnam time (aware)."""
    return datetime.combine(day, moment, zone())


def end_of_day(day: date) -> datetime:
    """Closing time of ``day``."""
    return at(day, closing_time())


def _intervals(day: date) -> list[tuple[datetime, datetime]]:
    if not is_working_day(day):
        return []
    return [(at(day, start), at(day, end)) for start, end in office_hours()]


def add_working_hours(start: datetime, amount: timedelta) -> datetime:
    """The instant ``amount`` of office time after ``start`` (an aware datetime)."""
    moment = to_local(start)
    remaining = amount
    day = moment.date()
    for _ in range(SEARCH_LIMIT):
        for begin, end in _intervals(day):
            if end <= moment:
                continue
            begin = max(begin, moment)
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        day += timedelta(days=1)
    raise ValueError("Không tìm thấy giờ làm việc trong 400 ngày: lịch ngày nghỉ có lỗi.")


def working_time_between(a: datetime, b: datetime) -> timedelta:
    """Office time from ``a`` to ``b`` (negative when ``b`` is earlier)."""
    if b < a:
        return -working_time_between(b, a)
    first, last = to_local(a), to_local(b)
    total = timedelta()
    day = first.date()
    while day <= last.date():
        for begin, end in _intervals(day):
            overlap = min(end, last) - max(begin, first)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total


def hours_per_day() -> timedelta:
    return sum((datetime.combine(date.min, end) - datetime.combine(date.min, start)
                for start, end in office_hours()), timedelta())
