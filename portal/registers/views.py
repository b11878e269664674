"""Routes of the register books: the print form, the job page (polled by htmx until the PDF is
ready) and the audited download. Clerks and agency leaders only (403); a job belongs to its
requester and the organisation's clerks and leaders (404 for everyone else)."""

from __future__ import annotations

from io import BytesIO

from flask import send_file, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import storage
from portal.documents.models import Direction
from portal.errors import NotAllowed, ValidationFailed
from portal.params import parse_id
from portal.registers import bp, jobs, services
from portal.registers.forms import ALL_BOOKS, PrintForm
from portal.timeutil import local_today
from portal.web import client_redirect, render

CRUMBS = [("Trang chủ", "main.dashboard"), ("Sổ văn bản", "registers.index")]


def _printer() -> None:
    if not services.can_print(current_user):
        raise NotAllowed("registers.print", "Chỉ văn thư và lãnh đạo cơ quan được in sổ văn bản của cơ quan.")


def _page(form: PrintForm, status: int = 200):  # type: ignore[no-untyped-def]
    books = services.books_of(current_user.organisation.id)
    form.book_id.choices = [SelectChoice("", ALL_BOOKS)] + [
        SelectChoice(str(b.id), b.name,
                     optgroup="Sổ văn bản đến" if b.direction == Direction.INCOMING else "Sổ văn bản đi")
        for b in books]
    return render("registers/index.html", "registers/_form.html", status, form=form,
                  jobs=services.recent_jobs(current_user), sync_limit=jobs.SYNC_LIMIT,
                  breadcrumbs=[(label, url_for(endpoint)) for label, endpoint in CRUMBS])


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    _printer()
    form = PrintForm(year=local_today().year)
    return _page(form)


@bp.post("/")
@login_required
def create():  # type: ignore[no-untyped-def]
    """Small books are made now; big ones in the background. Either way: the job page."""
    _printer()
    form = PrintForm()
    if not form.validate():  # a malformed date must not silently fall back to the whole year
        return _page(form, 422)
    params = services.Params(kind=form.kind.data or "", year=form.year.data, date_from=form.date_from.data,
                             date_to=form.date_to.data,
                             book_id=parse_id(form.book_id.data),
                             volume=form.volume.data or 1)
    try:
        job = services.request(current_user, params)
    except ValidationFailed as exc:
        form.errors_from(exc.errors)
        return _page(form, 422)
    jobs.submit(job)
    return client_redirect(url_for("registers.job", job_id=job.id))


@bp.get("/viec/<id:job_id>")
@login_required
def job(job_id: int):  # type: ignore[no-untyped-def]
    """The page, or for htmx's polling only the progress block (which stops polling when done)."""
    job = services.job_for(current_user, job_id)
    crumbs = [(label, url_for(endpoint)) for label, endpoint in CRUMBS] + [(job.title, "")]
    return render("registers/job.html", "registers/_job.html", job=job, breadcrumbs=crumbs)


@bp.post("/viec/<id:job_id>/chay-lai")
@login_required
def retry(job_id: int):  # type: ignore[no-untyped-def]
    """"Chạy lại" a failed book: a new attempt on the queue, then the job page again."""
    job = jobs.retry(current_user, job_id)
    return client_redirect(url_for("registers.job", job_id=job.id))


@bp.get("/viec/<id:job_id>/tai-ve")
@login_required
def download(job_id: int):  # type: ignore[no-untyped-def]
    job = services.job_for(current_user, job_id)
    services.downloaded(current_user, job)
    assert job.file_sha256 is not None
    response = send_file(BytesIO(storage.read(job.file_sha256)), mimetype="application/pdf", as_attachment=True,
                         download_name=job.filename or "so-van-ban.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response
