"""What the outbox queues and refuses, without a mail server: the daily password-expiry run (one
per person per expiry, the window, admins' shorter age), people without an address, keys and
addresses, the SMTP settings that stop start-up, and a drain with no server configured."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.config import ConfigError, load
from portal.db import utcnow
from portal.outbox import MessageState, OutboxMessage, add, drain_once
from portal.outbox.expiry import queue_password_expiry_notices


def _keys(db, prefix: str = "") -> list[str]:
    return list(db.execute(select(OutboxMessage.key).where(OutboxMessage.key.startswith(prefix))
                           .order_by(OutboxMessage.id)).scalars())


def test_password_expiry_notices_once_per_person_per_expiry(db, factory):
    now = utcnow()
    due = factory.person(Role.OFFICER)  # 90 days, changed 85 days ago: 5 days left
    admin = factory.person(Role.ORG_ADMIN)  # 60 days for administrators, changed 55 days ago
    early = factory.person(Role.OFFICER)  # 10 days left: not yet
    expired = factory.person(Role.OFFICER)  # already expired: the sign-in forces the change
    silent = factory.person(Role.OFFICER)  # no address
    for person, age, email in ((due, 85, "a@x.vn"), (admin, 55, "b@x.vn"), (early, 80, "c@x.vn"),
                               (expired, 95, "d@x.vn"), (silent, 85, None)):
        person.password_changed_at, person.email, person.must_change_password = now - timedelta(days=age), email, False
    db.flush()
    assert queue_password_expiry_notices(now) == 2
    assert queue_password_expiry_notices(now + timedelta(days=1)) == 0  # the next day: nothing new
    rows = db.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
    assert [r.user_id for r in rows] == [due.id, admin.id]
    assert rows[0].subject == "Mật khẩu của bạn sẽ hết hạn sau 5 ngày"
    assert "Đổi mật khẩu" in rows[0].body
    assert rows[0].recipient == "a@x.vn"
    due.password_changed_at = now - timedelta(days=88)  # changed again: a new expiry, a new notice
    db.flush()
    assert queue_password_expiry_notices(now) == 1


def test_a_person_without_a_usable_address_gets_the_notice_only(db, factory, client):
    from portal.auth import signin
    from portal.auth.sessions import Client

    person = factory.person(Role.OFFICER)
    person.email = "không phải địa chỉ"
    db.flush()
    for _ in range(5):
        with pytest.raises(signin.SignInFailed):
            signin.sign_in(person.username, "sai-mat-khau", Client(ip="127.0.0.1", user_agent="thử"))
    assert person.notice
    assert "tạm khóa" in person.notice
    assert _keys(db, "account-locked.") == []


def test_keys_addresses_and_subjects_are_checked(db):
    with pytest.raises(ValueError, match="Khóa"):
        add("test", "a@x.vn", "Tiêu đề", "Nội dung", "có dấu")
    with pytest.raises(ValueError, match="Địa chỉ"):
        add("test", "a@x.vn\r\nBcc: b@x.vn", "Tiêu đề", "Nội dung", "test.bcc")
    assert add("test", "a@x.vn", "Dòng một\r\nBcc: b@x.vn", "Nội dung", "test.subject")
    row = db.execute(select(OutboxMessage).where(OutboxMessage.key == "test.subject")).scalar_one()
    assert row.subject == "Dòng một Bcc: b@x.vn"  # one line: no header can be smuggled in


def test_without_a_mail_server_messages_wait(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    add("test", "a@x.vn", "Tiêu đề", "Nội dung", "test.waiting")
    result = drain_once()
    assert not result.configured
    assert "PORTAL_SMTP_HOST" in result.message()
    row = db.execute(select(OutboxMessage).where(OutboxMessage.key == "test.waiting")).scalar_one()
    assert (row.state, row.attempts) == (MessageState.QUEUED, 0)


@pytest.mark.parametrize(("settings", "message"), [
    ({"SMTP_HOST": "mail.x.vn", "SMTP_SENDER": ""}, "PORTAL_SMTP_SENDER"),
    ({"SMTP_HOST": "mail.x.vn", "SMTP_SENDER": "qlvb@x.vn", "SMTP_USER": "u", "SMTP_STARTTLS": False},
     "PORTAL_SMTP_STARTTLS"),
    ({"SMTP_HOST": "mail.x.vn", "SMTP_SENDER": "qlvb@x.vn", "SMTP_PORT": 0}, "PORTAL_SMTP_PORT"),
])
def test_a_half_configured_or_cleartext_mail_server_stops_start_up(settings, message):
    with pytest.raises(ConfigError, match=message):
        load({"TESTING": True, **settings})


def test_the_drain_runs_every_minute_and_the_notices_daily_on_the_queue(app):
    from portal import jobs

    cron = {task.name: task.cron for task in jobs.PERIODIC}
    assert cron["outbox-drain"] == {}  # {} = every minute
    assert cron["password-expiry-notices"] == {"hour": "7", "minute": "0"}


def test_the_commands(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    runner = app.test_cli_runner()
    assert "PORTAL_SMTP_HOST" in runner.invoke(args=["portal", "outbox-drain"]).output
    assert "Đã xếp 0 thư" in runner.invoke(args=["portal", "password-expiry-notices"]).output
