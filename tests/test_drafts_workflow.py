"""Drafts to issued documents through the services, with real signatures (SPEC §6, §7): one draft walks
every step across two organisations; the issued PDF carries two signatures that pyHanko and poppler's
pdfsig accept; the externally signed path accepts only the registered person's signature on the frozen
bytes; every refusal leaves the state as it was; recall and replacement reach the recipients.

Signing uses the development PKI of ``portal.signatures.service`` (``init_demo_pki``) in a temporary
directory: a certificate for every leader and a seal for every issuing organisation, registered to them.
Tests that are not about the cryptography store the frozen PDF as "signed" (``services.sign``) and issue
with a cheap seal callable, so they stay fast.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import storage
from portal.auth.models import AuthFailure, Role, User
from portal.auth.services import Client
from portal.db import session
from portal.documents.models import (
    DocumentType,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
    OutgoingStatus,
    RegisterBook,
    RegisterCounter,
)
from portal.drafts import services
from portal.drafts.models import Answer, Draft, DraftStatus, SendMethod
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.incoming import queries as incoming_queries
from portal.incoming import services as incoming
from portal.incoming.models import AssignmentRole
from portal.orgs import services as orgs
from portal.orgs.models import Organisation, OrgKind
from portal.signatures import service as signatures
from portal.signatures.models import SigningCertificate
from portal.signing import pdfsign, pki, verification
from portal.timeutil import local_today, local_year
from portal.workflow import AlreadyDone
from tests.conftest import PASSWORD
from tests.signing_fixtures import fixture_draft_pdf  # noqa: F401  (fixture)

S = DraftStatus
I = IncomingStatus  # noqa: E741
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CLIENT = Client("203.0.113.7", "pytest")
PDFSIG = shutil.which("pdfsig")
CHECKLIST = list(services.FORMAT_CHECKLIST)


def act(user: User) -> User:
    user.current_position = user.positions[0]
    return user


def cheap_seal(pdf: bytes, number: str, day: object) -> bytes:
    return pdf


# --- two organisations (and a third, fourth for recall) ----------------------------------------------------

@dataclass
class World:
    org: Organisation
    unit: Organisation
    receiver: Organisation
    receiver_unit: Organisation
    second: Organisation
    third: Organisation
    letter: DocumentType  # công văn: no abbreviation
    decision: DocumentType  # quyết định: QĐ
    p: dict[str, User]


@pytest.fixture
def world(db, factory) -> World:
    org = factory.organisation(name="Sở Nội vụ Thử", short_name="SNVT")
    unit = orgs.create(None, orgs.OrgData(name="Phòng Tổ chức cán bộ", short_name="TCCB",
                                          kind=OrgKind.INTERNAL_UNIT, is_issuing=False, parent_id=org.id))
    receiver = factory.organisation(name="Sở Tài chính Thử", short_name="STCT")
    receiver_unit = orgs.create(None, orgs.OrgData(name="Phòng Ngân sách", short_name="NS",
                                                   kind=OrgKind.INTERNAL_UNIT, is_issuing=False,
                                                   parent_id=receiver.id))
    second = factory.organisation(name="Sở Xây dựng Thử", short_name="SXDT")
    third = factory.organisation(name="Sở Y tế Thử", short_name="SYTT")
    p = {
        "officer": factory.person(Role.OFFICER, organisation=org, unit=unit, full_name="Ngô Văn Soạn"),
        "c1": factory.person(Role.OFFICER, organisation=org, unit=unit, full_name="Lý Thị Một"),
        "c2": factory.person(Role.OFFICER, organisation=org, unit=unit, full_name="Lý Văn Hai"),
        "c3": factory.person(Role.OFFICER, organisation=org, full_name="Lý Thị Ba"),
        "head": factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng",
                               full_name="Đỗ Thị Trưởng"),
        "checker": factory.person(Role.FORMAT_CHECKER, organisation=org, full_name="Vũ Văn Thể Thức"),
        "leader": factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc", full_name="Lê Văn Giám"),
        "deputy": factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc",
                                 full_name="Phạm Văn Phó"),
        "clerk": factory.person(Role.CLERK, organisation=org, title="Văn thư", full_name="Trần Thị Văn Thư"),
        "r_clerk": factory.person(Role.CLERK, organisation=receiver, title="Văn thư", full_name="Hồ Thị Nhận"),
        "r_leader": factory.person(Role.AGENCY_LEADER, organisation=receiver, title="Giám đốc",
                                   full_name="Mai Văn Chỉ Đạo"),
        "r_officer": factory.person(Role.OFFICER, organisation=receiver, unit=receiver_unit,
                                    full_name="Đinh Văn Xử Lý"),
        "s_clerk": factory.person(Role.CLERK, organisation=second, title="Văn thư", full_name="Chu Thị Hai"),
        "t_clerk": factory.person(Role.CLERK, organisation=third, title="Văn thư", full_name="Chu Thị Ba"),
    }
    for user in p.values():
        act(user)
    letter = DocumentType(name="Công văn", abbreviation=None)
    decision = DocumentType(name="Quyết định", abbreviation="QĐ")
    db.add_all([letter, decision])
    db.flush()
    return World(org, unit, receiver, receiver_unit, second, third, letter, decision, p)


@pytest.fixture
def dev_signing(app, monkeypatch, tmp_path) -> Path:
    """The development PKI on, in a directory of this test; call ``signatures.init_demo_pki()`` once
    the people exist."""
    monkeypatch.setitem(app.config, "SIGNING_DEV_PKI", True)
    monkeypatch.setitem(app.config, "PKI_DIR", str(tmp_path / "pki"))
    monkeypatch.setitem(app.config, "PKI_PASSPHRASE", "mat-khau-pki-kiem-thu")
    return tmp_path / "pki"


def dev_root(directory: Path):
    return pki.load_cert(pki.cert_path(directory, pki.ROOT_KEY))


def key_name_of(user: User) -> str:
    row = signatures._certificate(user_id=user.id)
    assert row is not None
    assert row.key_name
    return row.key_name


# --- helpers ----------------------------------------------------------------------------------------------

def data(w: World, doc_type: DocumentType | None = None, **kw: object) -> services.DraftData:
    base: dict[str, object] = {"subject": "Về việc kiện toàn tổ công tác chuyển đổi số",
                               "document_type_id": (doc_type or w.letter).id, "signer_id": w.p["leader"].id,
                               "signer_title": "Giám đốc"}
    base.update(kw)
    return services.DraftData(**base)  # type: ignore[arg-type]


def system(org: Organisation) -> services.RecipientSpec:
    return services.RecipientSpec(organisation_id=org.id)


POST = services.RecipientSpec(name="Công ty TNHH Thử Nghiệm Số", method=SendMethod.POST,
                              address="12 Lê Lợi, Phủ Lý, Hà Nam")


def new_draft(w: World, pdf: bytes = PDF, recipients: list[services.RecipientSpec] | None = None,
              doc_type: DocumentType | None = None, **kw: object) -> Draft:
    return services.create(w.p["officer"], data(w, doc_type, **kw), services.Upload("du-thao.pdf", pdf),
                           recipients=recipients if recipients is not None else [system(w.receiver)])


def to_signing(w: World, draft: Draft) -> None:
    services.submit(w.p["officer"], draft)
    services.approve(w.p["head"], draft)
    services.format_ok(w.p["checker"], draft, CHECKLIST)
    assert (draft.status, draft.holder_id) == (S.SIGNING, draft.signer_id)


def signed_draft(w: World, pdf: bytes = PDF, **kw: object) -> Draft:
    """At SIGNED without cryptography: the frozen bytes stored as the signed file."""
    draft = new_draft(w, pdf, **kw)
    to_signing(w, draft)
    signer = w.p["leader"]
    services.sign(signer, draft, True, services.frozen_pdf(signer, draft))
    assert draft.status == S.SIGNED
    return draft


def metadata_of(doc: IncomingDocument) -> incoming.Metadata:
    return incoming.Metadata(type_name=doc.type_name, document_type_id=doc.document_type_id,
                             code_number=doc.code_number, code_notation=doc.code_notation,
                             issued_date=doc.issued_date, organ_name=doc.organ_name, subject=doc.subject,
                             signer_name=doc.signer_name, signer_position=doc.signer_position,
                             document_id=doc.document_id)


def actions(draft: Draft) -> list[str]:
    return [e.action for e in services.history(draft)]


def counter_of(organisation_id: int) -> int | None:
    """The organisation's outgoing counter (one book, one year in these tests); None before any number."""
    return session.execute(select(func.max(RegisterCounter.last_number))
                           .join(RegisterBook, RegisterBook.id == RegisterCounter.book_id)
                           .where(RegisterBook.organisation_id == organisation_id)).scalar()


