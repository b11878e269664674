"""One real consumer process (``python -m portal.jobs.consumer``'s ``main``), SqliteHuey in a
temporary file, a database of its own with real commits: a register book's consumer is killed with
SIGKILL mid-job; a new consumer's reaper finds the expired lease and the job is queued again and
finished, or, with its attempts used up, failed with "Chạy lại" on the job page. Lease 2 s, reaper
every 1 s, no back-off (settings), so the whole test takes seconds, not minutes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.db import session as db_session
from portal.jobs.models import Job, JobState
from portal.registers import jobs as books
from portal.registers.models import JobStatus, ReportJob
from tests.concurrency import bound_to, live_app
from tests.conftest import PASSWORD, TEST_SETTINGS, Factory
from tests.incoming_fixtures import act
from tests.test_registers import HX, YEAR, add_incoming

QUEUE = {"JOBS_IMMEDIATE": False, "JOBS_LEASE_SECONDS": 2, "JOBS_REAP_SECONDS": 1, "JOBS_BACKOFF_SECONDS": 0}
# the consumer's book takes SLOW seconds more (before drawing), long enough to be killed in the middle
CONSUMER = """
import os, time
from portal.db import session
from portal.registers import pdf
if os.environ.get("SLOW"):
    real = pdf.write_register_pdf
    def slow(data, out):
        session.commit()  # as the real writer does between batches: no lock held while it works
        time.sleep(float(os.environ["SLOW"]))
        real(data, out)
    pdf.write_register_pdf = slow
from portal.jobs.consumer import main
main()
"""


@pytest.fixture
def queue_app(fresh_database_url, tmp_path, monkeypatch):
    url = fresh_database_url()
    settings = {**QUEUE, "JOBS_QUEUE_FILE": str(tmp_path / "queue.db")}
    monkeypatch.setitem(TEST_SETTINGS, "JOBS_QUEUE_FILE", settings["JOBS_QUEUE_FILE"])
    for key, value in QUEUE.items():
        monkeypatch.setitem(TEST_SETTINGS, key, value)
    app = next(live_app(url, tmp_path / "storage"))
    env = {**os.environ, **{f"PORTAL_{k}": str(v).lower() if isinstance(v, bool) else str(v)
                            for k, v in {**TEST_SETTINGS, **settings}.items()},
           "PORTAL_DATABASE_URL": url, "PORTAL_STORAGE_DIR": str(tmp_path / "storage"), "PORTAL_ENV": "development"}
    env.pop("PORTAL_TESTING", None)
    env["LOG"] = str(tmp_path / "consumer.log")
    with bound_to(app):
        yield app, env
    app.extensions["engine"].dispose()


def consumer(env: dict[str, str], slow: float = 0) -> subprocess.Popen:
    with open(env["LOG"], "a") as log:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-c", CONSUMER], env={**env, "SLOW": str(slow) if slow else ""},
                                stdout=subprocess.DEVNULL, stderr=log)


def wait_for(predicate, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db_session.remove()
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def ask_for_a_book(app, monkeypatch):
    with app.app_context():  # requests below run in their own contexts (a shared g would keep the user)
        factory = Factory(db_session())
        org = factory.organisation(name="Sở Nội vụ Thử Hàng đợi", short_name="SNVHD")
        clerk = act(factory.person(Role.CLERK, organisation=org, title="Văn thư"))
        db_session.commit()
        for n in range(1, 21):
            add_incoming(org, n, date(YEAR, 1, 1) + timedelta(days=n))
        db_session.commit()
        username = clerk.username
    db_session.remove()
    client = app.test_client()
    assert client.post("/auth/login", data={"username": username, "password": PASSWORD}).status_code == 303
    monkeypatch.setattr(books, "SYNC_LIMIT", 1)  # to the queue
    resp = client.post("/so-van-ban/", data={"kind": "den", "year": str(YEAR)})
    report_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    return client, report_id


def queue_row(report_id: int) -> SimpleNamespace:
    """The queue's row, detached: the read's transaction ends at once (on SQLite every transaction
    takes the write lock, which the consumer's heartbeat needs)."""
    report = db_session.get_one(ReportJob, report_id, populate_existing=True)
    row = db_session.get_one(Job, report.job_id, populate_existing=True)
    copy = SimpleNamespace(**{c.key: getattr(row, c.key) for c in Job.__table__.columns})
    db_session.rollback()
    return copy


def report_status(report_id: int) -> JobStatus:
    status = db_session.get_one(ReportJob, report_id, populate_existing=True).status
    db_session.rollback()
    return status


def nothing_running() -> bool:
    running = db_session.execute(select(Job.id).where(Job.state == JobState.RUNNING)).first()
    db_session.rollback()
    return running is None


@pytest.mark.parametrize("max_attempts", [3, 1])
def test_a_consumer_killed_mid_job(queue_app, monkeypatch, max_attempts):
    app, env = queue_app
    client, report_id = ask_for_a_book(app, monkeypatch)
    db_session.execute(Job.__table__.update().values(max_attempts=max_attempts))
    db_session.commit()
    first = consumer(env, slow=30)
    try:
        wait_for(lambda: queue_row(report_id).state == JobState.RUNNING)
        owner = queue_row(report_id).lease_owner
        assert owner is not None
        assert f":{first.pid}:" in owner
        time.sleep(1.5)  # a heartbeat or two
        row = queue_row(report_id)
        assert row.heartbeat_at > row.started_at
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    second = consumer(env)
    try:
        if max_attempts > 1:
            row = wait_for(lambda: (r := queue_row(report_id)).state == JobState.DONE and r)
            assert row.attempts == 2
            assert row.error is None
            body = client.get(f"/so-van-ban/viec/{report_id}", headers=HX).get_data(as_text=True)
            assert "Đã xong" in body
            assert client.get(f"/so-van-ban/viec/{report_id}/tai-ve").data.startswith(b"%PDF-")
        else:
            row = wait_for(lambda: (r := queue_row(report_id)).state == JobState.FAILED and r)
            assert row.error.startswith("Tiến trình xử lý dừng giữa chừng")
            wait_for(lambda: report_status(report_id) == JobStatus.FAILED)
            page = client.get(f"/so-van-ban/viec/{report_id}").get_data(as_text=True)
            assert "Chạy lại" in page
            assert "tiến trình xử lý đã dừng" in page
            client.post(f"/so-van-ban/viec/{report_id}/chay-lai")  # the live consumer takes it
            wait_for(lambda: report_status(report_id) == JobStatus.DONE)
        # the book's status is written inside the job, the job's own row just after: wait for it,
        # and nothing may be left running by a live consumer
        wait_for(nothing_running)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait()
