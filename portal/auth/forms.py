from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Tên đăng nhập"), validators=[
        DataRequired(_l("Hãy nhập tên đăng nhập.")), Length(max=64, message=_l("Tên đăng nhập tối đa 64 ký tự."))],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(_l("Mật khẩu"), validators=[
        DataRequired(_l("Hãy nhập mật khẩu.")), Length(max=128, message=_l("Mật khẩu tối đa 128 ký tự."))],
        render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A CSRF-protected button."""


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[
        DataRequired(_l("Hãy nhập mật khẩu hiện tại.")), Length(max=128, message=_l("Mật khẩu tối đa 128 ký tự."))],
        render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("Mật khẩu mới"), validators=[
        DataRequired(_l("Hãy nhập mật khẩu mới."))],
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"), validators=[
        DataRequired(_l("Hãy nhập lại mật khẩu mới.")),
        EqualTo("new_password", message=_l("Hai lần nhập mật khẩu mới không khớp."))],
        render_kw={"autocomplete": "new-password"})


class SignatureImageForm(FlaskForm):
    image = FileField(_l("Ảnh chữ ký (PNG nền trong suốt, màu xanh)"), render_kw={"accept": "image/png"})