def outgoing_count(organisation_id: int) -> int:
    return session.execute(select(func.count()).select_from(OutgoingDocument)
                           .where(OutgoingDocument.organisation_id == organisation_id)).scalar_one()


# --- 1. one draft through every step, across two organisations -----------------------------------------------

def test_one_draft_through_every_step_to_the_recipient_and_back(db, world, dev_signing, draft_pdf):
    w, p = world, world.p
    assert signatures.init_demo_pki() == (4, 5)  # head, leader, deputy, r_leader; province + 4 organisations

    # create, with an organisation of this system and an outside body by post
    draft = new_draft(w, PDF, [system(w.receiver), POST])
    assert (draft.status, draft.holder_id, draft.current_version) == (S.DRAFT, p["officer"].id, 1)
    assert draft.unit_id == w.unit.id

    # a comment round: three people, three kinds of answer, closed by the drafter
    round_ = services.ask_comments(p["officer"], draft, [p["c1"].id, p["c2"].id, p["c3"].id],
                                   "Đề nghị các đồng chí góp ý dự thảo.", local_today() + timedelta(days=3))
    for who, value, text in (("c1", Answer.AGREE, "Nhất trí."), ("c2", Answer.DISAGREE, "Chưa đủ căn cứ."),
                             ("c3", Answer.OTHER, "Bổ sung Điều 3.")):
        [invite] = services.my_open_invites(p[who], draft)
        services.answer(p[who], draft, invite.id, value.value, text)
    [summary] = services.comment_rounds(draft)
    assert summary.counts == {"Đồng ý": 1, "Không đồng ý": 1, "Ý kiến khác": 1, "Chưa trả lời": 0}
    services.close_round(p["officer"], draft, round_.id)
    assert round_.closed_at is not None

    # submit → the unit head returns it with a comment → version 2 → submit → approve
    services.submit(p["officer"], draft)
    assert (draft.status, draft.holder_id) == (S.UNIT_REVIEW, p["head"].id)
    services.send_back(p["head"], draft, "Bổ sung Điều 3 theo ý kiến góp ý.")
    assert (draft.status, draft.holder_id) == (S.DRAFT, p["officer"].id)
    v2 = services.add_version(p["officer"], draft, services.Upload("du-thao-v2.pdf", draft_pdf), note="Đã bổ sung")
    assert (v2.number, draft.current_version) == (2, 2)
    assert [v.number for v in services.versions(draft)] == [1, 2]
    services.submit(p["officer"], draft)
    services.approve(p["head"], draft, "Đồng ý trình ký.")
    assert (draft.status, draft.holder_id) == (S.FORMAT_CHECK, None)

    # format check with the full checklist freezes version 2
    services.format_ok(p["checker"], draft, CHECKLIST)
    assert (draft.status, draft.holder_id) == (S.SIGNING, p["leader"].id)
    assert draft.format_checklist == ",".join(CHECKLIST)
    assert draft.frozen_sha256 == v2.sha256

    # the signer signs with the registered key after re-entering the password
    assert services.sign_with_key(p["leader"], draft, PASSWORD, CLIENT) is True
    assert (draft.status, draft.holder_id, draft.signed_by_id) == (S.SIGNED, None, p["leader"].id)
    assert storage.read(draft.signed_sha256).startswith(draft_pdf)

    # the clerk issues: number 01 of the book, ký hiệu of a công văn, identifier and DocumentId
    issued = services.issue(p["clerk"], draft, None)
    out = issued.outgoing
    today = local_today()
    organ = w.org.organ_id
    assert (draft.status, draft.outgoing_id) == (S.ISSUED, out.id)
    assert (out.number, out.code_number, out.code_notation, out.year) == (1, "01", "SNVT-TCCB", local_year(
        out.issued_at))
    assert out.status == OutgoingStatus.ISSUED
    assert out.issued_date == today
    assert out.identifier == f"{organ}-{today.year}.01/SNVT-TCCB"
    assert out.document_id == f"{organ},{today:%Y/%m/%d},01/SNVT-TCCB"
    assert re.fullmatch(r"[0-9A-Z.]+-\d{4}\.\d{2,}/[^/]+", out.identifier)
    assert (out.signer_name, out.signer_position) == ("Lê Văn Giám", "Giám đốc")
    assert out.recipients_text == "Sở Tài chính Thử; Công ty TNHH Thử Nghiệm Số"
    assert counter_of(w.org.id) == 1

    # the recipient organisation has it at 01: the issued PDF, its signatures valid
    [doc] = issued.delivered
    assert (doc.organisation_id, doc.status, doc.source_outgoing_id) == (w.receiver.id, I.ARRIVED, out.id)
    assert (doc.code_number, doc.code_notation, doc.document_id) == ("01", "SNVT-TCCB", out.document_id)
    assert doc.main_file_sha256 == out.main_file_sha256
    [main] = incoming.files_of(doc)
    assert (main.sha256, main.signature_verdict) == (out.main_file_sha256, "Hợp lệ")
    assert doc.signature_verdict == "Hợp lệ"

    # the outside recipient is recorded as sent by post
    statuses = {s.recipient.name: s for s in services.recipient_statuses(draft)}
    post = statuses["Công ty TNHH Thử Nghiệm Số"]
    assert (post.code, post.label, post.at) == ("", "Đã gửi (Bưu điện)", out.issued_at)

    def sender_sees() -> tuple[str, object]:
        status = {s.recipient.name: s for s in services.recipient_statuses(draft)}["Sở Tài chính Thử"]
        assert status.at is not None
        return status.code, status.at

    seen = [sender_sees()]
    incoming.register(p["r_clerk"], doc, metadata_of(doc))
    seen.append(sender_sees())
    incoming.present(p["r_clerk"], doc, p["r_leader"].id)
    seen.append(sender_sees())
    incoming.direct(p["r_leader"], doc, "Giao đồng chí Xử Lý chủ trì.",
                    [incoming.AssigneeSpec(AssignmentRole.LEAD, user_id=p["r_officer"].id)])
    seen.append(sender_sees())
    incoming.record_progress(p["r_officer"], doc, "Đang rà soát số liệu.")
    seen.append(sender_sees())
    incoming.finish(p["r_officer"], doc, "Đã thực hiện.")
    seen.append(sender_sees())
    assert [code for code, _ in seen] == ["01", "03", "03p", "04", "05", "06"]
    times = [at for _, at in seen]
    assert times == sorted(times)
    assert times == [e.at for e in incoming.sender_events(doc)]  # each change with its own time
    final = {s.recipient.name: s for s in services.recipient_statuses(draft)}["Sở Tài chính Thử"]
    assert (final.label, final.reason) == ("Hoàn thành", None)

    # both histories complete and in order
    assert actions(draft) == ["create", "ask", "answer", "answer", "answer", "close_round", "submit", "send_back",
                              "version", "submit", "approve", "format_ok", "sign", "issue"]
    events = services.history(draft)
    assert [e.status for e in events] == ["soan_thao"] * 6 + ["cho_duyet", "soan_thao", "soan_thao", "cho_duyet",
                                                               "cho_the_thuc", "cho_ky", "da_ky", "da_phat_hanh"]
    assert [e.version_number for e in events] == [1] * 8 + [2] * 6
    assert [e.actor_id for e in events] == [p[k].id for k in (
        "officer", "officer", "c1", "c2", "c3", "officer", "officer", "head", "officer", "officer", "head",
        "checker", "leader", "clerk")]
    assert events[7].text == "Bổ sung Điều 3 theo ý kiến góp ý."
    assert events[-1].text.startswith("Số 01/SNVT-TCCB, ngày ")
    assert [e.at for e in events] == sorted(e.at for e in events)
    received = incoming.history(doc)
    assert [e.action for e in received] == ["arrive", "register", "present", "direct", "progress", "finish"]
    assert received[0].actor_name == "Sở Nội vụ Thử"
    assert [e.status for e in incoming.sender_events(doc)] == ["01", "03", "03p", "04", "05", "06"]
    assert [e.at for e in received] == sorted(e.at for e in received)


