"""Running a print job: inline for a small book, else in a background thread.

The thread has its own application context and, through the scoped ``session``, its own
database session and connection: it commits its progress every ``PROGRESS_EVERY`` rows, so the
job page (polled by htmx, possibly served by another gunicorn worker) sees the bar move. The
rows themselves are read in short keyset batches (``services._Source``), so the commits never
cut a cursor in half, and on SQLite no write lock is held for longer than one batch.

``run(job_id)`` is the whole job and can be called directly: tests run it inline, because a
thread with its own connection cannot see the uncommitted data of a test's outer transaction.

Not handled yet: a worker that dies mid-job leaves its job "Đang tạo" for good (there is no
heartbeat column to tell a dead job from a slow one); the person simply asks again.
"""

from __future__ import annotations

import tempfile
import threading

from flask import Flask, current_app

from portal import storage
from portal.db import session, utcnow
from portal.registers import pdf, services
from portal.registers.models import JobStatus, ReportJob

SYNC_LIMIT = 2000  # rows: smaller books are made during the request and offered at once
PROGRESS_EVERY = 500
FAILED = ("Không tạo được sổ do lỗi hệ thống. Vui lòng thử lại; nếu vẫn lỗi, hãy báo quản trị hệ thống "
          "(mã việc {id}).")


def submit(job: ReportJob) -> None:
    """Commit the request's transaction (the job row, its audit record) so that a worker thread
    can read the job, then make the book now if it is small, else start the thread."""
    session.commit()
    if job.total_rows < SYNC_LIMIT:
        run(job.id)
    else:
        spawn(current_app._get_current_object(), job.id)  # type: ignore[attr-defined]


def spawn(app: Flask, job_id: int) -> threading.Thread:
    thread = threading.Thread(target=_work, args=(app, job_id), name=f"so-van-ban-{job_id}", daemon=True)
    thread.start()
    return thread


def _work(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            run(job_id)
        finally:
            session.remove()


def run(job_id: int) -> ReportJob:
    """Make the PDF of one queued job, store it (SHA-256) and mark the job done, committing as it
    goes; any failure marks the job failed with a Vietnamese message and is logged."""
    job = session.get_one(ReportJob, job_id, populate_existing=True)
    if job.status != JobStatus.QUEUED:  # started already, by another worker or a double submit
        return job
    job.status = JobStatus.RUNNING
    session.commit()
    try:
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
    except Exception:
        current_app.logger.exception("Sổ văn bản: việc %s lỗi", job_id)
        session.rollback()
        job = session.get_one(ReportJob, job_id, populate_existing=True)
        job.status = JobStatus.FAILED
        job.error = FAILED.format(id=job_id)
        job.finished_at = utcnow()
        session.commit()
    return job
