"""Dates and timestamps as edXML writes them (SPEC §11.3): ``yyyy/MM/dd`` and ``yyyy/MM/dd HH:mm:ss`` in
Vietnam time, with no offset (inferred). Peers also send ``dd/MM/yyyy`` (Tây Ninh's integrator) and ISO 8601:
those are read and noted; an impossible date (2014/02/30) is reported, never raised."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

_STANDARD = re.compile(r"(\d{4})/(\d{2})/(\d{2})")
_LOOSE_YMD = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})")
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def today() -> date:
    """Today in Vietnam, whatever the server's zone."""
    return datetime.now(VIETNAM).date()


def _make_date(year: str, month: str, day: str, text: str) -> tuple[date | None, str | None]:
    try:
        return date(int(year), int(month), int(day)), None
    except ValueError:
        return None, f"'{text}' không phải ngày có thật"


def read_date(text: str) -> tuple[date | None, str | None]:
    """(date, None) for ``yyyy/MM/dd``; (date, note) for a tolerated form (dd/MM/yyyy, yyyy-MM-dd, no leading
    zeros), the note saying how it was read; (None, problem) when it is no date at all or an impossible one."""
    text = text.strip()
    if match := _STANDARD.fullmatch(text):
        return _make_date(*match.groups(), text)
    if match := _LOOSE_YMD.fullmatch(text):
        value, problem = _make_date(*match.groups(), text)
        return value, problem or f"'{text}' không đúng dạng yyyy/MM/dd; đã đọc là {value:%d/%m/%Y}"
    if match := _DMY.fullmatch(text):
        day, month, year = match.groups()
        value, problem = _make_date(year, month, day, text)
        return value, problem or f"'{text}' viết theo dạng dd/MM/yyyy, chuẩn là yyyy/MM/dd; đã đọc là {value:%d/%m/%Y}"
    return None, f"'{text}' không phải ngày theo dạng yyyy/MM/dd"


def read_timestamp(text: str) -> tuple[datetime | None, str | None]:
    """Like ``read_date`` for ``yyyy/MM/dd HH:mm:ss``: a time without an offset is Vietnam time; an ISO
    offset (``+07:00``, ``Z``) is honoured and noted."""
    text = text.strip()
    offset = _OFFSET.search(text)
    body = text[: offset.start()] if offset else text
    day_part, _, time_part = body.replace("T", " ").partition(" ")
    day, note = read_date(day_part)
    if day is None:
        return None, note
    hour = minute = second = 0
    if time_part.strip():
        match = _TIME.fullmatch(time_part.strip())
        if not match:
            return None, f"'{text}' không phải thời điểm dạng yyyy/MM/dd HH:mm:ss"
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    else:
        note = note or f"'{text}' thiếu giờ; đã đọc là 00:00:00"
    try:
        moment = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=VIETNAM)
    except ValueError:
        return None, f"'{text}' không phải thời điểm có thật"
    if offset:
        try:
            moment = datetime.fromisoformat(f"{moment.replace(tzinfo=None).isoformat()}{offset[1]}")
        except ValueError:
            return None, f"'{text}' có múi giờ không đọc được"
        note = (f"'{text}' ghi múi giờ (chuẩn là yyyy/MM/dd HH:mm:ss giờ Việt Nam, không ghi múi); "
                "đã quy về giờ Việt Nam")
        moment = moment.astimezone(VIETNAM)
    return moment, note


def write_date(value: date) -> str:
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def write_timestamp(value: datetime) -> str:
    """Vietnam wall-clock time; a naive value is taken to be Vietnam time already."""
    local = value.astimezone(VIETNAM) if value.tzinfo else value
    return f"{write_date(local.date())} {local:%H:%M:%S}"
