"""Exchange's pages: the type-ahead over the national agency directory (issue 17 item 5), the clerk's "Nhận văn
bản" (fetch from the axis now) and "Nhập gói tin" (import a package received another way)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from portal.auth.forms import EmptyForm
from portal.db import session
from portal.errors import ValidationFailed
from portal.exchange import agencies, edxml, inbox, tasks  # noqa: F401  (tasks: the queue's jobs and incoming's listener)
from portal.params import Text, args, query
from portal.steps import put_errors
from portal.web import client_redirect, flash_ok, render


class PackageForm(FlaskForm):
    package = FileField("Tệp gói tin (.edxml)", render_kw={"accept": ".edxml,.xml"})

bp = Blueprint("exchange", __name__, url_prefix="/lien-thong")


@bp.get("/co-quan-ngoai")
@login_required
@query(Text("q", "Tên hoặc mã cơ quan", 200))
def agency_options():
    """Any signed-in person: the directory is public (QĐ 20 codes are published), and whoever composes the
    recipients of a draft picks from it."""
    q = args()["q"]
    return render("exchange/_agency_options.html", q=q, results=agencies.search(q))


@bp.post("/nhan")
@login_required
def fetch_now():
    """Nhận văn bản: what waits on the axis, now."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = inbox.fetch_now(current_user)
    except ValidationFailed as exc:
        flash("; ".join(exc.errors.values()), "error")
        return client_redirect(url_for("incoming.index"))
    flash_ok(result.message())
    return client_redirect(url_for("incoming.index"))


@bp.route("/nhap-goi-tin", methods=["GET", "POST"])
@login_required
def import_package():
    """Nhập gói tin nhận bằng đường khác (USB, thư điện tử) vào cơ quan của văn thư."""
    form = PackageForm()
    if not inbox.may_receive(current_user):
        abort(403)
    if form.validate_on_submit():
        upload = form.package.data
        data = upload.read(edxml.DEFAULT_LIMITS.max_bytes + 1) if upload and upload.filename else b""
        try:
            result = inbox.import_file(current_user, data, upload.filename if upload else "")
        except ValidationFailed as exc:
            session.rollback()
            put_errors(form, exc.errors)
        else:
            flash_ok(result.message)
            return client_redirect(url_for("incoming.document", document_id=result.documents[0].id))
    return render("exchange/import.html", None, 422 if form.is_submitted() else 200, form=form,
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Văn bản đến", url_for("incoming.index")),
                               ("Nhập gói tin liên thông", url_for("exchange.import_package"))])
