"""Forms of the incoming document page, one per step. Who may take a step lives in
``incoming.workflow`` (the tables), the input rules in ``incoming.services`` (Vietnamese messages);
these forms only carry what was typed and show the errors the services return. No
``Length``/``DataRequired`` here: WTForms would answer in English first."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, Field, SelectChoice, SelectField, StringField, TextAreaField, ValidationError

from portal.documents.models import Secrecy, Urgency
from portal.form_fields import DateVNField, WorkingDaysField, parse_date
from portal.incoming import services
from portal.incoming.models import AssignmentRole, ReminderKind
from portal.params import parse_id
from portal.workdays.deadlines import DAYS_MESSAGE, parse_days


def _int_or_none(value: object) -> int | None:
    return parse_id(value)


def _level_or_none(value: object) -> int | None:
    """Độ khẩn, độ mật as posted: a level from 0 (Thường) up, not an id, so 0 counts; the validators
    below check it is one of the enum's values."""
    text = str(value).strip() if value is not None else ""
    return int(text) if len(text) == 1 and text.isascii() and text.isdigit() else None


def _max(name: str) -> dict[str, int]:
    return {"maxlength": services.LIMITS[name]}


URGENCY_CHOICES = [SelectChoice(str(u.value), u.label) for u in Urgency]
SECRECY_CHOICES = [SelectChoice(str(s.value), s.label) for s in Secrecy]


class MetadataForm(FlaskForm):
    """NĐ 30 Phụ lục VI Mục II: the fields the clerk types when registering."""

    document_type_id = SelectField(_l("Loại văn bản (danh mục)"), coerce=_int_or_none, validate_choice=False)
    type_name = StringField(_l("Tên loại văn bản"), render_kw=_max("type_name"))
    code_number = StringField(_l("Số của văn bản"), render_kw={**_max("code_number"), "inputmode": "numeric"})
    code_notation = StringField(_l("Ký hiệu"), render_kw=_max("code_notation"))
    issued_date = DateVNField(_l("Ngày văn bản"))
    organ_name = StringField(_l("Cơ quan ban hành"), render_kw=_max("organ_name"))
    subject = TextAreaField(_l("Trích yếu"), render_kw={**_max("subject"), "rows": 3})
    signer_position = StringField(_l("Chức vụ người ký"), render_kw=_max("signer_position"))
    signer_name = StringField(_l("Họ tên người ký"), render_kw=_max("signer_name"))
    urgency = SelectField(_l("Độ khẩn"), choices=URGENCY_CHOICES, coerce=_level_or_none, validate_choice=False,
                          default=0)
    secrecy = SelectField(_l("Độ mật"), choices=SECRECY_CHOICES, coerce=_level_or_none, validate_choice=False,
                          default=0)
    due_date = DateVNField(_l("Hạn giải quyết"))
    page_amount = StringField(_l("Số trang"), render_kw={"inputmode": "numeric", "maxlength": 3})
    language = StringField(_l("Ngôn ngữ"), default="Tiếng Việt", render_kw=_max("language"))
    document_id = StringField(_l("Mã văn bản liên thông (DocumentId)"), render_kw=_max("document_id"))
    description = TextAreaField(_l("Ghi chú"), render_kw={**_max("description"), "rows": 2})
    has_paper = BooleanField(_l("Có bản giấy"))
    book_id = SelectField(_l("Sổ văn bản đến"), coerce=_int_or_none, validate_choice=False)
    confirm_duplicate = BooleanField(_l("Vẫn vào sổ (đã kiểm tra, không phải văn bản trùng)"))

    def validate_page_amount(self, field: StringField) -> None:
        text = (field.data or "").strip()
        if text and not (len(text) <= 3 and text.isascii() and text.isdigit() and int(text) >= 1):  # SmallInteger
            raise ValidationError("Số trang là một số từ 1 đến 999.")

    def validate_secrecy(self, field: SelectField) -> None:
        if field.data not in {s.value for s in Secrecy}:
            raise ValidationError("Hãy chọn độ mật trong danh sách.")

    def validate_urgency(self, field: SelectField) -> None:
        if field.data not in {u.value for u in Urgency}:
            raise ValidationError("Hãy chọn độ khẩn trong danh sách.")

    def offer(self, types: list, books: list) -> None:  # type: ignore[type-arg]
        self.document_type_id.choices = [SelectChoice("", "— Nhập tên loại bên dưới —"),
                                         *(SelectChoice(str(t.id), t.name) for t in types)]
        self.book_id.choices = [SelectChoice(str(b.id), b.name) for b in books]

    def metadata(self) -> services.Metadata:
        page = (self.page_amount.data or "").strip()
        return services.Metadata(
            type_name=self.type_name.data or "", document_type_id=self.document_type_id.data,
            code_number=self.code_number.data, code_notation=self.code_notation.data,
            issued_date=self.issued_date.data, organ_name=self.organ_name.data or "", subject=self.subject.data or "",
            language=self.language.data or "Tiếng Việt", page_amount=parse_id(page),
            description=self.description.data, signer_position=self.signer_position.data,
            signer_name=self.signer_name.data, urgency=Urgency(self.urgency.data or 0),
            secrecy=Secrecy(self.secrecy.data or 0), due_date=self.due_date.data, has_paper=bool(self.has_paper.data),
            document_id=self.document_id.data, book_id=self.book_id.data)


