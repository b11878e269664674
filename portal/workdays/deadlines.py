"""A deadline typed as a date or as "N ngày làm việc" (counted from today on the server)."""

from __future__ import annotations

from datetime import date

from portal.errors import ValidationFailed
from portal.timeutil import local_today
from portal.workdays.calendar import add_working_days

MAX_WORKING_DAYS = 365


def parse_days(text: object) -> int | None:
    """"5" → 5, "" → None; anything else ValueError (the form shows a Vietnamese message)."""
    value = str(text if text is not None else "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 3 and 1 <= int(value) <= MAX_WORKING_DAYS):
        raise ValueError(value)
    return int(value)


DAYS_MESSAGE = f"Số ngày làm việc là số nguyên từ 1 đến {MAX_WORKING_DAYS}."


def resolve(day: date | None, days: int | None, field: str, today: date | None = None) -> date | None:
    """The deadline: the date typed, or ``days`` working days after today; not both."""
    if days is None:
        return day
    if day is not None:
        raise ValidationFailed({field: "Hãy nhập hạn là một ngày hoặc một số ngày làm việc, không cả hai."})
    if not 1 <= days <= MAX_WORKING_DAYS:
        raise ValidationFailed({field: DAYS_MESSAGE})
    return add_working_days(today or local_today(), days)