def test_numbering_and_notation_of_a_typed_document_and_a_letter(db, world):
    w = world
    letter = signed_draft(w)
    decision = signed_draft(w, doc_type=w.decision, subject="Quyết định ban hành quy chế văn thư")
    first = services.issue(w.p["clerk"], letter, None, seal=cheap_seal).outgoing
    second = services.issue(w.p["clerk"], decision, None, seal=cheap_seal).outgoing
    year = local_today().year
    organ = w.org.organ_id
    assert (first.number, first.code_number, first.code_notation) == (1, "01", "SNVT-TCCB")
    assert (second.number, second.code_number, second.code_notation) == (2, "02", "QĐ-SNVT")
    assert first.book_id == second.book_id
    assert second.identifier == f"{organ}-{year}.02/QĐ-SNVT"
    assert second.document_id == f"{organ},{local_today():%Y/%m/%d},02/QĐ-SNVT"
    assert second.type_name == "Quyết định"
    [book] = services.outgoing_books(w.org.id)
    assert book.id == first.book_id
    assert counter_of(w.org.id) == 2


# --- 2. the issued PDF and the signing paths ------------------------------------------------------------------

def test_issued_pdf_has_two_valid_signatures(db, world, dev_signing, draft_pdf, tmp_path):
    w = world
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf, doc_type=w.decision)
    to_signing(w, draft)
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT)
    out = services.issue(w.p["clerk"], draft, None).outgoing
    issued = storage.read(out.main_file_sha256)
    assert issued.startswith(storage.read(draft.signed_sha256))
    assert storage.read(draft.signed_sha256).startswith(draft_pdf)

    report = verification.verify(issued, [dev_root(dev_signing)])
    personal, seal = report.signatures
    assert report.verdict == "Hợp lệ"
    for sig in (personal, seal):
        assert (sig.intact, sig.trusted, sig.valid, sig.ket_luan) == (True, True, True, "Hợp lệ")
    assert (personal.modification_level, personal.docmdp_ok) == ("FORM_FILLING", True)  # number, date, seal only
    assert seal.covers_whole_file
    registered = {row.user_id or -row.organisation_id: row for row in db.execute(select(SigningCertificate)).scalars()}
    signer_row, seal_row = registered[w.p["leader"].id], registered[-w.org.id]
    assert (personal.signer.serial, personal.signer.spki_sha256) == (int(signer_row.serial, 16), signer_row.spki_sha256)
    assert (seal.signer.serial, seal.signer.spki_sha256) == (int(seal_row.serial, 16), seal_row.spki_sha256)

    if PDFSIG is None:
        pytest.skip("poppler-utils (pdfsig) is not installed")
    path = tmp_path / "issued.pdf"
    path.write_bytes(issued)
    result = subprocess.run([PDFSIG, str(path)], capture_output=True, text=True, check=False)
    assert result.stdout.count("Signature Validation: Signature is Valid.") == 2, result.stdout + result.stderr
    assert "Lê Văn Giám" in result.stdout