class NewDocumentForm(MetadataForm):
    """A paper document: its scan (PDF) and attachments besides the metadata."""

    scan = FileField(_l("Bản quét văn bản (PDF)"), render_kw={"accept": ".pdf,application/pdf"})
    attachments = MultipleFileField(_l("Phụ lục, tệp đính kèm"))


class ReturnForm(FlaskForm):
    category = SelectField(_l("Lý do trả lại"), validate_choice=False,
                           choices=[SelectChoice("", "— Chọn lý do —"),
                                    *(SelectChoice(k, v) for k, v in services.RETURN_CATEGORIES.items())])
    reason = TextAreaField(_l("Nội dung gửi nơi gửi"), render_kw={"maxlength": 1000, "rows": 3})


class LeaderForm(FlaskForm):
    """Trình or chuyển: the leader comes from the type-ahead as a radio ``leader_id``."""

    leader_id = StringField(_l("Lãnh đạo"))
    note = TextAreaField(_l("Ghi chú"), render_kw={"maxlength": 500, "rows": 2})


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Lý do"), render_kw={"maxlength": 1000, "rows": 2})


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Ghi chú"), render_kw={"maxlength": 500, "rows": 2})


class AssignForm(FlaskForm):
    """Directive and the assignee rows (``a_kind``, ``a_id``, ``a_role``, ``a_deadline``),
    parsed by ``assignee_rows``; errors of the rows show on ``assignees`` and ``deadline``."""

    directive = TextAreaField(_l("Ý kiến chỉ đạo"), render_kw={"maxlength": 2000, "rows": 3})
    assignees = Field(_l("Giao cho"))
    deadline = Field(_l("Hạn xử lý"))


class DirectForm(AssignForm):
    """Phân phối: the assignee rows, and the document's own deadline, which stays as registered
    unless the leader sets it here (each row's deadline is that row's)."""

    due_date = DateVNField(_l("Hạn giải quyết văn bản"))
    due_days = WorkingDaysField(_l("hoặc số ngày làm việc"))


@dataclass
class Row:
    """One assignee row as typed, to show again after a refused submission."""

    kind: str
    id: int
    role: str
    deadline: str
    days: str = ""


