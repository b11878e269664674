"""Form fields every feature uses: a date typed the Vietnamese way, a number of working days."""

from __future__ import annotations

import re
from datetime import date, datetime

from wtforms import Field
from wtforms.widgets import TextInput


def parse_date(text: str | None) -> date | None:
    """dd/mm/yyyy as typed (07/12/2026, also 7/12/2026), or yyyy-mm-dd (old links, a date input);
    ValueError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007  (a calendar date, no time)
        except ValueError:
            continue
    raise ValueError(text)


SHAPE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
INPUT_PATTERN = r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}"  # the browser's hint; the server decides
EXAMPLE = "07/12/2026"


def date_error(text: str) -> str:
    """The Vietnamese message for a date that did not parse: a day that is not on the calendar
    (31/02/2026) is told so, anything else is shown the expected form."""
    if SHAPE.fullmatch(text.strip()):
        return (f"Ngày không hợp lệ: không có ngày {text.strip()} trên lịch; hãy nhập theo dạng dd/mm/yyyy, "
                f"ví dụ {EXAMPLE}.")
    return f"Ngày không hợp lệ; hãy nhập theo dạng dd/mm/yyyy, ví dụ {EXAMPLE}."


def as_typed(value: date | str | None) -> str:
    """What a date input shows: dd/mm/yyyy for a date or an ISO text, anything else as it came."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = (value or "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return date.fromisoformat(text).strftime("%d/%m/%Y")
        except ValueError:
            return text
    return text


class DateVNField(Field):
    """Every date of every form: typed as dd/mm/yyyy (ISO accepted too), shown as dd/mm/yyyy by
    ``macros/forms.html``'s ``date_input`` (the ``field`` macro picks it by this type), with the
    picker of ``static/js/datepicker.js``; a bad one gets a Vietnamese message and keeps what was typed."""

    widget = TextInput()

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("render_kw", {"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "maxlength": 10})
        super().__init__(*args, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return as_typed(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            try:
                self.data = parse_date(valuelist[0])
            except ValueError:
                self.data = None
                raise ValueError(date_error(valuelist[0])) from None


class WorkingDaysField(Field):
    """"N ngày làm việc", offered beside a deadline's date: a whole number (the service turns it into
    the date, counted from today in working days); a bad one gets a Vietnamese message."""

    widget = TextInput()

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("render_kw", {"inputmode": "numeric", "maxlength": 3, "size": 4})
        super().__init__(*args, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return str(self.data) if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        from portal.workdays.deadlines import DAYS_MESSAGE, parse_days

        if valuelist:
            try:
                self.data = parse_days(valuelist[0])
            except ValueError:
                self.data = None
                raise ValueError(DAYS_MESSAGE) from None