def test_wrong_password_signs_nothing_and_counts_a_failure(db, world, dev_signing, draft_pdf):
    w = world
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    before = actions(draft)
    assert services.sign_with_key(w.p["leader"], draft, "sai-mat-khau", CLIENT) is False
    assert (draft.status, draft.holder_id, draft.signed_sha256) == (S.SIGNING, w.p["leader"].id, None)
    assert actions(draft) == before
    failures = db.execute(select(AuthFailure).where(AuthFailure.user_id == w.p["leader"].id)).scalars().all()
    assert [(f.ip,) for f in failures] == [("203.0.113.7",)]
    # the right password afterwards signs
    assert services.sign_with_key(w.p["leader"], draft, PASSWORD, CLIENT) is True
    assert draft.status == S.SIGNED


def test_external_signature_only_the_registered_signer_on_the_frozen_bytes(db, world, dev_signing, draft_pdf):
    w = world
    signatures.init_demo_pki()
    draft = new_draft(w, draft_pdf)
    to_signing(w, draft)
    leader = w.p["leader"]
    frozen = services.frozen_pdf(leader, draft)
    assert frozen == draft_pdf

    def signed_by(user: User, pdf: bytes = frozen) -> bytes:
        signer = pdfsign.KeyFileSigner(dev_signing, key_name_of(user), b"mat-khau-pki-kiem-thu")
        return pdfsign.sign_personal(pdf, signer, box=pdfsign.default_signer_box(pdf), image_png=None,
                                     name=user.full_name, signed_at_text="21/11/2026 09:30:15")

    good = signed_by(leader)
    # the signed part of the new revision: a digit of the signing time (/M) inside the byte range
    stamp = re.search(rb"/M \(D(?::|\\072)(\d{14})", good[len(frozen):])
    assert stamp is not None
    at = len(frozen) + stamp.start(1) + 13
    tampered_tail = good[:at] + bytes([good[at] ^ 0x01]) + good[at + 1:]
    tampered_head = bytes([good[0]]) + good[1:200] + bytes([good[200] ^ 0x20]) + good[201:]
    rejected = {
        "another person's key": (signed_by(w.p["deputy"]), verification.REJECT["not_registered"]),
        "unsigned": (frozen, verification.REJECT["no_new_signature"]),
        "a byte flipped in the signed revision": (tampered_tail, verification.REJECT["not_intact"]),
        "a byte flipped in the frozen part": (tampered_head, verification.REJECT["not_incremental"]),
    }
    assert len({message for _, message in rejected.values()}) == len(rejected)
    for case, (upload, message) in rejected.items():
        with pytest.raises(ValidationFailed) as caught:
            services.accept_external(leader, draft, upload, PASSWORD, CLIENT)
        assert caught.value.errors == {"upload": message}, case
        assert (draft.status, draft.holder_id, draft.signed_sha256) == (S.SIGNING, leader.id, None), case
    assert "Chứng thư số dùng để ký không phải chứng thư đã đăng ký" in verification.REJECT["not_registered"]

    # the right file with the wrong password: refused and counted, nothing stored
    assert services.accept_external(leader, draft, good, "sai-mat-khau", CLIENT) is False
    assert (draft.status, draft.signed_sha256) == (S.SIGNING, None)
    assert db.scalar(select(func.count()).select_from(AuthFailure).where(AuthFailure.user_id == leader.id)) == 1

    assert services.accept_external(leader, draft, good, PASSWORD, CLIENT) is True
    assert (draft.status, draft.signed_by_id) == (S.SIGNED, leader.id)
    assert storage.read(draft.signed_sha256) == good
    assert actions(draft)[-1] == "sign_external"
    # and the clerk's seal keeps the externally signed signature valid
    out = services.issue(w.p["clerk"], draft, None).outgoing
    report = verification.verify(storage.read(out.main_file_sha256), [dev_root(dev_signing)])
    assert [s.ket_luan for s in report.signatures] == ["Hợp lệ", "Hợp lệ"]


