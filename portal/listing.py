"""What every document list shares (incoming, drafts, outgoing): search words, Vietnam-day
bounds, capped counts and the common query-string filters. No Flask here: the views pass their
``request.args``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from portal.text import fold
from portal.timeutil import parse_date, zone

COUNT_CAP = 999  # counts above this show as "999+": an exact count of a huge table costs a scan


def format_count(value: int, cap: int = COUNT_CAP) -> str:
    return f"{cap}+" if value > cap else f"{value:,}".replace(",", ".")


def words(text: str) -> list[str]:
    """Folded search words (at most 8); LIKE wildcards typed by the person are not wildcards."""
    return [w for w in fold(text).replace("%", " ").replace("_", " ").split() if w][:8]


def local_midnight(day: date) -> datetime:
    """The start of a day in Vietnam time, as UTC, whatever the database's zone."""
    return datetime.combine(day, time.min, tzinfo=zone()).astimezone(UTC)


def _date(args: Mapping[str, str], name: str, label: str, errors: dict[str, str]) -> date | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError:
        errors[name] = f"{label} phải theo dạng ngày/tháng/năm, ví dụ 05/03/2026."
        return None


def period(args: Mapping[str, str], errors: dict[str, str]) -> tuple[date | None, date | None]:
    """``tu`` and ``den`` (dd/mm/yyyy); anything malformed becomes a message, never a guess."""
    start = _date(args, "tu", "Từ ngày", errors)
    end = _date(args, "den", "Đến ngày", errors)
    if start and end and start > end:
        errors["den"] = "“Đến ngày” phải sau hoặc bằng “Từ ngày”."
    return start, end


def type_id(args: Mapping[str, str], errors: dict[str, str]) -> int | None:
    """``loai``: a document type id."""
    value = (args.get("loai") or "").strip()
    if not value:
        return None
    if not value.isdigit():
        errors["loai"] = "Loại văn bản không hợp lệ."
        return None
    return int(value)
