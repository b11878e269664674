"""E-mail as a delivery channel (issue 17 item 6) against a real SMTP server on loopback (aiosmtpd, STARTTLS and
AUTH required, tests/smtp_server.py): a document issued with the development PKI to a recipient reached only by
e-mail arrives as a message whose attached PDF carries two valid signatures, with its Vietnamese subject and file
names intact; the sender's page shows it sent. A server that is down leaves the message waiting with the reason,
then failed; a refused mailbox, a message over the size cap and a file changed on disk fail at once and say why.
Queued twice, it is one message; a missing or malformed address stops the issuance."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import storage
from portal.db import utcnow
from portal.documents.models import DocumentType, OutgoingDocument
from portal.drafts import services
from portal.drafts.models import Draft, Recipient, SendMethod
from portal.errors import ValidationFailed
from portal.exchange import delivery
from portal.exchange import mail as email_delivery
from portal.outbox import MessageState, OutboxMessage, attachments, drain, drain_once, sender
from portal.signatures import service as signatures
from portal.signing import verification
from tests.conftest import PASSWORD
from tests.signing_fixtures import fixture_draft_pdf  # noqa: F401  (fixture)
from tests.test_drafts_workflow import CLIENT, PDF, World, cheap_seal, data, dev_root, system, to_signing
from tests.test_drafts_workflow import dev_signing as drafts_signing  # noqa: F401  (fixture: the development PKI)
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture: two organisations)

ADDRESS = "vanthu@congty-thunghiem.com.vn"
OUTSIDE = "Công ty Cổ phần Thử Nghiệm Số Đồng Nai"
ANNEX = "Phụ lục – Danh sách thành viên tổ công tác chuyển đổi số của Sở Nội vụ tỉnh Ninh Bình.pdf"


@pytest.fixture
def w(request: pytest.FixtureRequest) -> World:
    return request.getfixturevalue("drafts_world")


@pytest.fixture
def pki_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("drafts_signing")


def by_email(address: str | None = ADDRESS, name: str = OUTSIDE) -> services.RecipientSpec:
    return services.RecipientSpec(name=name, method=SendMethod.EMAIL, address=address)


def new_draft(w: World, pdf: bytes = PDF, recipients: list | None = None, annex: bytes | None = None,
              doc_type: DocumentType | None = None) -> Draft:
    return services.create(w.p["officer"], data(w, doc_type), services.Upload("du-thao.pdf", pdf),
                           [services.Upload(ANNEX, annex)] if annex is not None else [],
                           recipients=recipients if recipients is not None else [by_email()])


def issued(w: World, recipients: list | None = None, annex: bytes | None = None) -> Draft:
    """A draft signed without cryptography and issued with a cheap seal (tests not about the signatures)."""
    draft = new_draft(w, PDF, recipients, annex)
    to_signing(w, draft)
    services.sign(w.p["leader"], draft, True, services.frozen_pdf(w.p["leader"], draft))
    services.issue(w.p["clerk"], draft, None, seal=cheap_seal)
    return draft


def emailed(draft: Draft) -> Recipient:
    return next(r for r in services.recipients_of(draft) if r.method == SendMethod.EMAIL)


def row(db, draft: Draft) -> OutboxMessage:
    db.expire_all()
    key = email_delivery.key_of(draft.outgoing_id, emailed(draft).id)
    return db.execute(select(OutboxMessage).where(OutboxMessage.key == key)).scalar_one()


def status(draft: Draft, method: SendMethod = SendMethod.EMAIL) -> services.RecipientStatus:
    return next(s for s in services.recipient_statuses(draft) if s.recipient.method == method)


# --- the document arrives, signed --------------------------------------------------------------------------


def test_an_emailed_document_arrives_with_its_signatures_and_names(db, w, pki_dir, draft_pdf, mailer, login):
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf, [system(w.receiver), by_email()], annex=draft_pdf, doc_type=w.decision)
    to_signing(w, draft)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    out = services.issue(w.p["clerk"], draft, None).outgoing
    code = f"{out.code_number}/{out.code_notation}"
    assert status(draft).label == "Đang chờ gửi thư"

    result = drain_once()
    assert result.sent == [email_delivery.key_of(out.id, emailed(draft).id)]
    [(envelope_from, envelope_to, message, tls)] = mailer.received
    assert (envelope_from, envelope_to, tls) == ("qlvb@ninhbinh.gov.vn", [ADDRESS], True)
    assert message["Subject"] == f"Văn bản số {code} của Sở Nội vụ Thử: Về việc kiện toàn tổ công tác chuyển đổi số"
    assert message["Message-ID"] == f"<document.{out.id}.{emailed(draft).id}@ninhbinh.gov.vn>"
    text = message.get_body(("plain",)).get_content()
    for words in (f"Kính gửi: {OUTSIDE}", "Sở Nội vụ Thử gửi văn bản sau", f"Số, ký hiệu: {code}",
                  "Trích yếu: Về việc kiện toàn tổ công tác chuyển đổi số", "có chữ ký số",
                  "gửi qua thư điện tử công vụ theo quy định", "Người ký: Giám đốc Lê Văn Giám"):
        assert words in text, words

    main, annex = message.iter_attachments()
    assert main.get_filename() == f"{out.code_number}-{out.code_notation}.pdf".replace("/", "-")  # "…-QĐ-SNVT.pdf"
    assert "Đ" in main.get_filename()
    assert annex.get_filename() == ANNEX  # long enough for RFC 2231 continuations
    raw = mailer.received[0][2].as_bytes()
    assert b"filename*0*=utf-8''" in raw
    assert all(len(line) <= 78 for line in raw.splitlines() if not line.startswith(b"Subject"))
    assert (main.get_content_type(), annex.get_content_type()) == ("application/pdf", "application/pdf")
    pdf = main.get_content()
    assert pdf == storage.read(out.main_file_sha256)
    report = verification.verify(pdf, [dev_root(pki_dir)])
    assert report.verdict == "Hợp lệ"
    assert [(s.intact, s.trusted, s.valid) for s in report.signatures] == [(True, True, True)] * 2
    assert annex.get_content() == draft_pdf

    shown = status(draft)
    assert (shown.label, shown.at, shown.reason) == ("Đã gửi thư điện tử", row(db, draft).sent_at, None)
    assert [line[1] for line in shown.history] == [f"Đã xếp thư gửi tới {ADDRESS} vào hộp thư đi",
                                                   "Đã gửi thư điện tử"]
    assert status(draft, SendMethod.SYSTEM).code == "01"  # the organisation inside got it as before
    page = login(w.p["clerk"]).get(f"/du-thao/{draft.id}").get_data(as_text=True)
    assert "Đã gửi thư điện tử" in page
    assert drain_once(now=utcnow() + timedelta(days=1)).sent == []  # once


def test_queued_twice_is_one_message(db, w, mailer):
    draft = issued(w)
    out = db.get(OutgoingDocument, draft.outgoing_id)
    main = delivery.File("ban-chinh.pdf", PDF)
    email_delivery.queue_document(out, w.org, emailed(draft), main, [])  # issuance queued it already
    count = db.execute(select(func.count()).select_from(OutboxMessage)
                       .where(OutboxMessage.kind == "document")).scalar_one()
    assert count == 1
    assert drain_once().sent == [row(db, draft).key]
    assert len(mailer.received) == 1
    assert drain_once(now=utcnow() + timedelta(hours=3)).sent == []


def test_a_missing_or_malformed_address_stops_the_issuance(db, w):
    for address, words in ((None, "chưa có địa chỉ thư điện tử"), ("vanthu at congty.vn", "“vanthu at congty.vn”")):
        draft = new_draft(w, PDF, [by_email(address)])
        to_signing(w, draft)
        services.sign(w.p["leader"], draft, True, services.frozen_pdf(w.p["leader"], draft))
        with pytest.raises(ValidationFailed) as refused:
            services.issue(w.p["clerk"], draft, None, seal=cheap_seal)
        message = refused.value.errors["recipients"]
        assert words in message
        assert f"Nơi nhận “{OUTSIDE}” gửi bằng thư điện tử" in message
    assert db.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 0


# --- failures, recorded and shown ------------------------------------------------------------------------


def test_a_server_that_is_down_leaves_it_waiting_then_failed(db, w, mailer):
    draft = issued(w)
    mailer.stop()
    now = utcnow()
    assert drain_once(now=now).retrying == [row(db, draft).key]
    shown = status(draft)
    assert shown.label == "Đang chờ gửi thư"
    assert "ConnectionRefusedError" in (shown.reason or "")
    assert shown.history[-1][1].startswith("Gửi thư chưa được (1 lần); thử lại lúc ")
    for _ in range(drain.MAX_ATTEMPTS - 1):
        now += timedelta(hours=2)
        drain_once(now=now)
    assert row(db, draft).state == MessageState.FAILED
    shown = status(draft)
    assert (shown.label, shown.at) == ("Gửi thư không được", None)
    assert "ConnectionRefusedError" in (shown.reason or "")
    assert shown.history[-1][1] == f"Gửi thư không được (sau {drain.MAX_ATTEMPTS} lần thử)"
    assert mailer.received == []


def test_a_refused_mailbox_fails_at_once_with_the_servers_answer(db, w, mailer):
    draft = issued(w, recipients=[by_email("khong-ton-tai@congty-thunghiem.com.vn")])
    assert drain_once().failed == [row(db, draft).key]
    shown = status(draft)
    assert shown.label == "Gửi thư không được"
    assert "550" in (shown.reason or "")


def test_over_the_size_cap_it_fails_at_once_saying_why(db, w, mailer, monkeypatch):
    draft = issued(w, annex=PDF + b"%" + b"x" * 4000)
    monkeypatch.setattr(attachments, "MAX_BYTES", 2000)
    assert drain_once().failed == [row(db, draft).key]
    reason = status(draft).reason or ""
    assert reason.startswith("Các tệp đính kèm (2 tệp, ")
    assert "vượt giới hạn" in reason
    assert "Hãy gửi văn bản bằng cách khác" in reason
    assert mailer.received == []


def test_a_file_changed_on_disk_is_never_sent(db, w, mailer):
    draft = issued(w)
    [main] = attachments.decode(row(db, draft).attachments)
    path = storage.object_path(main.sha256)
    genuine = path.read_bytes()  # the storage is the session's: put it back for the tests after this one
    try:
        path.write_bytes(genuine + b"% changed after issuance\n")
        assert drain_once().failed == [row(db, draft).key]
    finally:
        path.write_bytes(genuine)
    assert "đã bị thay đổi sau khi lưu" in (status(draft).reason or "")
    assert mailer.received == []


def test_headers_and_names_without_a_server():
    """The message itself: RFC 2231 names at character boundaries, no attachment → a plain text message."""
    settings = sender.SmtpSettings.from_config({"SMTP_HOST": "x", "SMTP_SENDER": "qlvb@ninhbinh.gov.vn"})
    plain = sender.build(sender.Outgoing("k.1", "a@x.vn", "Tiêu đề", "Nội dung"), settings, utcnow())
    assert plain.get_content_type() == "text/plain"
    encoded = attachments.rfc2231("filename", "Quyết định số 05 về việc đổi mới.pdf" * 3)
    pieces = [p.split("=", 1)[1] for p in encoded.split("; ")]
    assert len(pieces) > 1
    assert all(len(p) <= 60 for p in pieces)
    assert all(not p.endswith(("%E1", "%BB")) for p in pieces)  # a character's bytes stay together
    parsed = email.message_from_string(f"Content-Disposition: attachment; {encoded}\n\n", policy=email.policy.default)
    assert parsed.get_filename() == "Quyết định số 05 về việc đổi mới.pdf" * 3
    assert attachments.clean_name("../..\\Tờ\ttrình\n.pdf") == "-..-Tờ trình .pdf"  # no path, no hidden file
    assert attachments.decode("không phải JSON") == (attachments.BROKEN,)
