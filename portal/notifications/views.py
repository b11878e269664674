"""The bell (polled every 45 s as background: polling is not activity), the page, mark read, the settings."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice

from portal.auth.forms import EmptyForm
from portal.errors import ValidationFailed
from portal.notifications import bp, service
from portal.steps import put_errors
from portal.web import client_redirect, flash_ok, render


class SettingsForm(FlaskForm):
    """One choice per kind (a field named after the kind): e-mail at once, in the daily digest, or none."""

    def modes(self) -> dict[str, str | None]:
        return {kind: self._fields[kind].data for kind in service.CHOOSABLE}


MODES = [SelectChoice(mode, label) for mode, label in service.MODES.items()]
for _kind, _label in service.CHOOSABLE.items():  # the service says what is wrong, in Vietnamese
    setattr(SettingsForm, _kind, RadioField(_label, choices=MODES, default="none", validate_choice=False))


@bp.get("/chuong")
@login_required
def bell():
    """The bell alone: never the pending flash messages (``render`` would carry them out of band and wipe the
    page's own message when the bell loads after it)."""
    return render_template("notifications/_bell.html", count=service.unread_count(current_user), cap=service.BELL_CAP)


@bp.get("/")
@login_required
def index():
    return _page(SettingsForm(formdata=None, data=service.settings_of(current_user)))


def _page(form: SettingsForm, status: int = 200):  # type: ignore[no-untyped-def]
    return render("notifications/index.html", None, status, rows=service.recent(current_user), form=form,
                  kinds=service.KINDS, choosable=service.CHOOSABLE, read_form=EmptyForm(prefix="read", formdata=None),
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Thông báo", url_for("notifications.index"))])


@bp.post("/<id:notification_id>/da-doc")
@login_required
def read(notification_id: int):
    if not EmptyForm(prefix="read").validate_on_submit():
        abort(400)
    row = service.mark_read(current_user, notification_id)
    target = row.url if row.url and row.url.startswith("/") and not row.url.startswith("//") else None
    return client_redirect(target or url_for("notifications.index"))


@bp.post("/da-doc-het")
@login_required
def read_all():
    if not EmptyForm(prefix="read").validate_on_submit():
        abort(400)
    count = service.mark_all_read(current_user)
    flash_ok(f"Đã đánh dấu {count} thông báo là đã đọc.")
    return client_redirect(url_for("notifications.index"))


@bp.post("/cai-dat")
@login_required
def settings():
    form = SettingsForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        service.save_settings(current_user, form.modes())
    except ValidationFailed as exc:
        put_errors(form, exc.errors)
        return _page(form, 422)
    flash_ok("Đã lưu cài đặt thông báo.")
    return client_redirect(url_for("notifications.index"))


@bp.app_context_processor
def _bell_context() -> dict[str, object]:
    """The bell in every page's header, counted once with the page (then polled every 45 s)."""
    def bell_count() -> int:
        return service.unread_count(current_user) if current_user.is_authenticated else 0

    return {"bell_count": bell_count, "bell_cap": service.BELL_CAP}
