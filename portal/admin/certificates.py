"""Quản trị → Chứng thư số (issue 16.1): IT registers each person's and organisation's certificate and
where its key is (the province's HSM by token and key label, or the person's own token). The rules live
in ``portal.signatures.certificates``."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user, login_required

from portal.admin import bp
from portal.admin.forms import CertificateForm
from portal.auth.forms import EmptyForm
from portal.errors import ValidationFailed
from portal.params import parse_id
from portal.signatures import certificates as certs
from portal.steps import put_errors
from portal.web import client_redirect, flash_ok, render

MAX_CERTIFICATE = 64 * 1024


def _page(form: CertificateForm, status: int = 200):  # type: ignore[no-untyped-def]
    rows = certs.listing(current_user)
    form.organisation_id.choices = [("", "— Không (chứng thư của một người) —")] + [
        (str(o.id), o.name) for o in certs.organisation_choices(current_user)]
    return render("admin/certificates.html", None, status, form=form, rows=rows,
                  owners=certs.owner_names(rows), labels=certs.BACKEND_LABELS,
                  stop_form=EmptyForm(prefix="stop", formdata=None),
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Quản trị", url_for("admin.organisations")),
                               ("Chứng thư số", url_for("admin.certificates"))])


@bp.get("/chung-thu-so")
@login_required
def certificates():
    return _page(CertificateForm(formdata=None))


@bp.post("/chung-thu-so")
@login_required
def register_certificate():
    form = CertificateForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    upload = form.certificate.data
    data = upload.read(MAX_CERTIFICATE + 1) if upload and upload.filename else b""
    try:
        if not data:
            raise ValidationFailed({"certificate": "Hãy chọn tệp chứng thư số (.cer, .crt, .pem)."})
        if len(data) > MAX_CERTIFICATE:
            raise ValidationFailed({"certificate": "Tệp chứng thư số tối đa 64 KB."})
        row = certs.register_by(current_user, data, username=form.username.data or "",
                                       organisation_id=parse_id(form.organisation_id.data),
                                       backend=form.backend.data or "", token_label=form.token_label.data or "",
                                       key_label=form.key_label.data or "")
    except ValidationFailed as exc:
        put_errors(form, exc.errors)
        return _page(form, 422)
    flash_ok(f"Đã đăng ký chứng thư số {row.serial}.")
    return client_redirect(url_for("admin.certificates"))


@bp.post("/chung-thu-so/<id:certificate_id>/ngung")
@login_required
def stop_certificate(certificate_id: int):
    form = EmptyForm(prefix="stop")
    if not form.validate_on_submit():
        return _page(CertificateForm(formdata=None), 400)
    row = certs.deactivate(current_user, certificate_id)
    flash_ok(f"Đã ngừng dùng chứng thư số {row.serial}.")
    return client_redirect(url_for("admin.certificates"))
