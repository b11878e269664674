from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.orgs.models import ORG_KIND_LABELS


class OrganisationForm(FlaskForm):
    """Field rules live in ``orgs.services.validate`` (one home for them); errors come back onto
    these fields."""

    name = StringField(_l("Tên đầy đủ"), validators=[Length(max=200)])
    short_name = StringField(_l("Tên viết tắt (dùng trong ký hiệu)"), validators=[Length(max=30)])
    kind = SelectField(_l("Loại"), choices=[(k.value, v) for k, v in ORG_KIND_LABELS.items()])
    is_issuing = BooleanField(_l("Là cơ quan ban hành (có văn thư, con dấu, sổ văn bản riêng)"))
    parent_id = StringField(_l("Mã số cơ quan cấp trên"), validators=[Optional()])
    organ_id = StringField(_l("Mã định danh (QĐ 20/2020)"), validators=[Length(max=35)])
    legacy_organ_id = StringField(_l("Mã định danh cũ (QCVN 102:2016)"), validators=[Length(max=13)])
    address = StringField(_l("Địa chỉ"), validators=[Length(max=250)])
    email = StringField(_l("Thư điện tử"), validators=[Length(max=100)])
    phone = StringField(_l("Điện thoại"), validators=[Length(max=20)])
    fax = StringField(_l("Fax"), validators=[Length(max=20)])
    website = StringField(_l("Trang thông tin điện tử"), validators=[Length(max=100)])
