"""What every document list shares (incoming, drafts, outgoing): search words, Vietnam-day
bounds, capped counts and the common query-string filters (declared for ``portal.params``, which
parses them before the view runs). No request here: the views pass the parsed values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from portal.params import Date, Flag, Id, Text
from portal.text import fold
from portal.timeutil import zone

COUNT_CAP = 999  # counts above this show as "999+": an exact count of a huge table costs a scan


def format_count(value: int, cap: int = COUNT_CAP) -> str:
    return f"{cap}+" if value > cap else f"{value:,}".replace(",", ".")


def words(text: str) -> list[str]:
    """Folded search words (at most 8); LIKE wildcards typed by the person are not wildcards."""
    return [w for w in fold(text).replace("%", " ").replace("_", " ").split() if w][:8]


def local_midnight(day: date) -> datetime:
    """The start of a day in Vietnam time, as UTC, whatever the database's zone."""
    return datetime.combine(day, time.min, tzinfo=zone()).astimezone(UTC)


# the filters every document list reads, declared for portal.params (``inline``: the list shows the
# messages above its rows, with 422, and lists everything unfiltered)
FILTERS = (Text("ds", "Danh sách", 40), Text("q", "Tìm kiếm", 200), Date("tu", "Từ ngày", iso=False),
           Date("den", "Đến ngày", iso=False), Flag("khan", "Văn bản khẩn"), Id("loai", "Loại văn bản"))


def period(args: Mapping[str, Any], errors: dict[str, str]) -> tuple[date | None, date | None]:
    """``tu`` and ``den``, already parsed; a period that ends before it starts is a message."""
    start, end = args.get("tu"), args.get("den")
    if start and end and start > end:
        errors["den"] = "“Đến ngày” phải sau hoặc bằng “Từ ngày”."
    return start, end