# --- 3. refusals leave everything as it was -------------------------------------------------------------------

def snapshot(draft: Draft) -> tuple:
    return (draft.status, draft.holder_id, draft.signed_sha256, draft.outgoing_id, len(actions(draft)))


def test_signing_before_approval_is_refused_at_each_step(db, world, dev_signing):
    w = world
    signatures.init_demo_pki()
    leader = w.p["leader"]
    draft = new_draft(w)
    steps = [lambda: None, lambda: services.submit(w.p["officer"], draft),
             lambda: services.approve(w.p["head"], draft)]
    for step, status in zip(steps, (S.DRAFT, S.UNIT_REVIEW, S.FORMAT_CHECK), strict=True):
        step()
        assert draft.status == status
        before = snapshot(draft)
        with pytest.raises(services.WrongStep):
            services.sign_with_key(leader, draft, PASSWORD, CLIENT)
        with pytest.raises(services.WrongStep):
            services.accept_external(leader, draft, PDF, PASSWORD, CLIENT)
        with pytest.raises(services.WrongStep):
            services.sign(leader, draft, True, PDF)
        with pytest.raises(services.WrongStep):
            services.issue(w.p["clerk"], draft, None, seal=cheap_seal)
        assert snapshot(draft) == before
    assert db.scalar(select(func.count()).select_from(AuthFailure)) == 0
    assert outgoing_count(w.org.id) == 0


