from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.auth.models import Role, UserStatus
from portal.form_fields import DateVNField
from portal.orgs.models import OrgKind
from portal.orgs.services import EMAIL_RE, PHONE_RE
from portal.params import Id, Text, parse_id


class OrganisationForm(FlaskForm):
    """Field rules live in ``orgs.services.validate`` (one home for them); errors come back onto
    these fields. No ``Length`` validators here: WTForms has no Vietnamese catalogue, so they
    would answer in English before the service's Vietnamese message is reached."""

    name = StringField(_l("Tên đầy đủ"))
    short_name = StringField(_l("Tên viết tắt (dùng trong ký hiệu)"))
    kind = SelectField(_l("Loại"), choices=[SelectChoice(k.value, k.label) for k in OrgKind],
                       validate_choice=False,  # its "Not a valid choice." is English; AnyOf speaks Vietnamese
                       validators=[AnyOf([k.value for k in OrgKind],
                                         message=_l("Hãy chọn một loại trong danh sách."))])
    is_issuing = BooleanField(_l("Là cơ quan ban hành (có văn thư, con dấu, sổ văn bản riêng)"))
    parent_id = StringField(_l("Mã số cơ quan cấp trên"), validators=[Optional()])
    organ_id = StringField(_l("Mã định danh (QĐ 20/2020)"))
    legacy_organ_id = StringField(_l("Mã định danh cũ (QCVN 102:2016)"))
    address = StringField(_l("Địa chỉ"))
    email = StringField(_l("Thư điện tử"))
    phone = StringField(_l("Điện thoại"))
    fax = StringField(_l("Fax"))
    website = StringField(_l("Trang thông tin điện tử"))


def optional_int(value: object) -> int | None:
    """A select's value as an id; junk becomes None instead of WTForms' English "could not
    coerce", and the service then answers in Vietnamese."""
    return parse_id(value)


class MultiCheckboxField(SelectMultipleField):
    """Roles as a list of checkboxes: one tab stop each, readable by screen readers."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


ROLE_VALUES = frozenset(r.value for r in Role)


class PositionForm(FlaskForm):
    """One position: organisation, unit, title and roles. Rules (title, unit inside the
    organisation, at least one role, who may grant which role) live in the services; a role
    outside the list offered is not refused here, so the service can answer it with 403."""

    organisation_id = SelectField(_l("Cơ quan"), coerce=optional_int, validate_choice=False)
    unit_id = SelectField(_l("Phòng, ban"), coerce=optional_int, validate_choice=False)
    title = StringField(_l("Chức vụ"))
    roles = MultiCheckboxField(_l("Vai trò"), validate_choice=False)

    def validate_organisation_id(self, field: SelectField) -> None:
        if field.data is None:
            raise ValidationError(_l("Hãy chọn một cơ quan (có văn thư, con dấu riêng)."))

    def validate_roles(self, field: MultiCheckboxField) -> None:
        if any(value not in ROLE_VALUES for value in field.data or []):
            raise ValidationError(_l("Hãy chọn vai trò trong danh sách."))


class PersonForm(PositionForm):
    """A local account: person and first position."""

    username = StringField(_l("Tên đăng nhập"), render_kw={"autocapitalize": "none", "spellcheck": "false"})
    full_name = StringField(_l("Họ và tên"))
    email = StringField(_l("Thư điện tử"), render_kw={"type": "email"})
    phone = StringField(_l("Điện thoại"), render_kw={"type": "tel"})

    def validate_email(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if value and (len(value) > 100 or not EMAIL_RE.fullmatch(value)):
            raise ValidationError(_l("Thư điện tử không hợp lệ (ví dụ huong.nt@ninhbinh.gov.vn)."))

    def validate_phone(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if value and not PHONE_RE.fullmatch(value):
            raise ValidationError(_l("Số điện thoại chỉ gồm chữ số, khoảng trắng và + ( ) . -, tối đa 20 ký tự."))


class ProvisionForm(PositionForm):
    must_change_password = BooleanField(_l("Bắt buộc đổi mật khẩu ở lần đăng nhập đầu"), default=True)


class ReasonForm(FlaskForm):
    """Lock and disable: the reason is required by the service, whose message lands here."""

    reason = StringField(_l("Lý do"))


# the people list's query string, declared for portal.params: a malformed id is refused (422); an
# unknown role or status (an old bookmark) still means "any"
PEOPLE_FILTERS = (Text("q", "Tìm theo họ tên", 100), Id("organisation_id", "Cơ quan"), Id("unit_id", "Phòng, ban"),
                  Text("role", "Vai trò", 40), Text("status", "Trạng thái", 40))


class PeopleFilterForm(FlaskForm):
    """The people list's filters: plain GET parameters, so a filtered list is a link."""

    class Meta:
        csrf = False  # a search changes nothing

    q = StringField(_l("Tìm theo họ tên hoặc tên đăng nhập (gõ không dấu cũng được)"))
    organisation_id = SelectField(_l("Cơ quan"), coerce=optional_int, validate_choice=False)
    unit_id = SelectField(_l("Phòng, ban"), coerce=optional_int, validate_choice=False)
    role = SelectField(_l("Vai trò"), validate_choice=False,
                       choices=[SelectChoice("", "Mọi vai trò"), *(SelectChoice(r.value, r.label) for r in Role)])
    status = SelectField(_l("Trạng thái"), validate_choice=False,
                         choices=[SelectChoice("", "Mọi trạng thái"),
                                  *(SelectChoice(s.value, s.label) for s in UserStatus)])


class CertificateForm(FlaskForm):
    """Quản trị → Chứng thư số: the rules live in ``drafts.certificates.register_by``."""

    certificate = FileField(_l("Tệp chứng thư số (.cer, .crt, .pem)"),
                            render_kw={"accept": ".cer,.crt,.pem,.der,application/pkix-cert"})
    username = StringField(_l("Của người dùng (tên đăng nhập)"), render_kw={"maxlength": 100})
    organisation_id = SelectField(_l("Hoặc của cơ quan (con dấu)"), validate_choice=False)
    backend = SelectField(_l("Khóa ký ở đâu"), validate_choice=False, choices=[
        SelectChoice("external", "Thiết bị ký số riêng (USB token) trên máy người ký"),
        SelectChoice("pkcs11", "HSM/thiết bị ký của máy chủ (PKCS#11)")])
    token_label = StringField(_l("Nhãn thiết bị ký (token label)"), render_kw={"maxlength": 100})
    key_label = StringField(_l("Nhãn khóa (key label)"), render_kw={"maxlength": 100})


class WorkdayForm(FlaskForm):
    """Quản trị → Ngày làm việc: the rules live in ``workdays.service.add_override``."""

    day = DateVNField(_l("Ngày"))
    kind = SelectField(_l("Loại"), validate_choice=False, choices=[
        SelectChoice("nghi", "Ngày nghỉ (nghỉ bù, nghỉ theo quyết định)"),
        SelectChoice("lam_bu", "Ngày làm bù (làm việc vào ngày nghỉ)")])
    note = StringField(_l("Căn cứ, ghi chú"), render_kw={"maxlength": 200})
