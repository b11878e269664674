"""Identifiers and parameters from the outside: the ``id`` path converter and the one declared
parser of query strings.

Every id column is ``Integer`` (int4 on PostgreSQL), so an id is 1 … 2**31-1 written in ASCII
digits; anything else is no id at all. In a path it does not match the rule (404); in a query
string it is refused with a Vietnamese message naming the parameter (422, ``BadQuery``). Views
declare what they read, under ``login_required``::

    @bp.get("/")
    @login_required
    @query(Id("lich", "Lịch"), Text("q", "Từ khóa", 100))
    def index():
        calendar_id = args()["lich"]

The declarations stay on the view (``view.query_params``), so a test can walk every route and
send each parameter hostile values. ``inline=True`` leaves the messages to the view (list pages
show them beside the filters, still with 422). NUL bytes and invalid UTF-8 anywhere in the path,
the query string or a posted field are refused before any view runs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, abort, g, request
from werkzeug.routing import BaseConverter, ValidationError

from portal.errors import ValidationFailed
from portal.timeutil import parse_date

ID_MAX = 2**31 - 1  # int4: the type of every id column on PostgreSQL (SQLite would take more)
# Days a person may ask for: a list's period, a schedule's week. Python's calendar runs from year 1 to
# 9999, but the views step from a day (the week after, the next midnight in UTC): at either end that
# is an OverflowError, a 500. No document or schedule of the portal lies outside these years.
FIRST_YEAR, LAST_YEAR = 1900, 2100
YEARS_TEXT = f"từ năm {FIRST_YEAR} đến năm {LAST_YEAR}"


def parse_id(value: object) -> int | None:
    """A positive id within int4, or None. ASCII digits only: ``"²".isdigit()`` is True, yet
    ``int("²")`` fails, and ten thousand digits exceed Python's conversion limit."""
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= ID_MAX else None


def in_years(day: date) -> bool:
    """Whether a day asked for lies in the years the portal answers for (``FIRST_YEAR`` … ``LAST_YEAR``)."""
    return FIRST_YEAR <= day.year <= LAST_YEAR


class IdConverter(BaseConverter):
    """``<id:document_id>``: only what ``parse_id`` accepts matches, so anything else is 404."""

    regex = r"[0-9]{1,10}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        ident = parse_id(value)
        if ident is None:
            raise ValidationError()
        return ident

    def to_url(self, value: Any) -> str:
        return str(int(value))


class BadQuery(ValidationFailed):
    """A query-string parameter (or an unreadable request) refused: 422 with the message."""


