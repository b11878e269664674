from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, Optional

from portal.orgs.models import ORG_KIND_LABELS


class OrganisationForm(FlaskForm):
    """Field rules live in ``orgs.services.validate`` (one home for them); errors come back onto
    these fields. No ``Length`` validators here: WTForms has no Vietnamese catalogue, so they
    would answer in English before the service's Vietnamese message is reached."""

    name = StringField(_l("Tên đầy đủ"))
    short_name = StringField(_l("Tên viết tắt (dùng trong ký hiệu)"))
    kind = SelectField(_l("Loại"), choices=[SelectChoice(k.value, v) for k, v in ORG_KIND_LABELS.items()],
                       validate_choice=False,  # its "Not a valid choice." is English; AnyOf speaks Vietnamese
                       validators=[AnyOf([k.value for k in ORG_KIND_LABELS],
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
