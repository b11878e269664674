"""Claiming, running and finishing a job row; the heartbeat; retries with back-off; the reaper.

A consumer claims a row with one guarded UPDATE (queued → running, attempts + 1, lease owner =
host:pid:thread, lease expiry = now + lease), so two pushes of one row run it once. While the
handler works, a heartbeat thread renews the lease every third of it on a connection of its own
(the handler's transaction is not touched). A killed consumer stops renewing: the reaper, run every
``JOBS_REAP_SECONDS`` by each consumer, finds running rows whose lease expired and queues them again
with back-off, or marks them failed after the last attempt. A failed attempt is retried after
``JOBS_BACKOFF_SECONDS × 2^(attempt-1)``."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from portal.db import session, utcnow
from portal.jobs import kinds, queue
from portal.jobs.models import Job, JobState

log = logging.getLogger(__name__)
LOST = "Tiến trình xử lý dừng giữa chừng (không còn tín hiệu hoạt động) ở lần thử {attempt}/{max}."
STALE_QUEUED = timedelta(minutes=5)  # a queued row nobody took this long: its push was lost, push again


def _seconds(name: str) -> float:
    return float(current_app.config[name])


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=_seconds("JOBS_BACKOFF_SECONDS") * 2 ** max(attempt - 1, 0))


def enqueue(kind: str, *, max_attempts: int | None = None, **args: object) -> Job:
    """A row in the caller's transaction; Huey hears of it when that transaction commits."""
    spec = kinds.get(kind)
    job = Job(kind=kind, args=json.dumps(args, ensure_ascii=False, sort_keys=True), state=JobState.QUEUED,
              max_attempts=max_attempts or spec.max_attempts, attempts=0, not_before=utcnow())
    session.add(job)
    session.flush()
    queue.push_after_commit(job.id, job.not_before)
    return job


def claim(job_id: int, me: str, now: datetime) -> bool:
    lease = now + timedelta(seconds=_seconds("JOBS_LEASE_SECONDS"))
    claimed = session.execute(
        update(Job).where(Job.id == job_id, Job.state == JobState.QUEUED, Job.not_before <= now)
        .values(state=JobState.RUNNING, attempts=Job.attempts + 1, lease_owner=me, lease_expires_at=lease,
                heartbeat_at=now, started_at=now, error=None)).rowcount
    session.commit()
    return claimed == 1


class Heartbeat(threading.Thread):
    """Renews the lease every third of it on its own connection until stopped; ``lost`` is set when
    the row is no longer ours (the reaper took it), so the runner does not overwrite its new state."""

    def __init__(self, job_id: int, me: str) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id, self.me = job_id, me
        self.engine = current_app.extensions["engine"]
        self.lease = _seconds("JOBS_LEASE_SECONDS")
        self.stopped, self.lost = threading.Event(), threading.Event()

    def beat(self) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            renewed = conn.execute(
                update(Job).where(Job.id == self.job_id, Job.lease_owner == self.me, Job.state == JobState.RUNNING)
                .values(heartbeat_at=now, lease_expires_at=now + timedelta(seconds=self.lease))).rowcount
        if not renewed:
            self.lost.set()

    def run(self) -> None:
        while not self.stopped.wait(self.lease / 3):
            try:
                self.beat()
            except Exception:  # a busy database this time; the next beat may pass before the lease ends
                log.exception("heartbeat of job %s", self.job_id)

    def stop(self) -> None:
        self.stopped.set()
        self.join()


def run(job_id: int, now: datetime | None = None) -> Job | None:
    """Claim and run one job; None when it was not ours to run (done, taken, not due yet)."""
    me = owner()
    if not claim(job_id, me, now or utcnow()):
        session.rollback()
        return None
    job = session.get_one(Job, job_id, populate_existing=True)
    spec = kinds.get(job.kind)
    heartbeat = Heartbeat(job_id, me)
    heartbeat.start()
    try:
        result = spec.handler(**json.loads(job.args))
        session.commit()
    except Exception as exc:
        heartbeat.stop()
        session.rollback()
        log.exception("job %s (%s) failed at attempt", job_id, job.kind)
        return _settle(job_id, me, error=f"{type(exc).__name__}: {exc}"[:2000])
    heartbeat.stop()
    return _settle(job_id, me, result=None if result is None else json.dumps(result, ensure_ascii=False))


def _settle(job_id: int, me: str, *, result: str | None = None, error: str | None = None) -> Job:
    """Done, or queued again with back-off, or failed after the last attempt; only while the row is
    still ours (a row the reaper took back keeps the reaper's decision)."""
    job = session.execute(select(Job).where(Job.id == job_id).with_for_update()).scalar_one()
    session.refresh(job)
    if job.state != JobState.RUNNING or job.lease_owner != me:
        session.commit()
        return job
    now = utcnow()
    job.lease_owner = job.lease_expires_at = None
    if error is None:
        job.state, job.result, job.finished_at = JobState.DONE, result, now
    else:
        _fail_or_retry(job, error, now)
    session.commit()
    _after_settling(job)
    return job


def _fail_or_retry(job: Job, error: str, now: datetime) -> None:
    job.error = error
    if job.attempts < job.max_attempts:
        job.state, job.not_before = JobState.QUEUED, now + backoff(job.attempts)
        queue.push_after_commit(job.id, job.not_before)
    else:
        job.state, job.finished_at = JobState.FAILED, now


def _after_settling(job: Job) -> None:
    spec = kinds.KINDS.get(job.kind)
    if job.state == JobState.FAILED and spec and spec.on_failed:
        try:
            spec.on_failed(session.get_one(Job, job.id))
            session.commit()
        except Exception:
            session.rollback()
            log.exception("on_failed of job %s", job.id)


def reap(now: datetime | None = None) -> tuple[int, int]:
    """Running rows whose lease expired: queued again (attempts left) or failed; queued rows left
    waiting too long: pushed again. Returns (requeued, failed)."""
    now = now or utcnow()
    expired = session.execute(
        select(Job).where(Job.state == JobState.RUNNING, Job.lease_expires_at < now)
        .order_by(Job.id).with_for_update(skip_locked=True)).scalars().all()
    requeued = failed = 0
    for job in expired:
        job.lease_owner = job.lease_expires_at = None
        _fail_or_retry(job, LOST.format(attempt=job.attempts, max=job.max_attempts), now)
        requeued += job.state == JobState.QUEUED
        failed += job.state == JobState.FAILED
    stale = session.execute(
        select(Job).where(Job.state == JobState.QUEUED, Job.not_before < now - STALE_QUEUED)
        .with_for_update(skip_locked=True)).scalars().all()
    for job in stale:
        job.not_before = now
        queue.push_after_commit(job.id, now)
    session.commit()
    for job in expired:
        _after_settling(job)
    return requeued, failed


def run_due(now: datetime | None = None) -> list[Job | None]:
    """Run every queued row that is due, in this process (immediate mode, tests, a one-off command)."""
    now = now or utcnow()
    ids = session.execute(select(Job.id).where(Job.state == JobState.QUEUED, Job.not_before <= now)
                          .order_by(Job.id)).scalars().all()
    session.commit()
    return [run(job_id, now) for job_id in ids]
