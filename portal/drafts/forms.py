"""Forms of the draft pages, one per step. The rules live in ``drafts.services`` (one home,
Vietnamese messages); these forms carry what was typed and show the errors the services return.
No ``DataRequired``/``Length`` here: WTForms would answer in English before the service could."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    Field,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from portal.documents.models import Urgency
from portal.drafts import services
from portal.drafts.models import Answer, Authority, SendMethod
from portal.form_fields import DateVNField, WorkingDaysField
from portal.params import parse_id

URGENCY_CHOICES = [SelectChoice(str(u.value), u.label) for u in Urgency if u != Urgency.EXPRESS_TIMED]
AUTHORITY_CHOICES = [SelectChoice(a.value, a.value or "— Không —") for a in Authority]
OUTSIDE_METHODS = [m for m in SendMethod if m != SendMethod.SYSTEM]


def int_or_none(value: object) -> int | None:
    """An id (1 … 2**31-1) or None: see portal.params.parse_id."""
    return parse_id(value)


def level_or_none(value: object) -> int | None:
    """Độ khẩn as posted, 0 (Thường) … 3: a level, not an id, so 0 counts; the service checks the range."""
    text = str(value).strip() if value is not None else ""
    return int(text) if len(text) == 1 and text.isascii() and text.isdigit() else None


class DetailsForm(FlaskForm):
    """What the drafter types about the draft (SPEC §6.1); the signer comes from the type-ahead
    as a radio ``signer_id``, the recipients as parallel lists parsed by ``recipient_rows``."""

    document_type_id = SelectField(_l("Loại văn bản"), coerce=int_or_none, validate_choice=False)
    subject = TextAreaField(_l("Trích yếu nội dung"), render_kw={"maxlength": 500, "rows": 3})
    urgency = SelectField(_l("Độ khẩn"), choices=URGENCY_CHOICES, coerce=level_or_none, validate_choice=False,
                          default=0)
    signer_id = Field(_l("Người ký"))
    authority = SelectField(_l("Thẩm quyền ký"), choices=AUTHORITY_CHOICES, validate_choice=False, default="")
    signer_title = StringField(_l("Chức vụ người ký"), render_kw={"maxlength": 100})
    reply_to_id = StringField(_l("Trả lời văn bản đến"), widget=HiddenInput())
    due_date = DateVNField(_l("Hạn trả lời"))
    recipients = Field(_l("Nơi nhận"))

    def offer(self, types: list) -> None:  # type: ignore[type-arg]
        self.document_type_id.choices = [SelectChoice("", "— Chọn loại văn bản —"),
                                         *(SelectChoice(str(t.id), t.name) for t in types)]

    def draft_data(self, signer_id: int | None, **links: int | None) -> services.DraftData:
        return services.DraftData(
            subject=self.subject.data or "", document_type_id=self.document_type_id.data,
            urgency=self.urgency.data if self.urgency.data is not None else -1, signer_id=signer_id,
            authority=self.authority.data or "", signer_title=self.signer_title.data,
            reply_to_id=int_or_none(self.reply_to_id.data), due_date=self.due_date.data, **links)


class NewDraftForm(DetailsForm):
    # not id="main": that is the page's <main>, and a label for it would name the wrong element
    main = FileField(_l("Tệp dự thảo"), id="main-file")
    attachments = MultipleFileField(_l("Tệp đính kèm"))
    replaces_id = StringField(widget=HiddenInput())
    corrects_id = StringField(widget=HiddenInput())


@dataclass
class RecipientRow:
    """One recipient row as typed, shown again after a refused submission."""

    organisation_id: int | None
    name: str
    method: str
    address: str


def recipient_rows(formdata) -> tuple[list[services.RecipientSpec], list[RecipientRow]]:  # type: ignore[no-untyped-def]
    """Organisations of the system come as ``r_org`` (id and name, from the type-ahead); outside
    bodies as parallel ``r_name``/``r_method``/``r_address``. Blank outside rows are unused
    rows of the table, not recipients. Whether each may receive is the service's question."""
    specs: list[services.RecipientSpec] = []
    rows: list[RecipientRow] = []
    for raw in formdata.getlist("r_org"):
        ident = int_or_none(raw)
        if ident is not None:
            specs.append(services.RecipientSpec(organisation_id=ident))
            rows.append(RecipientRow(ident, "", SendMethod.SYSTEM.value, ""))
    methods = {m.value for m in OUTSIDE_METHODS}
    for name, method, address in zip(formdata.getlist("r_name"), formdata.getlist("r_method"),
                                     formdata.getlist("r_address"), strict=False):
        if not name.strip() and not address.strip():
            continue
        rows.append(RecipientRow(None, name, method, address))
        specs.append(services.RecipientSpec(name=name, address=address,
                                            method=SendMethod(method) if method in methods else SendMethod.SYSTEM))
    return specs, rows


