"""Forms of the weekly schedule. Rules live in ``schedules.services`` (Vietnamese messages, one
home); the forms carry what was typed, turn times into values and show the errors the services
return. No ``DataRequired``/``Length`` and no choice pre-validation: WTForms answers in English."""

from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from portal.auth.models import User
from portal.errors import ValidationFailed
from portal.orgs.models import Organisation
from portal.params import parse_id
from portal.schedules import services
from portal.schedules.models import Entry, FeedKind


class TimeVNField(Field):
    """08:30 or 8:30 (a time input sends HH:MM); a bad one gets a Vietnamese message."""

    widget = TextInput(input_type="time")

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if self.data else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        text = (valuelist[0] if valuelist else "").strip().replace("h", ":")
        self.data = None
        if text:
            try:
                self.data = datetime.strptime(text[:5], "%H:%M").time()  # noqa: DTZ007  (a wall time, no date)
            except ValueError:
                raise ValueError("Giờ không hợp lệ; hãy nhập theo dạng giờ:phút, ví dụ 08:30.") from None


class _Choices(SelectMultipleField):
    def pre_validate(self, form: object) -> None:  # the service checks membership, in Vietnamese
        pass

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [i for i in map(parse_id, valuelist) if i is not None]
        if len(self.data) != sum(1 for v in valuelist if v.strip()):  # junk is refused, not dropped unseen
            raise ValueError("Hãy chọn trong danh sách.")


class _Chosen(_Choices):
    """Ids chosen with a type-ahead, sent as hidden inputs (the chips of
    ``schedules/_participants_picker.html``); the service checks each one again."""


class _Checkboxes(_Choices):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _OptionalUnit(SelectField):
    def pre_validate(self, form: object) -> None:
        pass

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = parse_id(valuelist[0]) if valuelist else None


class EntryForm(FlaskForm):
    day = SelectField(_l("Ngày"))
    all_day = BooleanField(_l("Cả ngày"))
    start = TimeVNField(_l("Từ giờ"))
    end = TimeVNField(_l("Đến giờ"))
    content = TextAreaField(_l("Nội dung"), render_kw={"rows": 2, "maxlength": 1000})
    presiding_ids = _Checkboxes(_l("Chủ trì"))
    presiding_text = StringField(_l("Chủ trì (ghi thêm)"), render_kw={"maxlength": 300})
    participant_ids = _Chosen(_l("Thành phần: cá nhân"))
    unit_ids = _Chosen(_l("Thành phần: đơn vị"))
    participants_text = StringField(_l("Thành phần (ghi thêm)"), render_kw={"maxlength": 500})
    location = StringField(_l("Địa điểm"), render_kw={"maxlength": 200})
    preparing_unit_id = _OptionalUnit(_l("Đơn vị chuẩn bị"))
    notes = StringField(_l("Ghi chú"), render_kw={"maxlength": 500})

    def offer(self, monday: date, leaders: list[User], units: list[Organisation]) -> None:
        self.chosen: list[tuple[str, int, str]] = []  # the participants' chips: ("unit" | "person", id, name)
        days = [monday.fromordinal(monday.toordinal() + i) for i in range(7)]
        self.day.choices = [SelectChoice(d.isoformat(), services.day_heading(d)) for d in days]
        self.presiding_ids.choices = [SelectChoice(u.id, u.full_name) for u in leaders]
        self.unit_ids.choices = [SelectChoice(u.id, u.name) for u in units]
        self.preparing_unit_id.choices = [SelectChoice("", "—"), *(SelectChoice(u.id, u.name) for u in units)]

    def show_chosen(self, people: list[User]) -> None:
        """The chips for the chosen units and people, in the order chosen; an id that is not one of the
        organisation's (a forged form) gets no chip: the service's message says why it was refused."""
        units = {c.value: c.label for c in self.unit_ids.choices or []}
        names = {u.id: u.full_name for u in people}
        self.chosen = [("unit", i, units[i]) for i in dict.fromkeys(self.unit_ids.data or []) if i in units] + [
            ("person", i, names[i]) for i in dict.fromkeys(self.participant_ids.data or []) if i in names]

    def fill(self, entry: Entry) -> None:
        """An existing entry's values, for the edit form."""
        self.day.data = entry.day.isoformat()
        self.all_day.data = entry.all_day
        self.start.data, self.end.data = entry.start_time, entry.end_time
        self.content.data = entry.content
        self.presiding_ids.data = [u.id for u in entry.presiding]
        self.presiding_text.data = entry.presiding_text or ""
        self.participant_ids.data = [u.id for u in entry.participants]
        self.unit_ids.data = [u.id for u in entry.participant_units]
        self.participants_text.data = entry.participants_text or ""
        self.location.data = entry.location or ""
        self.preparing_unit_id.data = entry.preparing_unit_id
        self.notes.data = entry.notes or ""

    def entry_data(self) -> services.EntryData:
        try:
            day = date.fromisoformat(self.day.data or "")
        except ValueError:
            day = None
        start: time | None = self.start.data
        return services.EntryData(
            day=day, start=start, end=self.end.data, all_day=bool(self.all_day.data), content=self.content.data or "",
            presiding_ids=self.presiding_ids.data or [], presiding_text=self.presiding_text.data or "",
            participant_ids=self.participant_ids.data or [], unit_ids=self.unit_ids.data or [],
            participants_text=self.participants_text.data or "", location=self.location.data or "",
            preparing_unit_id=self.preparing_unit_id.data, notes=self.notes.data or "")

    def show(self, exc: ValidationFailed) -> None:
        """The service's messages at their fields; a field that already failed to parse keeps
        only its own message."""
        for name, message in exc.errors.items():
            target = getattr(self, name)
            if not target.errors:
                target.errors = [message]


class ReturnForm(FlaskForm):
    comment = TextAreaField(_l("Lý do trả lại"), render_kw={"rows": 3, "maxlength": 1000})


class FeedForm(FlaskForm):
    kind = SelectField(_l("Nội dung"), choices=[SelectChoice(k.value, k.label) for k in FeedKind])
