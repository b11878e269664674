"""Working days (SPEC §16): Monday to Friday, except Vietnam's public holidays (Tết included) as the
``holidays`` package knows them, with the package's own compensating Saturdays worked; then the days
IT adds per year (``WorkdayOverride``) decide over both.

A year's calendar is read once and kept per application for ``WORKDAYS_CACHE_SECONDS`` (a change
made here forgets it at once; other workers see it within that time). Outside an application (a
script, a unit test without one) only the package's days count.

Counting conventions, used everywhere:

- ``add_working_days(d, 0)`` is ``d`` when it is a working day, else the next one: a limit of "the
  same working day" that starts on a Sunday ends on Monday;
- ``add_working_days(d, n)`` (n > 0) is the n-th working day after ``d``: Friday + 1 is Monday;
- ``working_days_between(a, b)`` counts the working days after ``a`` up to and including ``b``
  (negative when ``b`` is before ``a``): Friday → Monday is 1;
- a deadline that falls on a day off runs to the end of the next working day (the civil code's
  rule for time limits, Bộ luật Dân sự 2015 Điều 148): ``effective_deadline``.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays
from flask import current_app, has_app_context
from sqlalchemy import select

from portal.db import session
from portal.workdays.models import OverrideKind, WorkdayOverride

WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
FIRST_YEAR, LAST_YEAR = 1995, 2100  # the package's Vietnamese rules start in 1995; beyond 2100 nothing is known
SEARCH_LIMIT = 400  # days: no run of days off is this long; a wrong override cannot make a loop endless


@dataclass(frozen=True)
class YearCalendar:
    """One year: the weekdays not worked and the weekend days worked, each with its reason."""

    year: int
    off: dict[date, str] = field(default_factory=dict)
    worked: dict[date, str] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        if day in self.worked:
            return True
        return day.weekday() < 5 and day not in self.off


@lru_cache(maxsize=64)
def package_year(year: int) -> YearCalendar:
    """The public holidays and compensating days of the ``holidays`` package, in Vietnamese."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return YearCalendar(year)
    known = holidays.country_holidays("VN", years=year, language="vi")
    off = {day: str(name) for day, name in known.items() if day.year == year}
    worked = {day: "Làm bù theo lịch nghỉ lễ" for day in known.weekend_workdays if day.year == year}
    return YearCalendar(year, off, worked)


def _with_overrides(base: YearCalendar, rows: list[tuple[date, OverrideKind, str]]) -> YearCalendar:
    off, worked = dict(base.off), dict(base.worked)
    for day, kind, note in rows:
        if kind == OverrideKind.DAY_OFF:
            worked.pop(day, None)
            off[day] = note or "Ngày nghỉ (quyết định của cơ quan có thẩm quyền)"
        else:
            off.pop(day, None)
            worked[day] = note or "Ngày làm bù"
    return YearCalendar(base.year, off, worked)


def _cache() -> dict[int, tuple[float, YearCalendar]]:
    return current_app.extensions.setdefault("workdays", {})


def year_calendar(year: int) -> YearCalendar:
    base = package_year(year)
    if not has_app_context():
        return base
    cache = _cache()
    now = clock.monotonic()
    kept = cache.get(year)
    if kept is not None and now - kept[0] < float(current_app.config.get("WORKDAYS_CACHE_SECONDS", 60)):
        return kept[1]
    rows = session.execute(select(WorkdayOverride.day, WorkdayOverride.kind, WorkdayOverride.note).where(
        WorkdayOverride.day >= date(year, 1, 1), WorkdayOverride.day <= date(year, 12, 31))).all()
    calendar = _with_overrides(base, [tuple(r) for r in rows])  # type: ignore[misc]
    cache[year] = (now, calendar)
    return calendar


def forget(year: int | None = None) -> None:
    """Drop what this application remembers (after a change, and in tests)."""
    if not has_app_context():
        return
    if year is None:
        _cache().clear()
    else:
        _cache().pop(year, None)


# --- days ------------------------------------------------------------------------------------------------

def is_working_day(day: date) -> bool:
    return year_calendar(day.year).is_working_day(day)


def why_off(day: date) -> str | None:
    """Why a day is not worked ("Tết Nguyên Đán", "Chủ nhật"); None for a working day."""
    calendar = year_calendar(day.year)
    if calendar.is_working_day(day):
        return None
    return calendar.off.get(day) or WEEKDAY_NAMES[day.weekday()]


def _step(day: date, direction: int) -> date:
    for _ in range(SEARCH_LIMIT):
        day += timedelta(days=direction)
        if is_working_day(day):
            return day
    raise ValueError("Không tìm thấy ngày làm việc trong 400 ngày: lịch ngày nghỉ có lỗi.")


def next_working_day(day: date) -> date:
    """The first working day after ``day``."""
    return _step(day, 1)


def previous_working_day(day: date) -> date:
    """The last working day before ``day``."""
    return _step(day, -1)


def add_working_days(day: date, n: int) -> date:
    """See the module's conventions: 0 = this working day (or the next one), n = the n-th working
    day after ``day``; negative n counts back from ``day``."""
    if n == 0:
        return day if is_working_day(day) else next_working_day(day)
    direction = 1 if n > 0 else -1
    for _ in range(abs(n)):
        day = _step(day, direction)
    return day


def _weekdays(start: date, end: date) -> int:
    """Mondays to Fridays in [start, end]."""
    weeks, rest = divmod((end - start).days + 1, 7)
    first = start.weekday()
    return weeks * 5 + sum(1 for i in range(rest) if (first + i) % 7 < 5)


def working_days_between(a: date, b: date) -> int:
    """Working days after ``a`` up to and including ``b``; negative when ``b`` is before ``a``.
    Counted a year at a time (weekdays, less the weekdays off, plus the weekend days worked), not day by day:
    an inbox of 100 items years past their deadline walked 40,000 days per page (bench/inbox.py)."""
    if b < a:
        return -working_days_between(b, a)
    count, start = 0, a + timedelta(days=1)
    while start <= b:
        end = min(b, date(start.year, 12, 31))
        year = year_calendar(start.year)
        count += _weekdays(start, end)
        count -= sum(1 for d in year.off if start <= d <= end and d.weekday() < 5 and d not in year.worked)
        count += sum(1 for d in year.worked if start <= d <= end and d.weekday() >= 5)
        start = end + timedelta(days=1)
    return count


def effective_deadline(deadline: date) -> date:
    """A deadline on a day off runs to the next working day."""
    return add_working_days(deadline, 0)


def overdue_cutoff(today: date) -> date:
    """A deadline is overdue today when it is on or before this day (the last working day before
    today): ``effective_deadline(d) < today`` exactly when ``d <= previous_working_day(today)``,
    which a query can compare with an indexed date column."""
    return previous_working_day(today)


def due_soon_cutoff(today: date, days: int) -> date:
    """A deadline is due within ``days`` working days when on or before this day."""
    return add_working_days(today, days)


def days_off(year: int) -> list[tuple[date, str]]:
    """The weekdays not worked in a year, with why (for the admin page)."""
    calendar = year_calendar(year)
    return sorted((d, why) for d, why in calendar.off.items() if d.weekday() < 5)


def weekend_worked(year: int) -> list[tuple[date, str]]:
    calendar = year_calendar(year)
    return sorted(calendar.worked.items())


def non_working_days(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last`` that is not worked (for SQL that shifts deadlines)."""
    days: list[date] = []
    day = first
    while day <= last:
        if not is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days
