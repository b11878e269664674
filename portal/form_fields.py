"""Form fields every feature uses: a date typed the Vietnamese way, a number of working days."""

from __future__ import annotations

from datetime import date, datetime

from wtforms import Field
from wtforms.widgets import TextInput


def parse_date(text: str | None) -> date | None:
    """dd/mm/yyyy as typed, or yyyy-mm-dd from a date input; ValueError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007  (a calendar date, no time)
        except ValueError:
            continue
    raise ValueError(text)


class DateVNField(Field):
    """A date typed as dd/mm/yyyy, shown the same way; a bad one gets a Vietnamese message."""

    widget = TextInput()

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("render_kw", {"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "maxlength": 10})
        super().__init__(*args, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%d/%m/%Y") if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            try:
                self.data = parse_date(valuelist[0])
            except ValueError:
                self.data = None
                raise ValueError("Ngày không hợp lệ; hãy nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2026.") from None


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
