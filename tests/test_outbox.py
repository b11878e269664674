"""The outbox against a real SMTP server on loopback (aiosmtpd: STARTTLS required, AUTH with a
Vietnamese password, a throwaway certificate validated by the portal) and a database with real
commits: a rolled-back change sends nothing; a message whose first send fails arrives once after the
server is back; the same key sends once; an interrupted send is sent again with the same
Message-ID; two drains at once send each message once."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, select

from portal.auth import management
from portal.auth.models import Role, User
from portal.db import session as db_session
from portal.db import utcnow
from portal.outbox import MessageState, OutboxMessage, add, drain, drain_once
from tests import concurrency
from tests.conftest import Factory
from tests.smtp_server import MailServer, sends_to


@pytest.fixture(scope="module")
def live(fresh_database_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from concurrency.live_app(fresh_database_url(), tmp_path_factory.mktemp("outbox-storage"))


@pytest.fixture
def app(live: Flask, smtp: MailServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    sends_to(live, smtp, monkeypatch)
    with concurrency.bound_to(live), live.app_context():
        yield live
        db_session.rollback()
        db_session.execute(delete(OutboxMessage))
        db_session.commit()


SEQUENCE = itertools.count(1)  # one live database for the module: names and codes never repeat


def _person(email: str | None = "ho.ten@ninhbinh.gov.vn", *roles: Role) -> User:
    factory = Factory(db_session())
    factory.seq = SEQUENCE
    user = factory.person(*(roles or (Role.OFFICER,)))
    user.email = email
    db_session.commit()
    user.current_position = user.positions[0]  # what a signed-in session gives the person
    return user


def _row(key_prefix: str) -> OutboxMessage:
    db_session.expire_all()
    return db_session.execute(select(OutboxMessage).where(OutboxMessage.key.startswith(key_prefix))).scalar_one()


def test_a_rolled_back_change_sends_nothing_and_a_committed_one_arrives(app, smtp):
    admin = _person("it@ninhbinh.gov.vn", Role.SYSTEM_ADMIN)
    user = _person("le.thi.hoa@ninhbinh.gov.vn")
    management.reset_password(admin, user)
    db_session.rollback()  # the reset failed after queueing its message
    result = drain_once()
    assert result.sent == []
    assert smtp.received == []
    assert db_session.execute(select(OutboxMessage)).first() is None

    admin, user = db_session.get(User, admin.id), db_session.get(User, user.id)
    admin.current_position = admin.positions[0]
    temporary = management.reset_password(admin, user)
    db_session.commit()
    result = drain_once()
    assert len(result.sent) == 1
    assert len(smtp.received) == 1
    mail_from, rcpt, message, over_tls = smtp.received[0]
    assert (mail_from, rcpt, over_tls) == ("qlvb@ninhbinh.gov.vn", ["le.thi.hoa@ninhbinh.gov.vn"], True)
    assert message["Subject"] == "Mật khẩu tài khoản của bạn đã được đặt lại"
    assert message["From"].addresses[0].display_name == "Cổng QLVB&ĐH"
    assert message["Message-ID"] == f"<{result.sent[0]}@ninhbinh.gov.vn>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert f"Kính gửi {user.full_name}," in body
    assert "Mật khẩu tạm thời không được gửi qua thư" in body
    assert temporary not in body  # the password stays on the administrator's screen
    row = _row("password-reset.")
    assert (row.state, row.attempts, row.sent_at is not None) == (MessageState.SENT, 1, True)


def test_a_failed_first_send_is_retried_and_arrives_exactly_once(app, smtp):
    admin = _person("it2@ninhbinh.gov.vn", Role.SYSTEM_ADMIN)
    user = _person("tran.van.binh@ninhbinh.gov.vn")
    management.lock(admin, user, "Nghi bị lộ mật khẩu")
    db_session.commit()
    smtp.stop()
    now = utcnow()
    result = drain_once(now=now)
    assert result.retrying == [_row("account-locked.").key]
    assert result.sent == []
    row = _row("account-locked.")
    assert (row.state, row.attempts) == (MessageState.QUEUED, 1)
    assert "ConnectionRefusedError" in (row.last_error or "")
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert drain_once(now=now + timedelta(seconds=30)).retrying == []  # not due yet: no second try

    smtp.start()
    result = drain_once(now=now + timedelta(minutes=1))
    assert result.sent == [row.key]
    assert drain_once(now=now + timedelta(hours=3)).sent == []
    assert len(smtp.received) == 1
    message = smtp.received[0][2]
    assert message["Subject"] == "Tài khoản của bạn đã bị quản trị khóa"
    assert "Lý do: Nghi bị lộ mật khẩu" in message.get_content()
    row = _row("account-locked.")
    assert (row.state, row.attempts) == (MessageState.SENT, 2)


def test_the_same_key_queued_twice_sends_once(app, smtp):
    assert add("test", "a@ninhbinh.gov.vn", "Thông báo", "Nội dung có dấu: ơ ư đ", "test.same-key") is True
    db_session.commit()
    assert add("test", "a@ninhbinh.gov.vn", "Thông báo", "Nội dung khác", "test.same-key") is False
    db_session.commit()
    assert drain_once().sent == ["test.same-key"]
    assert drain_once(now=utcnow() + timedelta(days=1)).sent == []
    assert [m[2].get_content().strip() for m in smtp.received] == ["Nội dung có dấu: ơ ư đ"]


def test_an_interrupted_send_is_sent_again_with_the_same_message_id(app, smtp, monkeypatch):
    add("test", "a@ninhbinh.gov.vn", "Thông báo", "Nội dung", "test.crash")
    db_session.commit()

    def crash(*_args: object) -> None:
        raise SystemExit("the process dies between the send and recording it")

    monkeypatch.setattr(drain, "_record_sent", crash)
    with pytest.raises(SystemExit):
        drain_once()
    monkeypatch.undo()
    for key, value in smtp.settings().items():
        monkeypatch.setitem(app.config, key, value)
    assert _row("test.crash").state == MessageState.SENDING
    assert drain_once(now=utcnow() + timedelta(minutes=5)).sent == []  # the lease has not run out
    assert drain_once(now=utcnow() + drain.LEASE + timedelta(seconds=1)).sent == ["test.crash"]
    ids = [m[2]["Message-ID"] for m in smtp.received]
    assert ids == ["<test.crash@ninhbinh.gov.vn>"] * 2  # a duplicate, recognisable as such
    row = _row("test.crash")
    assert (row.state, row.attempts, row.last_error) == (MessageState.SENT, 2, drain.INTERRUPTED)


def test_a_refused_recipient_fails_at_once_and_an_unreachable_server_after_the_last_try(app, smtp):
    add("test", "khong-ton-tai@ninhbinh.gov.vn", "Thông báo", "Nội dung", "test.refused")
    add("test", "b@ninhbinh.gov.vn", "Thông báo", "Nội dung", "test.unreachable")
    db_session.commit()
    assert drain_once().failed == ["test.refused"]
    refused = _row("test.refused")
    assert (refused.state, refused.attempts) == (MessageState.FAILED, 1)
    assert "550" in (refused.last_error or "")
    smtp.stop()
    db_session.execute(delete(OutboxMessage).where(OutboxMessage.key == "test.unreachable"))
    add("test", "b@ninhbinh.gov.vn", "Thông báo", "Nội dung", "test.unreachable")
    db_session.commit()
    now = utcnow()
    for _ in range(drain.MAX_ATTEMPTS):
        drain_once(now=now)
        now += timedelta(hours=2)
    row = _row("test.unreachable")
    assert (row.state, row.attempts) == (MessageState.FAILED, drain.MAX_ATTEMPTS)
    assert drain_once(now=now + timedelta(days=1)).failed == []


def test_two_drains_at_once_send_each_message_once(app, smtp):
    keys = [f"test.together.{n}" for n in range(8)]
    for key in keys:
        add("test", "a@ninhbinh.gov.vn", "Thông báo", key, key)
    db_session.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                drain_once()
            except BaseException as exc:
                errors.append(exc)
            finally:
                db_session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(m[2]["Message-ID"] for m in smtp.received) == sorted(f"<{k}@ninhbinh.gov.vn>" for k in keys)


def test_the_automatic_lockout_over_http_sends_its_notice(app, smtp):
    user = _person("pham.thu@ninhbinh.gov.vn")
    client = app.test_client()
    for _ in range(int(app.config["LOCKOUT_ATTEMPTS"])):
        answer = client.post("/auth/login", data={"username": user.username, "password": "sai-mat-khau"})
        assert answer.status_code == 422
    db_session.remove()
    assert drain_once().sent
    message = smtp.received[0][2]
    assert message["Subject"] == "Tài khoản của bạn đã bị tạm khóa"
    assert "vì có 5 lần nhập sai mật khẩu" in message.get_content()
    assert f"Tên đăng nhập: {user.username}" in message.get_content()
