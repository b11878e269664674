"""Quản trị → Hộp thư đi and "Gửi lại" (portal/outbox/resend.py, queries.py): provincial IT sees the failed and
waiting messages with their last error in plain words, newest first, a keyset page at a time, by list; anyone
else is refused (403). A failed message sent again arrives once through a real SMTP server (tests/smtp_server.py);
a second press is told what happened and changes nothing; a message whose content is no longer true is refused
with its reason; each resend leaves one audit row. Two presses at the same moment: test_outbox_resend_live.py."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.audit import AuditEntry
from portal.auth import management
from portal.auth.models import Role, User
from portal.db import utcnow
from portal.errors import NotAllowed, ValidationFailed
from portal.outbox import MessageState, OutboxMessage, add, drain, drain_once, messages, queries, resend
from portal.outbox.attachments import Attachment
from portal.workflow import AlreadyDone
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture: two organisations)

HX = {"HX-Request": "true"}
PAGE = "/quan-tri/hop-thu-di"
REFUSED = "ConnectionRefusedError: [Errno 111] Connection refused"


@pytest.fixture
def it(factory) -> User:
    """Provincial IT, as a signed-in session sees them (their position current)."""
    person = factory.person(Role.SYSTEM_ADMIN, organisation=factory.province(), username="qt.hopthu",
                            full_name="Quản Trị Hộp Thư")
    person.current_position = person.positions[0]
    return person


@pytest.fixture
def it_client(app, db, login, it):
    return login(it, c=app.test_client())


def failed(key: str, to: str = "nguoi.nhan@ninhbinh.gov.vn", *, kind: str = "test", error: str = REFUSED,
           user_id: int | None = None, attachments: list[Attachment] | None = None) -> OutboxMessage:
    """A message the drain gave up on after its last try (as if; the real way is in the first test)."""
    add(kind, to, f"Thư thử {key}", "Nội dung có dấu: ơ ư đ", key, user_id=user_id, attachments=attachments)
    return given_up(key, error)


def given_up(key: str, error: str = REFUSED) -> OutboxMessage:
    from portal.db import session

    session.execute(update(OutboxMessage).where(OutboxMessage.key == key)
                    .values(state=MessageState.FAILED, attempts=drain.MAX_ATTEMPTS, last_error=error))
    session.commit()
    session.expire_all()
    return session.execute(select(OutboxMessage).where(OutboxMessage.key == key)).scalar_one()


def audit_rows(db, action: str, message: OutboxMessage) -> list[AuditEntry]:
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action,
                                                    AuditEntry.object_id == str(message.id))).scalars())


def follow(client, resp) -> str:
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return client.get(resp.headers["Location"]).get_data(as_text=True)


# --- who sees the page ---------------------------------------------------------------------------------------

def test_the_page_is_provincial_its_and_anyone_else_is_refused(app, db, factory, login, it_client):
    message = failed("test.trang")
    page = it_client.get(PAGE)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<html" in body
    assert 'href="/quan-tri/hop-thu-di" aria-current="page"' in body
    assert "nguoi.nhan@ninhbinh.gov.vn" in body
    assert "Thư thử test.trang" in body
    assert "Máy chủ thư từ chối kết nối" in body  # the error in words, the original under "Chi tiết kỹ thuật"
    assert REFUSED in body
    assert f'action="/quan-tri/hop-thu-di/{message.id}/gui-lai"' in body
    fragment = it_client.get(PAGE, query_string={"ds": "loi"}, headers=HX).get_data(as_text=True)
    assert "<html" not in fragment
    assert "Thư thử test.trang" in fragment

    org = factory.organisation()
    for role in (Role.CLERK, Role.ORG_ADMIN, Role.OFFICER):
        other = login(factory.person(role, organisation=org), c=app.test_client())
        assert other.get(PAGE).status_code == 403
        assert other.get(PAGE, headers=HX).status_code == 403
        assert other.post(f"{PAGE}/{message.id}/gui-lai").status_code == 403
        assert other.post(f"{PAGE}/999999/gui-lai").status_code == 403  # no hint of which ids exist
        if role == Role.ORG_ADMIN:
            assert "hop-thu-di" not in other.get("/quan-tri/nguoi-dung").get_data(as_text=True)
    db.expire_all()
    assert (message.state, message.attempts) == (MessageState.FAILED, drain.MAX_ATTEMPTS)
    assert audit_rows(db, "outbox.resend", message) == []
    assert it_client.post(f"{PAGE}/999999/gui-lai").status_code == 404


def subjects(body: str) -> list[str]:
    return re.findall(r"<br>(Thư [^<]+)</td>", body)


def next_page(body: str) -> str | None:
    found = re.search(r'<a href="([^"]+)"[^>]*rel="next"', body)
    return html.unescape(found.group(1)) if found else None


def test_newest_first_a_keyset_page_at_a_time_by_list(db, it_client, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for n in range(5):
        failed(f"test.trang.{n}")
    add("test", "cho@ninhbinh.gov.vn", "Thư đang chờ", "…", "test.cho")
    add("test", "da-gui@ninhbinh.gov.vn", "Thư đã gửi", "…", "test.da-gui")
    db.execute(update(OutboxMessage).where(OutboxMessage.key == "test.da-gui")
               .values(state=MessageState.SENT, sent_at=utcnow(), attempts=1))
    db.commit()

    pages, url = [], f"{PAGE}?ds=loi"
    while url:
        body = it_client.get(url, headers=HX).get_data(as_text=True)
        assert ("Về trang đầu" in body) == bool(pages)
        pages.append(subjects(body))
        url = next_page(body)
    assert pages == [["Thư thử test.trang.4", "Thư thử test.trang.3"], ["Thư thử test.trang.2", "Thư thử test.trang.1"],
                     ["Thư thử test.trang.0"]]  # each failed message once, newest first, and no other

    monkeypatch.setattr(queries, "PAGE_SIZE", 10)
    assert subjects(it_client.get(PAGE, query_string={"ds": "dang-cho"}).get_data(as_text=True)) == ["Thư đang chờ"]
    assert subjects(it_client.get(PAGE, query_string={"ds": "da-gui"}).get_data(as_text=True)) == ["Thư đã gửi"]
    default = it_client.get(PAGE).get_data(as_text=True)  # failed and waiting
    assert subjects(default) == ["Thư đang chờ", *(f"Thư thử test.trang.{n}" for n in range(4, -1, -1))]
    assert re.search(r'href="/quan-tri/hop-thu-di\?ds=loi">Gửi không được <span class="count count-some">5<', default)
    assert len(subjects(it_client.get(PAGE, query_string={"ds": "tat-ca"}).get_data(as_text=True))) == 7
    assert it_client.get(PAGE, query_string={"ds": "khong-co"}).status_code == 422
    for cursor in ("rac", "0", "-1", "9" * 11, "1.5"):
        assert it_client.get(PAGE, query_string={"sau": cursor}).status_code == 422, cursor


def test_the_last_error_in_plain_words():
    said = queries.plain_error
    assert said(None) == ("", "")
    assert said(REFUSED) == ("Máy chủ thư từ chối kết nối (máy chủ đang tắt hoặc cấu hình sai cổng).", REFUSED)
    assert said("TimeoutError: timed out")[0] == "Máy chủ thư không trả lời trong thời gian chờ."
    assert said("SMTPAuthenticationError: (535, b'5.7.8 bad')")[0].startswith("Máy chủ thư từ chối tên đăng nhập")
    assert said("SMTPDataError: (451, b'try later')")[0] == "Máy chủ thư tạm thời không nhận thư (mã 451)."
    assert said("SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED]")[0].startswith("Chứng thư bảo mật")
    assert said("ValueError: something odd") == ("Lỗi không xác định khi gửi thư; xem chi tiết kỹ thuật.",
                                                 "ValueError: something odd")
    vietnamese = "Máy chủ thư từ chối người nhận: {'x@y.vn': (550, b'no')}"
    assert said(vietnamese) == (vietnamese, "")  # a permanent failure is already a sentence
    assert said(drain.INTERRUPTED) == (drain.INTERRUPTED, "")
    stored = "IntegrityError: Tệp abcdef012345… không còn trên đĩa: mã băm SHA-256 không khớp."
    assert said(stored) == ("Tệp abcdef012345… không còn trên đĩa: mã băm SHA-256 không khớp.", "")


# --- resend ----------------------------------------------------------------------------------------------------

def test_a_failed_message_sent_again_arrives_once(db, it, it_client, mailer):
    """The real way to fail (the server down for all eight tries), then "Gửi lại" twice: one message arrives."""
    add("test", "nguoi.nhan@ninhbinh.gov.vn", "Thông báo gửi lại", "Nội dung có dấu: ơ ư đ", "test.gui-lai")
    db.commit()
    mailer.stop()
    now = utcnow()
    for _ in range(drain.MAX_ATTEMPTS):
        drain_once(now=now)
        now += timedelta(hours=2)
    message = db.execute(select(OutboxMessage).where(OutboxMessage.key == "test.gui-lai")).scalar_one()
    assert (message.state, message.attempts) == (MessageState.FAILED, drain.MAX_ATTEMPTS)
    assert "Máy chủ thư từ chối kết nối" in it_client.get(PAGE, query_string={"ds": "loi"}).get_data(as_text=True)
    mailer.start()

    first = it_client.post(f"{PAGE}/{message.id}/gui-lai")
    assert first.headers["Location"] == "/quan-tri/hop-thu-di?ds=dang-cho"
    assert "Đã xếp thư tới nguoi.nhan@ninhbinh.gov.vn gửi lại" in follow(it_client, first)
    db.expire_all()
    assert (message.state, message.attempts, message.last_error) == (MessageState.QUEUED, 0, None)
    again = follow(it_client, it_client.post(f"{PAGE}/{message.id}/gui-lai"))  # the double click
    assert "đã được xếp gửi lại lúc" in again
    assert "bởi Quản Trị Hộp Thư" in again
    assert "không xếp thêm" in again
    htmx = it_client.post(f"{PAGE}/{message.id}/gui-lai", headers=HX)
    assert htmx.status_code == 409
    assert "không xếp thêm bản nào" in htmx.get_data(as_text=True)

    [row] = audit_rows(db, "outbox.resend", message)  # one resend, whatever the presses
    details = row.details_dict
    assert (row.actor_id, details.pop("last_error")[:23]) == (it.id, "ConnectionRefusedError:")
    assert details == {"key": "test.gui-lai", "kind": "test", "recipient": "nguoi.nhan@ninhbinh.gov.vn",
                       "attempts": drain.MAX_ATTEMPTS}
    assert db.execute(select(func.count()).select_from(AuditEntry)
                      .where(AuditEntry.action == "step.repeated")).scalar() == 2  # the two repeats, as repeats

    result = drain_once(now=now)
    assert result.sent == ["test.gui-lai"]
    assert drain_once(now=now + timedelta(days=1)).sent == []
    assert [m[2]["Message-ID"] for m in mailer.received] == ["<test.gui-lai@ninhbinh.gov.vn>"]
    assert mailer.received[0][2].get_content().strip() == "Nội dung có dấu: ơ ư đ"
    db.expire_all()
    assert (message.state, message.attempts) == (MessageState.SENT, 1)
    told = follow(it_client, it_client.post(f"{PAGE}/{message.id}/gui-lai"))  # sent: never a second copy
    assert "đã được gửi lúc" in told
    assert "không gửi lại lần nữa" in told
    assert len(audit_rows(db, "outbox.resend", message)) == 1
    assert len(mailer.received) == 1


def test_only_a_failed_message_is_sent_again_and_only_by_provincial_it(db, factory, it):
    waiting = add("test", "a@ninhbinh.gov.vn", "Đang chờ", "…", "test.dang-cho")
    assert waiting
    message = db.execute(select(OutboxMessage).where(OutboxMessage.key == "test.dang-cho")).scalar_one()
    with pytest.raises(AlreadyDone, match=r"đang chờ gửi .* không cần gửi lại"):
        resend.resend(it, message)
    clerk = factory.person(Role.CLERK)
    clerk.current_position = clerk.positions[0]
    given = given_up("test.dang-cho")
    with pytest.raises(NotAllowed):
        resend.resend(clerk, given)
    with pytest.raises(NotAllowed):
        resend.get(clerk, given.id)
    assert resend.resend(it, given).state == MessageState.QUEUED


# --- content no longer true --------------------------------------------------------------------------------------

def refused(it: User, message: OutboxMessage) -> str:
    with pytest.raises(ValidationFailed) as caught:
        resend.resend(it, message)
    return caught.value.errors["resend"]


def test_an_old_message_is_refused_over_http_and_nothing_changes(db, it_client):
    message = failed("test.cu")
    from portal.db import session

    session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id)
                    .values(created_at=utcnow() - resend.STALE_AFTER - timedelta(minutes=1)))
    session.commit()
    page = it_client.get(PAGE).get_data(as_text=True)
    assert f"{message.id}/gui-lai" not in page
    assert "Không gửi lại: thư được xếp lúc" in page
    resp = it_client.post(f"{PAGE}/{message.id}/gui-lai")
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert 'role="alert"' in body
    assert "Không gửi lại thư tới nguoi.nhan@ninhbinh.gov.vn" in body
    assert "đã quá 7 ngày" in body
    db.expire_all()
    assert (message.state, message.attempts) == (MessageState.FAILED, drain.MAX_ATTEMPTS)
    assert audit_rows(db, "outbox.resend", message) == []
    assert it_client.post(f"{PAGE}/{message.id}/gui-lai", headers=HX).status_code == 422


def test_a_message_whose_files_are_gone_is_refused(db, it):
    gone = Attachment("ab" * 32, "Quyết định số 05.pdf", "application/pdf")
    message = failed("test.tep", attachments=[gone])
    assert "tệp đính kèm không còn trong kho lưu trữ: Quyết định số 05.pdf" in refused(it, message)


def test_notices_overtaken_by_what_happened_since_are_refused(db, factory, it):
    person = factory.person(Role.OFFICER)
    person.email = "nguoi.dung@ninhbinh.gov.vn"
    db.flush()
    management.lock(it, person, "Nghi bị lộ mật khẩu")
    locked = given_up(db.execute(select(OutboxMessage.key).where(OutboxMessage.kind == "account_locked")).scalar_one())
    assert resend.stale(locked) is None  # still locked: the notice is true
    management.unlock(it, person)
    assert "tài khoản đã được mở khóa" in refused(it, locked)

    management.reset_password(it, person)
    reset = given_up(db.execute(select(OutboxMessage.key).where(OutboxMessage.kind == "password_reset")).scalar_one())
    assert resend.stale(reset) is None
    person.password_changed_at = utcnow() + timedelta(minutes=1)  # the person chose a new password
    db.flush()
    assert "mật khẩu của người nhận đã được đổi" in refused(it, reset)

    expires = utcnow() + timedelta(days=3)
    person.password_changed_at = utcnow() - timedelta(days=1)
    messages.password_expiring(person, expires, 3)
    expiring = given_up(db.execute(select(OutboxMessage.key)
                                   .where(OutboxMessage.kind == "password_expiring")).scalar_one())
    assert messages.expiry_of(expiring.key) == expires
    assert resend.stale(expiring) is None
    assert "mật khẩu đã hết hạn lúc" in (resend.stale(expiring, expires + timedelta(seconds=1)) or "")
    assert resend.resend(it, expiring).state == MessageState.QUEUED


def test_a_document_recalled_since_is_never_sent_again(db, it, request):
    """The e-mailed document's key (``exchange.mail.key_of``) names the issued document; once it is recalled,
    its e-mail is refused."""
    from portal.drafts import services as drafts
    from portal.exchange import mail as email_delivery
    from tests.test_exchange_mail import by_email, emailed, issued

    w = request.getfixturevalue("drafts_world")
    draft = issued(w, recipients=[by_email("vanthu@congty-thunghiem.com.vn")])
    message = given_up(email_delivery.key_of(draft.outgoing_id, emailed(draft).id),
                       "Máy chủ thư từ chối người nhận: {'vanthu@congty-thunghiem.com.vn': (550, b'no')}")
    assert resend.stale(message) is None
    drafts.recall(w.p["clerk"], draft, "Văn bản có sai sót về căn cứ pháp lý.")
    assert "văn bản đã bị thu hồi lúc" in refused(it, message)
    row = queries.page(it, queries.view("loi")).rows[0]
    assert (row.message.id, row.resendable) == (message.id, False)
    assert "văn bản đã bị thu hồi" in (row.stale or "")
