"""The job queue's rows, in Huey's immediate mode: claims, retries with back-off, the reaper, the
periodic list; and the register book's failed page with "Chạy lại"."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import jobs
from portal.audit import AuditEntry
from portal.db import utcnow
from portal.jobs import queue, runner
from portal.jobs.models import Job, JobState
from portal.registers import jobs as books
from portal.registers.models import JobStatus, ReportJob
from tests.incoming_fixtures import office  # noqa: F401 (the fixture)
from tests.test_registers import HX, YEAR, add_incoming

CALLS: list[dict] = []
FAILED: list[int] = []


@jobs.kind("test.ok")
def _ok(**args):
    CALLS.append(args)
    return {"seen": args}


@jobs.kind("test.broken", max_attempts=2, on_failed=lambda row: FAILED.append(row.id))
def _broken(**args):
    raise RuntimeError("hỏng")


@pytest.fixture(autouse=True)
def _clean():
    CALLS.clear()
    FAILED.clear()


def test_the_tests_use_huey_in_immediate_mode(app):
    assert app.extensions["huey"].immediate


def test_a_job_runs_once_and_keeps_its_result(db):
    job = jobs.enqueue("test.ok", n=1, text="văn bản")
    db.commit()
    assert (job.state, job.attempts) == (JobState.QUEUED, 0)

    [done] = jobs.run_due()

    assert done is not None
    assert done.state == JobState.DONE
    assert (done.attempts, done.lease_owner, done.lease_expires_at) == (1, None, None)
    assert done.result == '{"seen": {"n": 1, "text": "văn bản"}}'
    assert CALLS == [{"n": 1, "text": "văn bản"}]
    assert jobs.run(job.id) is None  # a second push of the same row does nothing
    assert len(CALLS) == 1


def test_the_huey_task_runs_the_row(app, db):
    job = jobs.enqueue("test.ok", n=2)
    db.commit()
    app.extensions["huey.run_job"](job.id)  # immediate mode: runs now, in this process
    assert db.get(Job, job.id).state == JobState.DONE


def test_a_claim_is_exclusive_and_waits_for_not_before(db, app):
    job = jobs.enqueue("test.ok")
    db.commit()
    now = utcnow()
    assert not runner.claim(job.id, "a", now - timedelta(seconds=5))  # not due yet at that time
    assert runner.claim(job.id, "a", now)
    assert not runner.claim(job.id, "b", now)
    db.refresh(job)
    assert (job.lease_owner, job.attempts, job.state) == ("a", 1, JobState.RUNNING)
    assert job.lease_expires_at == now + timedelta(seconds=app.config["JOBS_LEASE_SECONDS"])


def test_a_failure_is_retried_with_back_off_then_fails(db, app):
    job = jobs.enqueue("test.broken")
    db.commit()
    start = utcnow()
    [first] = jobs.run_due(start)
    assert first.state == JobState.QUEUED
    assert first.attempts == 1
    assert first.error == "RuntimeError: hỏng"
    wait = timedelta(seconds=app.config["JOBS_BACKOFF_SECONDS"])
    assert start + wait <= first.not_before <= utcnow() + wait
    assert jobs.run_due(start) == []  # the back-off holds it

    [second] = jobs.run_due(first.not_before)
    assert second.state == JobState.FAILED
    assert second.attempts == 2
    assert second.finished_at is not None
    assert [job.id] == FAILED
    assert runner.backoff(1) == wait
    assert runner.backoff(3) == wait * 4


def _claimed_and_abandoned(db, kind="test.ok", **kw) -> Job:
    job = jobs.enqueue(kind, **kw)
    job.not_before = utcnow() - timedelta(minutes=10)
    db.commit()
    assert runner.claim(job.id, "dead-host:1:1", utcnow() - timedelta(minutes=5))
    return job


def test_the_reaper_queues_a_lost_job_again_and_fails_it_after_the_last_attempt(db):
    job = _claimed_and_abandoned(db, "test.broken")  # max 2 attempts
    live = jobs.enqueue("test.ok")
    db.commit()
    assert runner.claim(live.id, "alive", utcnow())  # its lease runs: not touched

    assert jobs.reap() == (1, 0)
    db.refresh(job)
    assert (job.state, job.lease_owner, job.attempts) == (JobState.QUEUED, None, 1)
    assert job.error == runner.LOST.format(attempt=1, max=2)
    assert db.get(Job, live.id).state == JobState.RUNNING

    assert runner.claim(job.id, "dead-again", job.not_before)
    db.execute(Job.__table__.update().where(Job.id == job.id).values(lease_expires_at=utcnow() - timedelta(1)))
    db.commit()
    assert jobs.reap() == (0, 1)
    db.refresh(job)
    assert job.state == JobState.FAILED
    assert [job.id] == FAILED


def test_the_reaper_pushes_a_queued_row_nobody_took(db, monkeypatch):
    job = jobs.enqueue("test.ok")
    job.not_before = utcnow() - runner.STALE_QUEUED - timedelta(seconds=1)
    db.commit()
    pushed = []
    monkeypatch.setattr(queue, "push", lambda job_id, not_before=None: pushed.append(job_id))
    jobs.reap()
    assert pushed == [job.id]
    assert db.get(Job, job.id).not_before > utcnow() - timedelta(seconds=5)


def test_a_rolled_back_enqueue_is_never_pushed(db, monkeypatch):
    pushed = []
    monkeypatch.setattr(queue, "push", lambda job_id, not_before=None: pushed.append(job_id))
    jobs.enqueue("test.ok")
    db.rollback()
    db.commit()
    assert pushed == []
    job = jobs.enqueue("test.ok")
    db.commit()
    assert pushed == [job.id]


def test_a_settled_row_taken_back_by_the_reaper_keeps_the_reapers_state(db):
    job = jobs.enqueue("test.ok")
    db.commit()
    assert runner.claim(job.id, runner.owner(), utcnow())
    db.execute(Job.__table__.update().where(Job.id == job.id).values(lease_owner="someone-else"))
    db.commit()
    settled = runner._settle(job.id, runner.owner(), result="1")
    assert settled.state == JobState.RUNNING
    assert settled.lease_owner == "someone-else"


def test_the_periodic_list_has_the_nightly_tasks_and_takes_more(app):
    names = {p.name: p.cron for p in jobs.PERIODIC}
    assert {"remind", "audit-verify", "storage-verify", "storage-clean"} <= set(names)
    huey = app.extensions["huey"]  # the consumer's scheduler asks Huey what is due at each minute
    due = {hour_minute: [t.name for t in huey.read_periodic(datetime(2026, 1, 1, *hour_minute, tzinfo=UTC))]
           for hour_minute in ((6, 0), (2, 0), (2, 30), (3, 0), (12, 17))}
    ours = {"portal.remind", "portal.audit-verify", "portal.storage-verify", "portal.storage-clean"}
    assert {hm: ours & set(names) for hm, names in due.items()} == {
        (6, 0): {"portal.remind"}, (2, 0): {"portal.audit-verify"}, (2, 30): {"portal.storage-verify"},
        (3, 0): {"portal.storage-clean"}, (12, 17): set()}
    with pytest.raises(ValueError, match="registered twice"):
        jobs.periodic("remind", lambda: None)


def test_unknown_kind_is_refused(db):
    with pytest.raises(LookupError):
        jobs.enqueue("no.such.kind")


# --- register books on the queue ---------------------------------------------------------------------------

def _big_book(db, login, office, monkeypatch):  # noqa: F811
    org, _unit, p = office
    for n in range(1, 4):
        add_incoming(org, n, date(YEAR, 1, n))
    db.commit()
    monkeypatch.setattr(books, "SYNC_LIMIT", 1)
    client = login(p["clerk"])
    resp = client.post("/so-van-ban/", data={"kind": "den", "year": str(YEAR)}, headers=HX)
    report = db.execute(select(ReportJob)).scalar_one()
    return client, report, p, resp


def test_a_big_book_goes_to_the_queue(db, login, office, monkeypatch):  # noqa: F811
    _client, report, _p, resp = _big_book(db, login, office, monkeypatch)
    assert resp.headers["HX-Redirect"] == f"/so-van-ban/viec/{report.id}"
    row = db.get(Job, report.job_id)
    assert (row.kind, row.args, row.state) == ("registers.book", f'{{"report_job_id": {report.id}}}', JobState.QUEUED)
    [done] = jobs.run_due()
    assert done.state == JobState.DONE
    db.refresh(report)
    assert (report.status, report.done_rows) == (JobStatus.DONE, 3)


def test_a_lost_book_fails_and_offers_chay_lai(db, login, office, monkeypatch, app):  # noqa: F811
    client, report, p, _ = _big_book(db, login, office, monkeypatch)
    row = db.get(Job, report.job_id)
    row.max_attempts = 1
    row.not_before = utcnow() - timedelta(minutes=10)
    db.commit()
    assert runner.claim(row.id, "dead:1:1", utcnow() - timedelta(minutes=5))
    assert jobs.reap() == (0, 1)

    page = client.get(f"/so-van-ban/viec/{report.id}").get_data(as_text=True)
    assert "tiến trình xử lý đã dừng hoặc gặp lỗi sau 1 lần thử" in page
    assert "Chạy lại" in page
    assert f'action="/so-van-ban/viec/{report.id}/chay-lai"' in page
    assert "every 1s" not in page  # no polling once failed (the bell polls on every page, slowly)

    officer = login(p["officer"], c=app.test_client())
    assert officer.post(f"/so-van-ban/viec/{report.id}/chay-lai").status_code == 404
    resp = client.post(f"/so-van-ban/viec/{report.id}/chay-lai", headers=HX)
    assert resp.headers["HX-Redirect"] == f"/so-van-ban/viec/{report.id}"
    db.refresh(report)
    assert report.status == JobStatus.QUEUED
    assert report.job_id != row.id
    audit = db.execute(select(AuditEntry).where(AuditEntry.action == "registers.retried")).scalar_one()
    assert audit.object_id == str(report.id)
    assert client.post(f"/so-van-ban/viec/{report.id}/chay-lai", headers=HX).status_code == 409  # already queued

    [done] = jobs.run_due()
    assert done.state == JobState.DONE
    db.refresh(report)
    assert report.status == JobStatus.DONE
    assert client.get(f"/so-van-ban/viec/{report.id}/tai-ve").data.startswith(b"%PDF-")


def test_the_queue_is_a_sqlite_file_or_redis(app, tmp_path):
    from flask import Flask

    other = Flask("q", instance_path=str(tmp_path / "instance"))
    other.config.update(DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}", REDIS_URL="", REDIS_PREFIX="x:")
    assert queue.queue_file(other.config, other.instance_path) == tmp_path / "portal-queue.db"
    other.config["DATABASE_URL"] = "postgresql+psycopg://u@h/db"
    assert queue.queue_file(other.config, other.instance_path) == tmp_path / "instance" / "queue.db"

    prefix = f"qlvb-test-{uuid.uuid4().hex[:8]}:"
    other.config.update(REDIS_URL="redis://127.0.0.1:6379/0", REDIS_PREFIX=prefix)
    huey = queue.make_huey(other)
    try:
        huey.storage.conn.ping()
    except Exception as exc:
        pytest.skip(f"Redis: {exc}")
    assert huey.name == f"{prefix}jobs"
    huey.task(name="noop")(lambda: None)()
    assert huey.pending_count() == 1
    huey.flush()
    assert not huey.storage.conn.keys(f"*{prefix}*")
