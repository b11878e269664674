"""Making a register book: inline for a small book, else on the job queue (``portal.jobs``).

A big book is a queue job of kind ``registers.book`` whose row (``jobs``) carries the lease and the
attempts; the ``report_jobs`` row carries what the person sees (progress, file, message). The handler
commits its progress every ``PROGRESS_EVERY`` rows, so the job page (polled by htmx, possibly from
another gunicorn worker) sees the bar move; the rows are read in short keyset batches
(``services._Source``), so the commits never cut a cursor in half. An attempt that starts again
(after a failure or a consumer that died) makes the book from the start: the handler is idempotent.
When the last attempt failed or was lost, ``book_failed`` says so on the page, which offers
"Chạy lại" (``retry``: the person's POST, authorised and audited, queues a new attempt).
"""

from __future__ import annotations

import tempfile

from flask import current_app
from sqlalchemy import select

from portal import audit, jobs, storage
from portal.auth.models import User
from portal.db import session, utcnow
from portal.errors import NotAllowed
from portal.registers import pdf, services
from portal.registers.models import JobStatus, ReportJob
from portal.workflow import AlreadyDone

KIND = "registers.book"
SYNC_LIMIT = 2000  # rows: smaller books are made during the request and offered at once
PROGRESS_EVERY = 500
FAILED = ("Không tạo được sổ do lỗi hệ thống. Vui lòng thử lại; nếu vẫn lỗi, hãy báo quản trị hệ thống "
          "(mã việc {id}).")
LOST = ("Không tạo được sổ: tiến trình xử lý đã dừng hoặc gặp lỗi sau {attempts} lần thử. "
        "Bấm \"Chạy lại\" để tạo lại; nếu vẫn lỗi, hãy báo quản trị hệ thống (mã việc {id}).")


def submit(job: ReportJob) -> None:
    """A small book now, in this request; a big one on the queue (pushed when the request commits)."""
    if job.total_rows < SYNC_LIMIT:
        session.commit()
        run(job.id)
    else:
        job.job_id = jobs.enqueue(KIND, report_job_id=job.id).id


@jobs.kind(KIND, max_attempts=3, on_failed=lambda row: book_failed(row))
def make_book(report_job_id: int) -> None:
    """The queue's handler: raises on failure so that the queue retries with back-off."""
    job = session.get_one(ReportJob, report_job_id, populate_existing=True)
    if job.status == JobStatus.DONE:  # a repeated push after success
        return
    _make(job)


def book_failed(row: jobs.Job) -> None:
    job = session.execute(select(ReportJob).where(ReportJob.job_id == row.id)).scalar_one_or_none()
    if job is not None and job.status != JobStatus.DONE:
        job.status, job.finished_at = JobStatus.FAILED, utcnow()
        job.error = LOST.format(attempts=row.attempts, id=job.id)


def run(job_id: int) -> ReportJob:
    """Make a small book inline: any failure marks the job failed with a Vietnamese message."""
    job = session.get_one(ReportJob, job_id, populate_existing=True)
    if job.status != JobStatus.QUEUED:  # started already, by another worker or a double submit
        return job
    try:
        _make(job)
    except Exception:
        current_app.logger.exception("Sổ văn bản: việc %s lỗi", job_id)
        session.rollback()
        job = session.get_one(ReportJob, job_id, populate_existing=True)
        job.status, job.error, job.finished_at = JobStatus.FAILED, FAILED.format(id=job_id), utcnow()
        session.commit()
    return job


def _make(job: ReportJob) -> None:
    job.status, job.done_rows, job.error = JobStatus.RUNNING, 0, None
    session.commit()
    data = services.register_data(job, utcnow())

    def progress(done: int) -> None:
        job.done_rows = done
        job.total_rows = max(job.total_rows, done)
        session.commit()

    data.progress = progress
    data.progress_every = PROGRESS_EVERY
    with tempfile.TemporaryFile() as content:  # a yearly book is tens of MB: not in memory twice
        pdf.write_register_pdf(data, content)
        content.seek(0)
        stored = storage.save(content, job.filename or "so-van-ban.pdf")
    job.file_sha256 = stored.sha256
    job.total_rows = job.done_rows
    job.status = JobStatus.DONE
    job.finished_at = utcnow()
    session.commit()


def retry(user: User, job_id: int) -> ReportJob:
    """"Chạy lại": only a failed book, by someone who may see it and still may print; a second click
    finds it queued already (AlreadyDone, nothing changes)."""
    job = services.job_for(user, job_id)
    if not services.can_print(user):
        raise NotAllowed("registers.retry", "Chỉ văn thư và lãnh đạo cơ quan được in sổ văn bản của cơ quan.")
    session.refresh(job, with_for_update=True)
    if job.status != JobStatus.FAILED:
        raise AlreadyDone("Việc tạo sổ này không ở trạng thái lỗi (đã được chạy lại hoặc đã xong).",
                          action="registers.retry")
    job.status, job.error, job.finished_at, job.done_rows, job.file_sha256 = JobStatus.QUEUED, None, None, 0, None
    job.job_id = jobs.enqueue(KIND, report_job_id=job.id).id
    audit.record(user, "registers.retried", job, organisation_id=job.organisation_id,
                 details={"queue_job": job.job_id})
    return job