def assignee_rows(formdata) -> tuple[list[services.AssigneeSpec], list[Row], dict[str, str]]:  # type: ignore[no-untyped-def]
    """The picker's rows: parallel lists, one entry per row. Junk ids or roles are refused here
    in Vietnamese; whether the unit or person may be assigned is the service's question."""
    specs: list[services.AssigneeSpec] = []
    rows: list[Row] = []
    errors: dict[str, str] = {}
    roles = {r.value for r in AssignmentRole}
    dropped = set(formdata.getlist("a_drop"))  # "Bỏ" ticked: the row stays on screen, not in the phiếu
    all_days = formdata.getlist("a_days")  # "N ngày làm việc" beside each date (absent from older pages)
    for n, (kind, raw_id, role, raw_deadline) in enumerate(zip(
            formdata.getlist("a_kind"), formdata.getlist("a_id"), formdata.getlist("a_role"),
            formdata.getlist("a_deadline"), strict=False)):
        raw_days = all_days[n] if n < len(all_days) else ""
        if f"{kind}:{raw_id}" in dropped:
            continue
        ident = _int_or_none(raw_id)
        if kind not in ("unit", "person") or ident is None or role not in roles:
            errors["assignees"] = "Dòng giao việc không hợp lệ; hãy chọn lại đơn vị hoặc cá nhân."
            continue
        rows.append(Row(kind, ident, role, raw_deadline, raw_days))
        try:
            deadline = parse_date(raw_deadline)
        except ValueError:
            errors["deadline"] = "Hạn xử lý không hợp lệ; hãy nhập theo dạng dd/mm/yyyy."
            continue
        try:
            days = parse_days(raw_days)
        except ValueError:
            errors["deadline"] = f"Hạn xử lý: {DAYS_MESSAGE[0].lower()}{DAYS_MESSAGE[1:]}"
            continue
        specs.append(services.AssigneeSpec(AssignmentRole(role), user_id=ident if kind == "person" else None,
                                           unit_id=ident if kind == "unit" else None, deadline=deadline, days=days))
    if not rows and not errors:
        errors["assignees"] = "Hãy chọn ít nhất một đơn vị hoặc cá nhân, trong đó có đúng một chủ trì."
    return specs, rows, errors


class ProgressForm(FlaskForm):
    text = TextAreaField(_l("Nội dung tiến độ, ý kiến"), render_kw={"maxlength": 2000, "rows": 3})
    files = MultipleFileField(_l("Tệp kèm theo"))
    done = BooleanField(_l("Đã hoàn thành phần việc phối hợp của tôi"))


class FinishForm(FlaskForm):
    result = TextAreaField(_l("Kết quả xử lý"), render_kw={"maxlength": 2000, "rows": 3})
    files = MultipleFileField(_l("Tệp kết quả"))


REMIND_KINDS = (ReminderKind.REMIND, ReminderKind.CRITICISE, ReminderKind.REVIEW)


class RemindForm(FlaskForm):
    kind = SelectField(_l("Hình thức"), validate_choice=False,
                       choices=[SelectChoice(k.value, k.label) for k in REMIND_KINDS])
    text = TextAreaField(_l("Nội dung"), render_kw={"maxlength": 1000, "rows": 2})


class ExtensionRequestForm(FlaskForm):
    """Xin gia hạn: the reason, and the new date or a number of working days from today."""

    reason = TextAreaField(_l("Lý do xin gia hạn"), render_kw={"maxlength": 1000, "rows": 2})
    proposed = DateVNField(_l("Hạn mới đề nghị"))
    days = WorkingDaysField(_l("hoặc số ngày làm việc kể từ hôm nay"))


class ExtensionApproveForm(FlaskForm):
    note = TextAreaField(_l("Ý kiến"), render_kw={"maxlength": 1000, "rows": 2})


class ExtensionRefuseForm(FlaskForm):
    reason = TextAreaField(_l("Lý do không đồng ý"), render_kw={"maxlength": 1000, "rows": 2})


EXTENSION_FORMS: dict[str, type[FlaskForm]] = {"request_extension": ExtensionRequestForm,
                                               "approve_extension": ExtensionApproveForm,
                                               "refuse_extension": ExtensionRefuseForm}