def test_approve_format_and_sign_only_by_the_holder(db, world):
    w, p = world, world.p
    draft = new_draft(w)
    services.submit(p["officer"], draft)
    before = snapshot(draft)
    for someone in (p["deputy"], p["leader"], p["checker"], p["officer"], p["c1"]):
        with pytest.raises(NotAllowed):
            services.approve(someone, draft)
        assert snapshot(draft) == before
    with pytest.raises(services.WrongStep):  # not at the format check yet
        services.format_ok(p["checker"], draft, CHECKLIST)
    services.approve(p["head"], draft)
    before = snapshot(draft)
    for someone in (p["head"], p["leader"], p["clerk"], p["officer"]):
        with pytest.raises(NotAllowed) as caught:
            services.format_ok(someone, draft, CHECKLIST)
        assert not isinstance(caught.value, services.WrongStep)
        assert snapshot(draft) == before
    with pytest.raises(ValidationFailed) as missing:  # the checker must tick every item
        services.format_ok(p["checker"], draft, CHECKLIST[:-1])
    assert "Phông chữ, cỡ chữ, căn lề" in missing.value.errors["checklist"]
    assert snapshot(draft) == before
    services.format_ok(p["checker"], draft, CHECKLIST)
    before = snapshot(draft)
    with pytest.raises(NotAllowed):  # another leader does not hold it
        services.frozen_pdf(p["deputy"], draft)
    with pytest.raises(NotAllowed):
        services.sign_with_key(p["deputy"], draft, PASSWORD, CLIENT)
    assert snapshot(draft) == before