# --- declarations ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """A parameter a view reads: its name in the query string and its label for messages. An
    empty value is the default; a malformed one raises ValueError with the Vietnamese reason."""

    name: str
    label: str
    many = False

    @property
    def default(self) -> Any:
        return [] if self.many else None

    def convert(self, raw: str) -> Any:
        return raw

    def message(self, reason: str) -> str:
        return f"Tham số “{self.label}” ({self.name}) không hợp lệ: {reason}"


@dataclass(frozen=True)
class Text(Param):
    max_len: int = 200

    @property
    def default(self) -> Any:
        return ""

    def convert(self, raw: str) -> str:
        if len(raw) > self.max_len:
            raise ValueError(f"tối đa {self.max_len} ký tự.")
        return raw


@dataclass(frozen=True)
class Texts(Text):
    """A repeated text (``?r_name=…&r_name=…``)."""

    many = True

    @property
    def default(self) -> Any:
        return []


@dataclass(frozen=True)
class Id(Param):
    def convert(self, raw: str) -> int:
        ident = parse_id(raw)
        if ident is None:
            raise ValueError(f"phải là một số định danh từ 1 đến {ID_MAX}.")
        return ident


@dataclass(frozen=True)
class Ids(Id):
    """A repeated id (``?people=3&people=7``)."""

    many = True


@dataclass(frozen=True)
class Int(Param):
    low: int = 0
    high: int = ID_MAX

    def convert(self, raw: str) -> int:
        if not re.fullmatch(r"-?[0-9]{1,10}", raw) or not self.low <= int(raw) <= self.high:
            raise ValueError(f"phải là một số nguyên từ {self.low} đến {self.high}.")
        return int(raw)


@dataclass(frozen=True)
class Choice(Param):
    values: tuple[str, ...] = ()
    many_values: bool = False

    @property
    def many(self) -> bool:  # type: ignore[override]
        return self.many_values

    def convert(self, raw: str) -> str:
        if raw not in self.values:
            raise ValueError("giá trị này không có trong danh sách.")
        return raw


@dataclass(frozen=True)
class Flag(Param):
    """A checkbox: ``1`` (or ``on``) is yes, absent, empty or ``0`` is no."""

    @property
    def default(self) -> Any:
        return False

    def convert(self, raw: str) -> bool:
        if raw not in ("1", "0", "on"):
            raise ValueError("chỉ nhận 1 hoặc 0.")
        return raw != "0"


@dataclass(frozen=True)
class Date(Param):
    """``yyyy-mm-dd`` (``iso``) or ``dd/mm/yyyy``."""

    iso: bool = True

    def convert(self, raw: str) -> date:
        try:
            if self.iso:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                    raise ValueError(raw)
                day = date.fromisoformat(raw)
            else:
                day = parse_date(raw)
            if not in_years(day):
                raise ValueError(raw)
            return day
        except ValueError:
            example = "năm-tháng-ngày, ví dụ 2026-03-05" if self.iso else "ngày/tháng/năm, ví dụ 05/03/2026"
            raise ValueError(f"phải là một ngày có thật {YEARS_TEXT}, theo dạng {example}.") from None


@dataclass(frozen=True)
class Week(Param):
    """Any day of a week (``2026-03-05``, or ``05/03/2026`` as the date input shows it) or an ISO
    week (``2026-W10``); the text is returned (a typed day as ISO), the view turns it into the Monday."""

    def convert(self, raw: str) -> str:
        text = raw.upper()
        try:
            if "/" in text:
                day = parse_date(text)
                text = day.isoformat()
            elif "-W" in text and re.fullmatch(r"\d{4}-W\d{1,2}", text):
                year, week = text.split("-W")
                day = date.fromisocalendar(int(year), int(week), 1)
            elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                day = date.fromisoformat(text)
            else:
                raise ValueError(text)
            if in_years(day):
                return text
        except ValueError:
            pass
        raise ValueError(f"phải là một ngày (05/03/2026 hoặc 2026-03-05) hoặc một tuần (2026-W10) {YEARS_TEXT}.")


@dataclass(frozen=True)
class Cursor(Param):
    """A keyset cursor (``sau``): only what the list itself writes, checked by ``check``."""

    check: Callable[[str], bool] = field(default=lambda raw: False)

    def convert(self, raw: str) -> str:
        if len(raw) > 40 or not self.check(raw):
            raise ValueError("hãy mở lại danh sách từ trang đầu.")
        return raw


# --- parsing ----------------------------------------------------------------------------------------

class Args(dict[str, Any]):
    """The parsed values by name; ``errors`` holds the messages of an ``inline`` view."""

    errors: dict[str, str]


def parse(source: Mapping[str, Any], declared: tuple[Param, ...]) -> Args:
    """Every declared parameter, converted; malformed ones leave their default and a message."""
    result = Args()
    result.errors = {}
    for param in declared:
        raws = source.getlist(param.name) if hasattr(source, "getlist") else [source.get(param.name)]
        raws = [r.strip() for r in raws if r is not None and r.strip()]
        try:
            values = [param.convert(r) for r in raws]
        except ValueError as exc:
            result.errors[param.name] = param.message(str(exc))
            values = []
        if param.many:
            result[param.name] = values
        else:
            result[param.name] = values[0] if values else param.default
    return result


def query(*declared: Param, inline: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare what the view reads from the query string; malformed values answer 422 naming
    the parameter, unless ``inline`` (the view shows ``args().errors`` itself, with 422)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*a: Any, **kw: Any) -> Any:
            parsed = parse(request.args, declared)
            if parsed.errors and not inline:
                raise BadQuery(parsed.errors)
            g.query_args = parsed
            return view(*a, **kw)

        wrapper.query_params = declared  # type: ignore[attr-defined]
        wrapper.query_inline = inline  # type: ignore[attr-defined]
        return wrapper

    return decorate


def args() -> Args:
    """The current request's declared parameters (see ``query``)."""
    return g.query_args  # type: ignore[no-any-return]


# --- unreadable requests ----------------------------------------------------------------------------

UNREADABLE = "Địa chỉ hoặc dữ liệu gửi lên có ký tự không hợp lệ (byte rỗng hoặc không phải UTF-8)."


def _readable(raw: bytes) -> bool:
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def refuse_unreadable() -> None:
    """NUL bytes would reach PostgreSQL (which refuses them with an error, so a 500) and invalid
    UTF-8 would be silently replaced: neither is anything a person typed."""
    if "\x00" in request.path or "\ufffd" in request.path:  # Werkzeug decodes bad UTF-8 to U+FFFD
        abort(404)
    if not _readable(unquote_to_bytes(request.query_string.replace(b"+", b" "))):
        raise BadQuery({"query": UNREADABLE})
    if request.method in ("POST", "PUT", "PATCH") and any(
            "\x00" in value or "\ufffd" in value for value in request.form.values()):
        raise BadQuery({"form": UNREADABLE})


def init_app(app: Flask) -> None:
    """Before the blueprints: their rules are compiled with the converter as they are added."""
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_unreadable)
