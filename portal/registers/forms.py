"""The print form of a register book. Rules live in ``registers.services.check`` (one home,
Vietnamese messages); the form only carries what was typed."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField
from wtforms.validators import Optional

from portal.form_fields import DateVNField
from portal.registers.pdf import LAYOUTS

ALL_BOOKS = "Tất cả sổ (trừ sổ mật)"


class PrintForm(FlaskForm):
    kind = SelectField("Sổ", choices=[SelectChoice(k, layout.title) for k, layout in LAYOUTS.items()], default="den")
    year = IntegerField("Năm", validators=[Optional()])
    date_from = DateVNField("Từ ngày", validators=[Optional()])
    date_to = DateVNField("Đến ngày", validators=[Optional()])
    book_id = SelectField("Sổ văn bản", coerce=str, choices=[SelectChoice("", ALL_BOOKS)], default="",
                          validate_choice=False)
    volume = IntegerField("Quyển số", default=1, validators=[Optional()])

    def errors_from(self, errors: dict[str, str]) -> None:
        """Show the service's messages at their fields."""
        for name, message in errors.items():
            target = getattr(self, name, None) or self.kind
            target.errors = [*(target.errors or []), message]