def test_issuing_is_for_clerks_once(db, world):
    w, p = world, world.p
    draft = signed_draft(w)
    before = snapshot(draft)
    for someone in (p["leader"], p["officer"], p["checker"], p["r_clerk"]):
        with pytest.raises(NotAllowed) as caught:
            services.issue(someone, draft, None, seal=cheap_seal)
        assert not isinstance(caught.value, services.WrongStep)
        assert snapshot(draft) == before
    assert (outgoing_count(w.org.id), counter_of(w.org.id)) == (0, None)

    first = services.issue(p["clerk"], draft, None, seal=cheap_seal)
    after = snapshot(draft)
    with pytest.raises(AlreadyDone) as repeated:  # a repeat is told what happened, nothing changes
        services.issue(p["clerk"], draft, None, seal=cheap_seal)
    assert f"cấp số {first.outgoing.code_number}/{first.outgoing.code_notation} và phát hành" in str(repeated.value)
    assert snapshot(draft) == after
    assert (outgoing_count(w.org.id), counter_of(w.org.id)) == (1, 1)
    assert db.scalar(select(func.count()).select_from(IncomingDocument)
                     .where(IncomingDocument.source_outgoing_id == first.outgoing.id)) == 1


def test_a_failed_issuance_uses_no_number(db, world, monkeypatch):
    w, p = world, world.p
    draft = signed_draft(w)
    db.commit()  # the request before: the draft is signed

    def broken_seal(pdf: bytes, number: str, day: object) -> bytes:
        raise RuntimeError("thiết bị ký số của cơ quan không phản hồi")

    monkeypatch.setattr(signatures, "seal_for", lambda org: broken_seal)
    with pytest.raises(RuntimeError):
        services.issue(p["clerk"], draft, None)
    db.rollback()  # what the request does on an error

    draft = db.get(Draft, draft.id)
    assert (draft.status, draft.outgoing_id) == (S.SIGNED, None)
    assert actions(draft)[-1] == "sign"
    assert (outgoing_count(w.org.id), counter_of(w.org.id) or 0) == (0, 0)
    assert db.scalar(select(func.count()).select_from(IncomingDocument)
                     .where(IncomingDocument.organisation_id == w.receiver.id)) == 0

    out = services.issue(act(db.get(User, p["clerk"].id)), draft, None, seal=cheap_seal).outgoing
    assert (out.number, counter_of(w.org.id)) == (1, 1)


# --- 4. recall ------------------------------------------------------------------------------------------------

