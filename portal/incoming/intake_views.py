"""Paper intake (nhập văn bản giấy, with a one-time token: one form, one document), what became of
what this organisation sent, and the person's reminders."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import current_user, login_required

from portal import once, storage
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.errors import ValidationFailed
from portal.incoming import bp, services
from portal.incoming.forms import NewDocumentForm
from portal.incoming.models import Assignment, FileRole
from portal.incoming.views import _crumbs, _offer, _uploads
from portal.incoming.workflow import at
from portal.steps import put_errors
from portal.web import client_redirect, flash_ok, render

# --- paper documents, sent, reminders -----------------------------------------------------------------

@bp.route("/moi", methods=["GET", "POST"])
@login_required
def new():
    """Nhập văn bản giấy: the scan (PDF), attachments and metadata, registered at once."""
    if not services.is_clerk(current_user):
        abort(403)
    form = NewDocumentForm()
    _offer(form, services.org_id(current_user))
    duplicates: list[IncomingDocument] = []
    token = request.form.get(once.FIELD)
    if form.validate_on_submit():
        if (made := once.claim(current_user.id, token, "incoming.digitise")) is not None:
            return _already_entered(made)
        scan = form.scan.data
        try:
            doc = services.digitise(current_user, form.metadata(), services.Upload(
                scan.filename if scan else "", scan.stream if scan else b"", FileRole.MAIN),
                _uploads(form.attachments.data, FileRole.ATTACHMENT),
                confirm_duplicate=bool(form.confirm_duplicate.data))
        except services.Duplicate as exc:
            session.rollback()
            form.form_errors.append(str(exc))
            duplicates = exc.matches
        except (ValidationFailed, storage.StorageError) as exc:
            session.rollback()
            put_errors(form, exc.errors if isinstance(exc, ValidationFailed) else {"upload": str(exc)})
        else:
            once.remember(token, doc.id)
            flash_ok(f"Đã vào sổ văn bản giấy, số đến {doc.arrival_number:02d}.")
            return client_redirect(url_for("incoming.document", document_id=doc.id))
    return render("incoming/new.html", "incoming/_doc_new_form.html", 422 if form.is_submitted() else 200,
                  form=form, duplicates=duplicates, once_field=once.FIELD, once_token=token or once.new_token(),
                  breadcrumbs=_crumbs(("Nhập văn bản giấy", request.path)))


def _already_entered(document_id: int):  # type: ignore[no-untyped-def]
    """The same intake form again (double click, resubmission): nothing new, the document it made."""
    doc = session.get(IncomingDocument, document_id)
    when = at(doc.registered_at or doc.arrived_at) if doc else ""
    flash(f"Văn bản này đã được nhập lúc {when}" + (f", số đến {doc.arrival_number:02d}." if doc and doc.arrival_number
                                                    else "."), "info")
    return client_redirect(url_for("incoming.document", document_id=document_id))


@bp.get("/da-gui")
@login_required
def sent():
    """What became of what this organisation sent: the receiver's latest status only."""
    if not services.may_see_sent(current_user):
        abort(403)
    docs = services.sender_statuses(current_user)
    latest = {doc.id: (services.sender_events(doc) or [None])[-1] for doc in docs}
    return render("incoming/sent.html", docs=docs, latest=latest, return_categories=services.RETURN_CATEGORIES,
                  breadcrumbs=_crumbs(("Trạng thái văn bản đã gửi", request.path)))


@bp.get("/nhac-viec")
@login_required
def reminders():
    rows = [(r, session.get(Assignment, r.assignment_id)) for r in services.reminders_for(current_user)]
    return render("incoming/reminders.html", rows=rows, breadcrumbs=_crumbs(("Nhắc việc", request.path)))
