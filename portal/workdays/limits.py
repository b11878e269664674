"""Legal time limits of the procedures (SPEC §5.3, §6.3, §17 #11), as settings:

==========================  =============  ==========================================================
setting (PORTAL_…)          default        meaning
==========================  =============  ==========================================================
LIMIT_REGISTER              0d             an arrival is registered the same working day
LIMIT_ISSUE                 1d@12:00       a signed document is issued by 12:00 of the next working day
LIMIT_URGENT                0d             Khẩn: both, the same working day
LIMIT_MOST_URGENT           2h             Thượng khẩn, Hỏa tốc: both, within 2 working hours
LIMIT_WARN_HOURS            2              "near the limit" = this many working hours or less left
==========================  =============  ==========================================================

A limit is written ``Nd`` (the end of the N-th working day after the start's day; 0 = that very
working day), ``Nd@HH:MM`` (that clock time instead of closing time) or ``Nh`` / ``Nm`` (N working
hours or minutes). A start after closing time, or on a day off, counts from the next working day.

Features say what runs against these limits: each registers a *source* (``register_source``)
that lists its items near or past a limit for a person or an organisation; ``near_or_past`` asks
them all (the notifications of issue 18 will read it). The core knows no feature.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app, has_app_context

from portal.timeutil import local_today, now_utc, to_local
from portal.workdays.calendar import add_working_days, effective_deadline, is_working_day, working_days_between
from portal.workdays.hours import (
    add_working_hours,
    at,
    closing_time,
    end_of_day,
    hours_per_day,
    parse_clock,
    working_time_between,
)

DEFAULTS = {"LIMIT_REGISTER": "0d", "LIMIT_ISSUE": "1d@12:00", "LIMIT_URGENT": "0d", "LIMIT_MOST_URGENT": "2h"}
PROCEDURES = {"register": "LIMIT_REGISTER", "issue": "LIMIT_ISSUE"}
URGENT, VERY_URGENT = 1, 2  # Urgency levels (portal.documents.models.Urgency): Khẩn, Thượng khẩn and above
PATTERN = re.compile(r"^(?:(?P<days>\d{1,2})d(?:@(?P<at>\d{1,2}:\d{2}))?|(?P<hours>\d{1,3})h|(?P<minutes>\d{1,4})m)$")


@dataclass(frozen=True)
class Limit:
    days: int | None = None
    at: time | None = None
    office_time: timedelta | None = None

    def due(self, start: datetime) -> datetime:
        """When the work started at ``start`` (aware) must be done."""
        if self.office_time is not None:
            return add_working_hours(start, self.office_time)
        local = to_local(start)
        base = local.date()
        if is_working_day(base) and local.time() >= closing_time():
            base += timedelta(days=1)  # after closing: the day's work begins on the next working day
        day = add_working_days(base, self.days or 0)
        return at(day, self.at) if self.at is not None else end_of_day(day)


def parse_limit(key: str, text: str) -> Limit:
    """ValueError naming the setting when it cannot be read."""
    found = PATTERN.match((text or "").strip())
    if found is None:
        raise ValueError(f"PORTAL_{key} không hợp lệ ({text!r}): hãy viết 0d, 1d@12:00, 2h hoặc 30m.")
    if found["hours"] or found["minutes"]:
        minutes = int(found["hours"]) * 60 if found["hours"] else int(found["minutes"])
        if minutes == 0:
            raise ValueError(f"PORTAL_{key} không hợp lệ ({text!r}): thời hạn phải lớn hơn 0.")
        return Limit(office_time=timedelta(minutes=minutes))
    try:
        moment = parse_clock(found["at"]) if found["at"] else None
    except ValueError:
        raise ValueError(f"PORTAL_{key} không hợp lệ ({text!r}): giờ phải như 12:00.") from None
    return Limit(days=int(found["days"]), at=moment)


def check_settings(settings: dict[str, Any]) -> None:
    """Start-up check: every limit and the office hours can be read (ValueError naming the key)."""
    from portal.workdays.hours import parse_hours

    parse_hours(str(settings.get("WORK_HOURS", "")))
    for key, default in DEFAULTS.items():
        parse_limit(key, str(settings.get(key, default)))
    for key in ("LIMIT_WARN_HOURS", "DUE_SOON_WORKING_DAYS", "WORKDAYS_CACHE_SECONDS"):
        value = settings.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"PORTAL_{key} phải là số nguyên không âm (đang là {value!r}).")


def _setting(key: str) -> Any:
    if has_app_context():
        return current_app.config.get(key, DEFAULTS.get(key))
    return DEFAULTS.get(key)


def limit_for(procedure: str, urgency: int | None) -> Limit:
    """The limit of ``procedure`` ("register", "issue") for a document of this urgency."""
    level = int(urgency or 0)
    key = "LIMIT_MOST_URGENT" if level >= VERY_URGENT else "LIMIT_URGENT" if level == URGENT else PROCEDURES[procedure]
    return parse_limit(key, str(_setting(key)))


def due_for(procedure: str, start: datetime, urgency: int | None) -> datetime:
    return limit_for(procedure, urgency).due(start)


def warn_time() -> timedelta:
    return timedelta(hours=int(_setting("LIMIT_WARN_HOURS") or 2))


def due_soon_days() -> int:
    return int(_setting("DUE_SOON_WORKING_DAYS") or 1)


# --- what a list shows ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Remaining:
    """"còn 2 giờ làm việc", "trễ 1 ngày làm việc": ``level`` is ok, soon or late (the badge's colour)."""

    label: str
    level: str
    due: datetime | date

    @property
    def late(self) -> bool:
        return self.level == "late"


def _span(amount: timedelta) -> str:
    minutes = int(amount.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{max(minutes, 1)} phút"
    return f"{hours} giờ" + (f" {minutes} phút" if minutes else "")


def describe(due: datetime, now: datetime | None = None) -> Remaining:
    """How far an instant limit is in working time: hours and minutes while less than a working day
    is left (or late), else working days."""
    now = now or now_utc()
    today, due_day = to_local(now).date(), to_local(due).date()
    if now <= due:
        days = working_days_between(today, due_day)
        if days >= 2:  # a whole working day lies between: a day or more left, no need to walk the hours
            return Remaining(f"còn {days} ngày làm việc", "ok", due)
        left = working_time_between(now, due)
        if due_day == today or left < hours_per_day():
            return Remaining(f"còn {_span(left)} làm việc", "soon" if left <= warn_time() else "ok", due)
        return Remaining(f"còn {days} ngày làm việc", "ok", due)
    days = working_days_between(due_day, today)
    if days >= 2:  # as above: late by a whole working day or more
        return Remaining(f"trễ {days} ngày làm việc", "late", due)
    late_by = working_time_between(due, now)
    if due_day == today or late_by < hours_per_day():
        return Remaining(f"trễ {_span(late_by)} làm việc", "late", due)
    return Remaining(f"trễ {max(1, days)} ngày làm việc", "late", due)


def describe_deadline(deadline: date, today: date | None = None) -> Remaining:
    """A deadline given as a day (hạn xử lý): working days left, "hạn hôm nay", or working days late.
    A deadline on a day off runs to the next working day."""
    today = today or local_today()
    due = effective_deadline(deadline)
    if due == today:
        return Remaining("hạn hôm nay", "soon", deadline)
    if due > today:
        left = working_days_between(today, due)
        return Remaining(f"còn {left} ngày làm việc", "soon" if left <= due_soon_days() else "ok", deadline)
    return Remaining(f"trễ {max(1, working_days_between(due, today))} ngày làm việc", "late", deadline)


# --- the sources: features list their items near or past a limit ----------------------------------------

@dataclass(frozen=True)
class LimitItem:
    """One piece of work running against a limit: what (``kind`` "register" / "issue", the object),
    whose (the organisation), when due, and how far."""

    kind: str
    object_type: str
    object_id: int
    organisation_id: int
    title: str
    urgency: int
    due: datetime
    remaining: Remaining


Source = Callable[..., list[LimitItem]]  # (user=…, organisation_id=…, now=…, before=…) → items
SOURCES: dict[str, Source] = {}


def register_source(name: str, source: Source) -> None:
    SOURCES[name] = source


def near_or_past(*, user: Any = None, organisation_id: int | None = None,
                 now: datetime | None = None) -> list[LimitItem]:
    """Every item near its limit (``LIMIT_WARN_HOURS`` of working time left or less) or past it, for
    a person (the items they must act on) or an organisation (all of its items); most urgent first."""
    now = now or now_utc()
    before = add_working_hours(now, warn_time())
    items = [item for source in SOURCES.values()
             for item in source(user=user, organisation_id=organisation_id, now=now, before=before)]
    return sorted(items, key=lambda i: (i.due, -i.urgency, i.object_id))