def test_recall_reaches_each_recipient_and_their_answers_come_back(db, world):
    w, p = world, world.p
    draft = signed_draft(w, recipients=[system(w.receiver), system(w.second), system(w.third), POST])
    issued = services.issue(p["clerk"], draft, None, seal=cheap_seal)
    at_01, refusing, agreeing = issued.delivered
    assert [d.organisation_id for d in issued.delivered] == [w.receiver.id, w.second.id, w.third.id]
    incoming.register(p["s_clerk"], refusing, metadata_of(refusing))
    incoming.register(p["t_clerk"], agreeing, metadata_of(agreeing))

    with pytest.raises(NotAllowed):  # neither the drafter nor another organisation's clerk
        services.recall(p["officer"], draft, "Sai sót")
    with pytest.raises(ValidationFailed):
        services.recall(p["clerk"], draft, "  ")
    services.recall(p["clerk"], draft, "Văn bản có sai sót về căn cứ pháp lý.")
    out = db.get(OutgoingDocument, draft.outgoing_id)
    assert (draft.status, out.status, out.recall_reason) == (S.RECALLED, OutgoingStatus.RECALLED,
                                                           "Văn bản có sai sót về căn cứ pháp lý.")
    with pytest.raises(AlreadyDone):  # recalled already: told so, nothing changes
        services.recall(p["clerk"], draft, "lần nữa")

    def codes() -> dict[str, tuple[str, str | None]]:
        return {s.recipient.name: (s.code, s.reason) for s in services.recipient_statuses(draft)}

    # at 01 it is gone at once; the registered ones are asked
    assert (at_01.status, at_01.main_file_sha256) == (I.RECALLED, None)
    with pytest.raises(NotFound):
        incoming.get_visible(p["r_clerk"], at_01.id)
    assert codes() == {"Sở Tài chính Thử": ("15", None), "Sở Xây dựng Thử": ("13", None),
                       "Sở Y tế Thử": ("13", None), "Công ty TNHH Thử Nghiệm Số": ("", None)}
    assert incoming.available_actions(p["s_clerk"], refusing) >= {"confirm_recall", "refuse_recall"}

    # one refuses with a reason: the sender sees 16 and the reason
    incoming.refuse_recall(p["s_clerk"], refusing, "Văn bản đã được triển khai thực hiện.")
    assert refusing.status == I.REGISTERED
    assert codes()["Sở Xây dựng Thử"] == ("16", "Văn bản đã được triển khai thực hiện.")
    [refused] = [s for s in services.recipient_statuses(draft) if s.code == "16"]
    assert (refused.label, refused.at) == ("Từ chối thu hồi", refused.recipient.recall_answered_at)
    assert incoming.get_visible(p["s_clerk"], refusing.id) is refusing

    # another agrees: 15, and for that organisation the document is gone from pages and lists
    listed = incoming_queries.page(p["t_clerk"], incoming_queries.QUEUES["tat-ca"], incoming_queries.Filters())
    assert agreeing.id in [d.id for d in listed.rows]
    incoming.confirm_recall(p["t_clerk"], agreeing)
    assert agreeing.status == I.RECALLED
    assert codes()["Sở Y tế Thử"] == ("15", None)
    with pytest.raises(NotFound):
        incoming.get_visible(p["t_clerk"], agreeing.id)
    for queue in incoming_queries.queues_for(p["t_clerk"]):
        page = incoming_queries.page(p["t_clerk"], queue, incoming_queries.Filters())
        assert agreeing.id not in [d.id for d in page.rows], queue.slug
    assert incoming_queries.count(p["t_clerk"], incoming_queries.QUEUES["tat-ca"]) == 0

    assert actions(draft)[-3:] == ["recall", "recall_answer", "recall_answer"]
    texts = [e.text for e in services.history(draft)[-2:]]
    assert texts == ["Sở Xây dựng Thử: từ chối thu hồi — Văn bản đã được triển khai thực hiện.",
                     "Sở Y tế Thử: đồng ý thu hồi"]
    assert [e.action for e in incoming.history(refusing)] == ["arrive", "register", "recall_requested",
                                                             "recall_refused"]
    assert [e.action for e in incoming.history(agreeing)] == ["arrive", "register", "recall_requested", "recalled"]
    # no follow-up on a recalled document
    with pytest.raises(services.WrongStep):
        services.start_follow_up(p["officer"], out, "thay_the")


# --- 5. correction and replacement ----------------------------------------------------------------------------

def test_a_replacement_links_back_for_the_recipient(db, world):
    w, p = world, world.p
    first = services.issue(p["clerk"], signed_draft(w), None, seal=cheap_seal)
    old = first.outgoing

    with pytest.raises(ValidationFailed):
        services.start_follow_up(p["officer"], old, "sua")
    with pytest.raises(NotFound):  # another organisation's document
        services.start_follow_up(p["r_clerk"], old, "thay_the")

    prefill = services.start_follow_up(p["officer"], old, "thay_the")
    assert (prefill.replaces_id, prefill.corrects_id, prefill.subject) == (old.id, None, old.subject)
    prefill.signer_id, prefill.signer_title = p["leader"].id, "Giám đốc"
    replacement = services.create(p["officer"], prefill, services.Upload("thay-the.pdf", PDF + b"% thay the\n"),
                                  recipients=[system(w.receiver)])
    assert replacement.replaces_id == old.id
    to_signing(w, replacement)
    services.sign(p["leader"], replacement, True, services.frozen_pdf(p["leader"], replacement))
    new = services.issue(p["clerk"], replacement, None, seal=cheap_seal)
    assert (new.outgoing.number, new.outgoing.replaces_id) == (2, old.id)

    [doc] = new.delivered
    # the recipient's copy of the replaced document says so in its history
    [earlier] = first.delivered
    assert [e.action for e in incoming.history(earlier)][-1] == "replaced"
    source = incoming.source_of(doc)
    assert source is not None
    assert (source.outgoing.id, source.replaces.id, source.corrects, source.recalled) == (
        new.outgoing.id, old.id, None, False)
    assert (source.replaces.code_number, source.replaces.code_notation) == ("01", "SNVT-TCCB")
    # the earlier arrival's page data has no link
    earlier = incoming.source_of(first.delivered[0])
    assert (earlier.replaces, earlier.corrects) == (None, None)

    correction = services.start_follow_up(p["officer"], new.outgoing, "dinh_chinh")
    assert correction.corrects_id == new.outgoing.id
    assert correction.subject == "Đính chính Văn bản số 02/SNVT-TCCB"
