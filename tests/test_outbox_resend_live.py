""""Gửi lại" pressed twice at the same moment, over real HTTP (tests/http_concurrency.py) against a database with
real commits: the row lock lets one press queue the message and tells the other what happened (409 for an htmx
pair), one audit row, and the real SMTP server on loopback receives the message once. One live database per
module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from portal.auth.models import Role
from portal.db import session as db_session
from portal.outbox import MessageState, OutboxMessage, add, drain, drain_once
from tests.conftest import Factory
from tests.http_concurrency import Person, twice
from tests.smtp_server import MailServer
from tests.step_pairs import audit_rows, clear_answers, live_server, quiet, read

SUCCESS = "Đã xếp thư tới nguoi.nhan@ninhbinh.gov.vn gửi lại"
NOTICE = "không xếp thêm bản nào"


@pytest.fixture(scope="module")
def live(fresh_database_url, tmp_path_factory, smtp: MailServer) -> Iterator[Person]:
    for app, base in live_server(fresh_database_url(), tmp_path_factory.mktemp("storage")):
        app.config.update(smtp.settings())
        factory = Factory(db_session())
        admin = factory.person(Role.SYSTEM_ADMIN, organisation=factory.province(), username="qt.guilai",
                               full_name="Quản Trị Gửi Lại")
        username = admin.username
        db_session.commit()
        db_session.remove()
        yield Person(base, username)


def failed(key: str) -> int:
    """A message the drain gave up on, committed in a short transaction of the test's own."""
    try:
        add("test", "nguoi.nhan@ninhbinh.gov.vn", f"Thư {key}", "Nội dung có dấu: ơ ư đ", key)
        db_session.execute(update(OutboxMessage).where(OutboxMessage.key == key).values(
            state=MessageState.FAILED, attempts=drain.MAX_ATTEMPTS, last_error="TimeoutError: timed out"))
        db_session.commit()
        return db_session.execute(select(OutboxMessage.id).where(OutboxMessage.key == key)).scalar_one()
    finally:
        db_session.remove()


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_two_presses_at_once_queue_it_once_and_it_arrives_once(live: Person, smtp: MailServer, htmx: bool):
    key = f"test.cung-luc.{int(htmx)}"
    message_id = failed(key)
    quiet(live)
    smtp.received.clear()
    answers = twice(live, "POST", f"/quan-tri/hop-thu-di/{message_id}/gui-lai", htmx=htmx)
    clear_answers(live, answers, success=SUCCESS, notice=NOTICE, htmx=htmx)
    assert audit_rows("outbox.resend", message_id) == 1
    assert read(select(OutboxMessage.state).where(OutboxMessage.id == message_id)) == MessageState.QUEUED
    try:
        assert drain_once().sent == [key]
        assert drain_once().sent == []
    finally:
        db_session.remove()
    assert [m[2]["Message-ID"] for m in smtp.received] == [f"<{key}@ninhbinh.gov.vn>"]
    assert read(select(OutboxMessage.state).where(OutboxMessage.id == message_id)) == MessageState.SENT