class VersionForm(FlaskForm):
    main = FileField(_l("Tệp dự thảo mới"))
    attachments = MultipleFileField(_l("Tệp đính kèm của phiên bản"))
    note = TextAreaField(_l("Nội dung thay đổi"), render_kw={"maxlength": 500, "rows": 2})


class AskForm(FlaskForm):
    """Xin ý kiến: the people come from the type-ahead as checked ``people`` boxes."""

    people = Field(_l("Người cho ý kiến"))
    question = TextAreaField(_l("Nội dung xin ý kiến"), render_kw={"maxlength": 1000, "rows": 3})
    deadline = DateVNField(_l("Hạn cho ý kiến"))
    deadline_days = WorkingDaysField(_l("hoặc số ngày làm việc"))


class AnswerForm(FlaskForm):
    answer = RadioField(_l("Ý kiến"), choices=[SelectChoice(a.value, a.label) for a in Answer], validate_choice=False)
    text = TextAreaField(_l("Nội dung ý kiến"), render_kw={"maxlength": 1000, "rows": 3})


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Ghi chú"), render_kw={"maxlength": 2000, "rows": 2})


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Ý kiến trả lại"), render_kw={"maxlength": 2000, "rows": 3})


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Lý do"), render_kw={"maxlength": 1000, "rows": 2})


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FormatForm(FlaskForm):
    """Kiểm tra thể thức: every item of ``services.FORMAT_CHECKLIST`` ticked, or send it back."""

    checklist = MultiCheckboxField(_l("Đã kiểm tra"), validate_choice=False,
                                   choices=[SelectChoice(k, v) for k, v in services.FORMAT_CHECKLIST.items()])
    note = TextAreaField(_l("Ghi chú"), render_kw={"maxlength": 2000, "rows": 2})


class LeaderForm(FlaskForm):
    leader_id = Field(_l("Lãnh đạo"))
    note = TextAreaField(_l("Ghi chú"), render_kw={"maxlength": 500, "rows": 2})


class SignForm(FlaskForm):
    password = PasswordField(_l("Nhập lại mật khẩu để ký"), render_kw={"autocomplete": "current-password"})
    # a key in the province's HSM whose PIN configuration does not hold (remote signing)
    pin = PasswordField(_l("Mã PIN thiết bị ký"), render_kw={"autocomplete": "off", "maxlength": 64,
                                                            "inputmode": "numeric"})


class ExternalSignForm(FlaskForm):
    upload = FileField(_l("Tệp PDF đã ký"), render_kw={"accept": ".pdf,application/pdf"})
    password = PasswordField(_l("Nhập lại mật khẩu"), render_kw={"autocomplete": "current-password"})


class IssueForm(FlaskForm):
    book_id = SelectField(_l("Sổ văn bản đi"), coerce=int_or_none, validate_choice=False)

    def offer(self, books: list) -> None:  # type: ignore[type-arg]
        self.book_id.choices = [SelectChoice(str(b.id), b.name) for b in books] or [
            SelectChoice("", "Sổ văn bản đi (tạo khi cấp số)")]
