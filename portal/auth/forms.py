from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


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
