"""Vietnam time. Stored instants are UTC; year boundaries, "today" and display use the
configured zone (Asia/Ho_Chi_Minh, UTC+7, no DST), never the server's or UTC's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def zone() -> ZoneInfo:
    name = current_app.config["TIMEZONE"] if has_app_context() else DEFAULT_ZONE
    return ZoneInfo(name)


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("Thời điểm thiếu múi giờ.")
    return moment.astimezone(zone())


def local_today() -> date:
    return now_utc().astimezone(zone()).date()


def local_year(moment: datetime | None = None) -> int:
    """Numbering years turn over at midnight Vietnam time: 00:30 on 1 January local time is
    17:30 on 31 December UTC and already belongs to the new year (SPEC §4.3.2)."""
    return to_local(moment or now_utc()).year


def iso_local(moment: datetime) -> str:
    """ISO 8601 with the +07:00 offset, as exchanged and audited (SPEC §16)."""
    return to_local(moment).isoformat(timespec="seconds")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_local(value).strftime("%d/%m/%Y %H:%M")


def parse_date(text: str) -> date:
    """"05/03/2026" → date(2026, 3, 5); anything else (31/02, 2026-03-05, 5/3/26) raises ValueError."""
    parts = text.strip().split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        raise ValueError(text)
    day, month, year = (int(p) for p in parts)
    return date(year, month, day)
