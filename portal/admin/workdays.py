"""Quản trị → Ngày làm việc (issue 18 item 4): a year's days off and compensating working days on top of
weekends and the public holidays of the ``holidays`` package. Admins read it, provincial IT changes it; the
rules live in ``portal.workdays.service``."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user, login_required

from portal.admin import bp
from portal.admin.forms import WorkdayForm
from portal.auth.forms import EmptyForm
from portal.errors import ValidationFailed
from portal.params import Int, args, query
from portal.steps import put_errors
from portal.timeutil import local_today
from portal.web import client_redirect, flash_ok, render
from portal.workdays import service

YEAR = Int("nam", "Năm", low=1995, high=2100)


def _page(form: WorkdayForm, year: int, status: int = 200):  # type: ignore[no-untyped-def]
    view = service.year_view(current_user, year)
    return render("admin/workdays.html", None, status, form=form, view=view,
                  can_manage=service.can_manage(current_user), remove_form=EmptyForm(prefix="remove", formdata=None),
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Quản trị", url_for("admin.organisations")),
                               ("Ngày làm việc", url_for("admin.workdays"))])


@bp.get("/ngay-lam-viec")
@login_required
@query(YEAR)
def workdays():
    return _page(WorkdayForm(formdata=None), args()["nam"] or local_today().year)


@bp.post("/ngay-lam-viec")
@login_required
def add_workday():
    service.require_manage(current_user)
    form = WorkdayForm()
    year = form.day.data.year if form.day.data else local_today().year
    if not form.validate_on_submit():
        return _page(form, year, 422)
    try:
        row = service.add_override(current_user, form.day.data, form.kind.data or "", form.note.data or "")
    except ValidationFailed as exc:
        put_errors(form, exc.errors)
        return _page(form, year, 422)
    flash_ok(f"Đã thêm {row.kind.label.lower()} {row.day:%d/%m/%Y}.")
    return client_redirect(url_for("admin.workdays", nam=row.day.year))


@bp.post("/ngay-lam-viec/<id:override_id>/bo")
@login_required
def remove_workday(override_id: int):
    service.require_manage(current_user)
    form = EmptyForm(prefix="remove")
    if not form.validate_on_submit():
        return _page(WorkdayForm(formdata=None), local_today().year, 400)
    row = service.remove_override(current_user, override_id)
    flash_ok(f"Đã xóa {row.kind.label.lower()} {row.day:%d/%m/%Y}; lịch trở lại như lịch nghỉ lễ.")
    return client_redirect(url_for("admin.workdays", nam=row.day.year))
