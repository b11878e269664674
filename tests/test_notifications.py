"""Notifications (issue 18 item 2): each step that puts work on someone or answers them notifies them once, in
the step's transaction; the bell counts what is unread; the page marks read; e-mail through the outbox for the
kinds a person chose (at once, or one daily digest), never an attachment, never twice."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.drafts import services
from portal.notifications import daily, service
from portal.notifications.models import Notification
from portal.outbox.models import OutboxMessage
from tests.test_drafts_workflow import CHECKLIST, cheap_seal, new_draft, system
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture)


@pytest.fixture
def w(request):
    return request.getfixturevalue("drafts_world")


def kinds_of(db, user) -> list[tuple[str, str]]:
    return [(n.kind, n.title) for n in db.execute(select(Notification).where(Notification.user_id == user.id)
                                                  .order_by(Notification.id)).scalars()]


def who(db, kind: str) -> set[int]:
    return set(db.execute(select(Notification.user_id).where(Notification.kind == kind)).scalars())


def test_the_draft_steps_notify_the_next_person_and_the_drafter(db, w):
    p = w.p
    for person in p.values():
        person.email = f"{person.username}@snv.example.gov.vn"
    draft = new_draft(w, recipients=[system(w.receiver)])
    services.submit(p["officer"], draft)
    assert [k for k, _ in kinds_of(db, p["head"])] == ["to_act"]
    assert "chờ bạn duyệt" in kinds_of(db, p["head"])[0][1]
    services.approve(p["head"], draft)
    assert [k for k, _ in kinds_of(db, p["officer"])] == ["approved"]
    assert [k for k, _ in kinds_of(db, p["checker"])] == ["to_act"]
    services.format_ok(p["checker"], draft, CHECKLIST)
    assert [k for k, _ in kinds_of(db, p["leader"])] == ["to_act"]
    services.sign(p["leader"], draft, True, services.frozen_pdf(p["leader"], draft))
    assert [k for k, _ in kinds_of(db, p["officer"])] == ["approved", "signed"]
    assert "to_act" in [k for k, _ in kinds_of(db, p["clerk"])]
    # "signed" goes by e-mail by default: one message, no attachment
    [mail] = db.execute(select(OutboxMessage).where(OutboxMessage.recipient == p["officer"].email)).scalars().all()
    assert mail.subject.startswith("[QLVB] Văn bản đã được ký số:")
    assert not mail.attachments
    services.issue(p["clerk"], draft, None, seal=cheap_seal)
    assert kinds_of(db, p["officer"])[-1][0] == "issued"
    # the drafter and the signer hear of the issuance, the recipient's clerks of the arrival; no one else
    assert who(db, "issued") == {p["officer"].id, p["leader"].id}
    assert who(db, "arrived") == {p["r_clerk"].id}
    assert who(db, "approved") == who(db, "signed") == {p["officer"].id}
    # a step sent back notifies the drafter
    other = new_draft(w, recipients=[system(w.receiver)])
    services.submit(p["officer"], other)
    services.send_back(p["head"], other, "Sửa trích yếu cho rõ")
    assert kinds_of(db, p["officer"])[-1] == ("returned", f"Dự thảo bị trả lại: {other.subject} — Sửa trích yếu cho rõ")


def test_once_per_event_the_bell_the_page_and_mark_read(db, w, app, login):
    p = w.p
    assert service.notify([p["officer"].id, p["officer"].id], "reminder", "Đôn đốc", "/du-thao/", "k.1") == 1
    assert service.notify([p["officer"].id], "reminder", "Đôn đốc", "/du-thao/", "k.1") == 0
    service.notify([p["officer"].id], "to_act", "Việc thứ hai", "/van-ban-den/", "k.2")
    service.notify([p["head"].id], "to_act", "Của người khác", "/", "k.3")
    db.commit()
    client = login(p["officer"], c=app.test_client())
    bell = client.get("/thong-bao/chuong", headers={"HX-Request": "true", "X-Portal-Background": "1"})
    assert bell.status_code == 200
    assert '<span class="bell-count">2</span>' in bell.get_data(as_text=True)
    page = client.get("/thong-bao/").get_data(as_text=True)
    assert "Đôn đốc" in page
    assert "Của người khác" not in page
    mine = db.execute(select(Notification).where(Notification.key == "k.2")).scalar_one()
    theirs = db.execute(select(Notification).where(Notification.key == "k.3")).scalar_one()
    resp = client.post(f"/thong-bao/{mine.id}/da-doc")
    assert (resp.status_code, resp.headers["Location"]) == (303, "/van-ban-den/")
    assert client.post(f"/thong-bao/{theirs.id}/da-doc").status_code == 404
    assert '<span class="bell-count">1</span>' in client.get("/thong-bao/chuong").get_data(as_text=True)
    client.post("/thong-bao/da-doc-het")
    assert "bell-count" not in client.get("/thong-bao/chuong").get_data(as_text=True)


def test_the_settings_page_lists_every_kind_with_its_e_mail_choice(db, w, app, login):
    client = login(w.p["officer"], c=app.test_client())
    page = client.get("/thong-bao/").get_data(as_text=True)
    for label in service.KINDS.values():
        assert f"<legend>{label}</legend>" in page
    for kind in service.CHOOSABLE:  # at once, the daily digest, none: one checked, the defaults first
        chosen = "now" if kind in service.DEFAULT_EMAIL else "none"
        for mode in service.MODES:
            tag = re.search(rf'<input[^>]*name="{kind}"[^>]*value="{mode}"[^>]*>', page)
            assert tag is not None, (kind, mode)
            assert ("checked" in tag.group(0)) == (mode == chosen), (kind, mode)
    assert 'name="account_locked"' not in page  # the lockout e-mail is not a choice
    assert "Luôn gửi thư ngay (thông báo bảo mật, không tắt được)." in page


def test_settings_each_kind_at_once_in_the_digest_or_not_at_all(db, w, app, login):
    p = w.p
    p["officer"].email = "soan@snv.example.gov.vn"
    db.commit()
    client = login(p["officer"], c=app.test_client())
    bad = client.post("/thong-bao/cai-dat", data={"to_act": "bogus", "signed": "now"})
    assert bad.status_code == 422
    assert "Hãy chọn gửi thư ngay, gộp thư hằng ngày hoặc không gửi thư." in bad.get_data(as_text=True)
    assert client.post("/thong-bao/cai-dat", data={"to_act": "digest", "assigned": "now", "signed": "none"}) \
        .status_code == 303
    assert {k: m for k, m in service.settings_of(p["officer"]).items() if m != "none"} == {
        "to_act": "digest", "assigned": "now"}  # a kind left out of the form: none
    service.notify([p["officer"].id], "to_act", "Việc một", "/", "d.1")
    service.notify([p["officer"].id], "to_act", "Việc hai", "/", "d.2")
    service.notify([p["officer"].id], "signed", "Không chọn loại này", "/", "d.3")
    assert db.execute(select(OutboxMessage)).scalars().all() == []  # digest: nothing at once
    service.notify([p["officer"].id], "assigned", "Giao ngay", "/", "d.4")
    [at_once] = db.execute(select(OutboxMessage)).scalars().all()
    assert at_once.subject == "[QLVB] Giao ngay"
    assert daily.daily_digest() == 1
    mail = db.execute(select(OutboxMessage).where(OutboxMessage.kind == "notification_digest")).scalar_one()
    assert "Việc một" in mail.body
    assert "Việc hai" in mail.body
    assert "Không chọn loại này" not in mail.body
    assert "Giao ngay" not in mail.body  # sent at once already
    assert daily.daily_digest() == 0  # never twice


@pytest.mark.parametrize("kind", list(service.CHOOSABLE))
def test_a_kind_turned_off_sends_no_e_mail_and_turned_on_sends_one(db, w, kind):
    officer = w.p["officer"]
    officer.email = "soan@snv.example.gov.vn"
    service.save_settings(officer, {kind: "none"})
    assert service.notify([officer.id], kind, "Tắt thư", "/", f"off.{kind}") == 1  # the notice itself is there
    assert db.execute(select(OutboxMessage)).scalars().all() == []
    service.save_settings(officer, {kind: "now"})
    service.notify([officer.id], kind, "Bật thư", "/", f"on.{kind}")
    assert [m.subject for m in db.execute(select(OutboxMessage)).scalars()] == ["[QLVB] Bật thư"]


def test_signed_turned_off_the_signing_step_notifies_without_an_e_mail(db, w):
    p = w.p
    p["officer"].email = "soan@snv.example.gov.vn"
    service.save_settings(p["officer"], {kind: mode for kind, mode in service.settings_of(p["officer"]).items()
                                         if kind != "signed"})
    draft = new_draft(w, recipients=[system(w.receiver)])
    services.submit(p["officer"], draft)
    services.approve(p["head"], draft)
    services.format_ok(p["checker"], draft, CHECKLIST)
    services.sign(p["leader"], draft, True, services.frozen_pdf(p["leader"], draft))
    assert [k for k, _ in kinds_of(db, p["officer"])] == ["approved", "signed"]
    assert db.execute(select(OutboxMessage).where(OutboxMessage.recipient == p["officer"].email)).scalars().all() \
        == []


def test_the_bell_does_not_redirect_while_a_password_change_is_forced(db, w, app, login):
    """The bell polls in the background: while a password change is forced it gets 204, never a redirect that
    would reload the change-password page over and over."""
    client = login(w.p["officer"], c=app.test_client())
    w.p["officer"].must_change_password = True
    db.commit()
    background = {"HX-Request": "true", "X-Portal-Background": "1"}
    assert client.get("/thong-bao/chuong", headers=background).status_code == 204
    assert client.get("/thong-bao/chuong").status_code in (302, 303)
