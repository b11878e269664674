"""The draft page, the new-draft form and each step through HTTP (SPEC §6): one draft walks
from the drafter through comments, unit review, format check, signing and issuance to another
organisation, with the services' real checks. At each step the wrong person is refused (403),
bad input is a 422 with the Vietnamese message at the field, anyone outside gets 404 on every
URL of the draft, issuing twice takes one number, and every file view is audited.

The signature adapter (``portal.signatures.service``) is replaced by simple fakes here: these
tests are about pages and steps, not PAdES; the adapter has its own tests."""

from __future__ import annotations

import io
import re
import sys
import types
import uuid

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import func, select

import portal.drafts
from portal.audit import AuditEntry
from portal.auth.models import AuthFailure, Role
from portal.documents.models import DocumentType, IncomingDocument, OutgoingDocument
from portal.drafts import services
from portal.drafts.models import Draft, DraftStatus
from portal.errors import ValidationFailed
from portal.timeutil import local_today
from tests.conftest import PASSWORD

S = DraftStatus
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF2 = b"%PDF-1.4\n% phien ban 2\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HX = {"HX-Request": "true"}


def act(user):
    user.current_position = user.positions[0]
    return user


@pytest.fixture
def office(factory, db):
    org = factory.organisation(name="Sở Nội Vụ Thử", short_name="SNVT")
    unit = factory.unit(org, name="Phòng Tổ chức Thử")
    receiver = factory.organisation(name="Sở Tài Chính Nhận Thử", short_name="STCN")
    people = {
        "officer": act(factory.person(Role.OFFICER, organisation=org, unit=unit, full_name="Ngô Văn Soạn")),
        "colleague": act(factory.person(Role.OFFICER, organisation=org, unit=unit, full_name="Lý Thị Góp Ý")),
        "head": act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng",
                                   full_name="Đỗ Thị Trưởng")),
        "checker": act(factory.person(Role.FORMAT_CHECKER, organisation=org, full_name="Vũ Văn Thể Thức")),
        "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc",
                                     full_name="Lê Văn Giám Đốc")),
        "deputy": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc",
                                     full_name="Phạm Văn Phó")),
        "clerk": act(factory.person(Role.CLERK, organisation=org, title="Văn thư", full_name="Trần Thị Văn Thư")),
        "outsider": act(factory.person(Role.CLERK, organisation=receiver, title="Văn thư",
                                       full_name="Ngô Văn Ngoài")),
    }
    doc_type = DocumentType(name=f"Công văn thử {uuid.uuid4().hex[:6]}", abbreviation=None)
    db.add(doc_type)
    db.commit()
    return org, receiver, doc_type, people


@pytest.fixture
def as_(app: Flask, login):
    """A signed-in client per person: the login route ignores a second sign-in on one client."""
    clients: dict[int, FlaskClient] = {}

    def _as(user) -> FlaskClient:
        if user.id not in clients:
            clients[user.id] = login(user, c=app.test_client())
        return clients[user.id]

    return _as


@pytest.fixture(autouse=True)
def fake_signatures(monkeypatch):
    """Personal signature: the frozen PDF plus a marker; seal: plus the number; an external
    upload is accepted when it starts with the frozen bytes."""
    try:
        from portal.signatures import service as signatures
    except ImportError:
        signatures = types.ModuleType("portal.signatures.service")
        monkeypatch.setitem(sys.modules, "portal.signatures.service", signatures)
        monkeypatch.setattr(portal.drafts, "signatures", signatures, raising=False)

    def check_upload_for(signer, frozen, upload):
        if not upload.startswith(frozen) or upload == frozen:
            raise ValidationFailed({"upload": "Tệp tải lên không phải bản trình ký có chữ ký của bạn."})
        return {"signer": signer.full_name}

    monkeypatch.setattr(signatures, "sign_personal_for", lambda signer, pdf, at, pin=None: pdf + b"%ky-so\n",
                        raising=False)
    monkeypatch.setattr(signatures, "seal_for",
                        lambda org: lambda pdf, number, day: pdf + f"%dong-dau {number}\n".encode(), raising=False)
    monkeypatch.setattr(signatures, "check_upload_for", check_upload_for, raising=False)
    return signatures


def url(draft, tail: str = "") -> str:
    return f"/du-thao/{draft.id}" + (f"/{tail}" if tail else "")


def text(resp) -> str:
    return resp.get_data(as_text=True)


def ok(resp, draft) -> None:
    assert resp.status_code == 303, text(resp)[:3000]
    assert resp.headers["Location"].endswith(url(draft))


def new_form(doc_type, signer, receiver=None, **kw):
    data = {"document_type_id": str(doc_type.id), "subject": "Về việc kiện toàn tổ công tác văn thư", "urgency": "0",
            "signer_id": str(signer.id), "authority": "KT.", "signer_title": "Phó Giám đốc",
            "main": (io.BytesIO(PDF), "du-thao.pdf"), "attachments": (io.BytesIO(b"phu luc"), "phu-luc.txt"),
            "r_name": ["Bưu điện tỉnh Thử", ""], "r_method": ["buu_dien", "buu_dien"],
            "r_address": ["01 Đường Thử, Phường Thử", ""]}
    if receiver is not None:
        data["r_org"] = [str(receiver.id)]
    data.update(kw)
    return data


def created(db, office, **kw) -> Draft:
    _org, receiver, doc_type, p = office
    draft = services.create(p["officer"], services.DraftData(
        subject=kw.pop("subject", "Về việc kiện toàn tổ công tác văn thư"), document_type_id=doc_type.id,
        signer_id=p["leader"].id, authority="KT.", signer_title="Phó Giám đốc"),
        services.Upload("du-thao.pdf", PDF), [],
        [services.RecipientSpec(organisation_id=receiver.id),
         services.RecipientSpec(name="Bưu điện tỉnh Thử", method=services.SendMethod.POST, address="01 Đường Thử")])
    db.commit()
    return draft


def at_step(db, office, status: S) -> Draft:
    """A draft brought to ``status`` through the services."""
    _org, _receiver, _t, p = office
    draft = created(db, office)
    if status == S.DRAFT:
        return draft
    services.submit(p["officer"], draft)
    if status == S.UNIT_REVIEW:
        db.commit()
        return draft
    services.approve(p["head"], draft)
    if status == S.FORMAT_CHECK:
        db.commit()
        return draft
    services.format_ok(p["checker"], draft, list(services.FORMAT_CHECKLIST))
    if status == S.SIGNING:
        db.commit()
        return draft
    services.sign(p["leader"], draft, True, PDF + b"%ky\n")
    if status == S.SIGNED:
        db.commit()
        return draft
    services.issue(p["clerk"], draft, None)
    db.commit()
    return draft


# --- the new-draft form --------------------------------------------------------------------------------

def test_new_draft_form_refuses_bad_input_in_vietnamese_and_creates(db, office, as_):
    org, receiver, doc_type, p = office
    officer = as_(p["officer"])
    page = officer.get("/du-thao/moi")
    assert page.status_code == 200
    assert doc_type.name in text(page)
    assert "Thẩm quyền ký" in text(page)
    assert "Nơi nhận" in text(page)

    bad = officer.post("/du-thao/moi", data={"subject": "", "urgency": "0", "r_name": ["Nơi ngoài"],
                                             "r_method": ["he_thong"], "r_address": [""]},
                       content_type="multipart/form-data")
    assert bad.status_code == 422
    body = text(bad)
    assert "Hãy nhập trích yếu nội dung." in body
    assert "Hãy chọn loại văn bản." in body
    assert "Hãy chọn người ký." in body
    assert db.scalar(select(func.count()).select_from(Draft).where(Draft.organisation_id == org.id)) == 0

    not_leader = officer.post("/du-thao/moi", data=new_form(doc_type, p["colleague"]),
                              content_type="multipart/form-data", headers=HX)
    assert not_leader.status_code == 422
    assert "<html" not in text(not_leader)
    assert "Người ký phải là lãnh đạo" in text(not_leader)
    assert "Bưu điện tỉnh Thử" in text(not_leader)  # the typed rows come back

    resp = officer.post("/du-thao/moi", data=new_form(doc_type, p["leader"], receiver),
                        content_type="multipart/form-data")
    draft = db.execute(select(Draft).where(Draft.organisation_id == org.id)).scalar_one()
    ok(resp, draft)
    assert draft.status == S.DRAFT
    assert draft.signer_id == p["leader"].id
    assert draft.authority == "KT."
    assert [(r.name, r.method.value) for r in services.recipients_of(draft)] == [
        (receiver.name, "he_thong"), ("Bưu điện tỉnh Thử", "buu_dien")]
    assert [a.filename for a in services.attachments_of(draft)] == ["phu-luc.txt"]


def test_new_draft_prefills_a_reply_and_a_correction(db, office, as_, factory):
    _org, _receiver, _t, p = office
    from portal.incoming import services as incoming
    from tests.incoming_fixtures import metadata

    doc = incoming.digitise(p["clerk"], metadata(subject="Đề nghị báo cáo số liệu"), incoming.Upload("scan.pdf", PDF))
    db.commit()
    page = as_(p["clerk"]).get(f"/du-thao/moi?tra_loi={doc.id}")
    assert page.status_code == 200
    assert "Đề nghị báo cáo số liệu" in text(page)
    assert f'value="{doc.id}"' in text(page)
    assert as_(p["officer"]).get(f"/du-thao/moi?tra_loi={doc.id}").status_code == 404  # not visible to them

    issued = at_step(db, office, S.ISSUED)
    out = db.get(OutgoingDocument, issued.outgoing_id)
    page = as_(p["officer"]).get(f"/du-thao/moi?dinh_chinh={out.id}")
    assert page.status_code == 200
    assert f"Đính chính Văn bản số {out.code_number}/{out.code_notation}" in text(page)
    outsider_page = as_(p["outsider"]).get(f"/du-thao/moi?thay_the={out.id}")
    assert outsider_page.status_code == 404


def test_people_without_an_organisation_role_cannot_draft(db, office, as_, factory):
    org = office[0]
    archivist = act(factory.person(Role.ARCHIVIST, organisation=org))
    db.commit()
    assert as_(archivist).get("/du-thao/moi").status_code == 403


# --- one draft through every step ----------------------------------------------------------------------

def test_one_draft_walks_every_step_to_another_organisation(db, office, as_):
    org, receiver, doc_type, p = office
    officer, colleague, head = as_(p["officer"]), as_(p["colleague"]), as_(p["head"])
    checker, leader, deputy, clerk = as_(p["checker"]), as_(p["leader"]), as_(p["deputy"]), as_(p["clerk"])
    ok_resp = officer.post("/du-thao/moi", data=new_form(doc_type, p["leader"], receiver),
                           content_type="multipart/form-data")
    draft = db.execute(select(Draft).where(Draft.organisation_id == org.id)).scalar_one()
    ok(ok_resp, draft)

    page = text(officer.get(url(draft)))
    assert re.search(r'id="step-version"[^>]*enctype="multipart/form-data"', page)
    assert re.search(r'id="step-details" class="step step-wide"', page)
    assert 'hx-swap="innerHTML"' in page  # the type-ahead inside an outerHTML form
    for form_title in ("Cập nhật dự thảo", "Xin ý kiến", "Trình duyệt", "Hủy dự thảo", "Sửa thông tin"):
        assert form_title in page
    assert "Ký số" not in page
    assert "Cấp số và phát hành" not in page

    # a new version; the old one stays
    assert colleague.post(url(draft, "phien-ban"), data={"version-note": "x"}).status_code == 404  # not visible
    resp = officer.post(url(draft, "phien-ban"), data={"version-main": (io.BytesIO(PDF2), "du-thao-v2.pdf"),
                                                       "version-note": "Sửa căn cứ"},
                        content_type="multipart/form-data")
    ok(resp, draft)
    assert draft.current_version == 2
    assert "du-thao.pdf" in text(officer.get(url(draft)))
    assert "Sửa căn cứ" in text(officer.get(url(draft)))

    # comments: asked, answered (text required), summarised, closed
    resp = officer.post(url(draft, "xin-y-kien"), data={"ask-question": "", "people": []})
    assert resp.status_code == 422
    assert "Hãy ghi nội dung xin ý kiến." in text(resp)
    assert "Hãy chọn ít nhất một người" in text(resp)
    ok(officer.post(url(draft, "xin-y-kien"), data={"ask-question": "Đề nghị góp ý điều 2.",
                                                   "people": [str(p["colleague"].id)],
                                                   "ask-deadline": local_today().strftime("%d/%m/%Y")}), draft)
    [summary] = services.comment_rounds(draft)
    invite = summary.invites[0][0]
    assert "Cho ý kiến" in text(colleague.get(url(draft)))
    assert head.post(url(draft, f"y-kien/{invite.id}"), data={}).status_code == 404  # not visible to the head yet
    resp = colleague.post(url(draft, f"y-kien/{invite.id}"), data={f"answer{invite.id}-answer": "khac",
                                                                  f"answer{invite.id}-text": " "}, headers=HX)
    assert resp.status_code == 422
    assert "<html" not in text(resp)
    assert f'id="answer-{invite.id}"' in text(resp)
    assert "Hãy ghi nội dung ý kiến." in text(resp)
    ok(colleague.post(url(draft, f"y-kien/{invite.id}"), data={f"answer{invite.id}-answer": "khac",
                                                              f"answer{invite.id}-text": "Bổ sung căn cứ."}), draft)
    page = text(officer.get(url(draft)))
    assert "Ý kiến khác: <strong>1</strong>" in page
    assert "Bổ sung căn cứ." in page
    assert colleague.post(url(draft, f"luot-y-kien/{summary.round.id}/ket-thuc")).status_code == 403
    ok(officer.post(url(draft, f"luot-y-kien/{summary.round.id}/ket-thuc")), draft)

    # the wrong person at DRAFT
    assert colleague.post(url(draft, "trinh"), data={}).status_code == 403
    assert colleague.post(url(draft, "huy"), data={"cancel-reason": "x"}).status_code == 403
    ok(officer.post(url(draft, "trinh"), data={"submit-note": "Kính trình"}), draft)
    assert draft.status == S.UNIT_REVIEW
    assert draft.holder_id == p["head"].id

    # unit review: the head; the comment on a return is mandatory
    assert officer.post(url(draft, "duyet"), data={}).status_code == 403
    assert leader.post(url(draft, "duyet"), data={}).status_code == 403
    resp = head.post(url(draft, "tra-lai"), data={"send_back-comment": "  "}, headers=HX)
    assert resp.status_code == 422
    assert "Hãy ghi ý kiến trả lại để người soạn thảo sửa." in text(resp)
    assert "<html" not in text(resp)
    ok(head.post(url(draft, "tra-lai"), data={"send_back-comment": "Sửa lại điều 3."}), draft)
    assert draft.status == S.DRAFT
    ok(officer.post(url(draft, "trinh"), data={}), draft)
    ok(head.post(url(draft, "duyet"), data={"approve-note": "Đồng ý trình"}), draft)
    assert draft.status == S.FORMAT_CHECK

    # format check: every item, by a format checker
    assert head.post(url(draft, "the-thuc"), data={"format_ok-checklist": list(services.FORMAT_CHECKLIST)}
                     ).status_code == 403
    resp = checker.post(url(draft, "the-thuc"), data={"format_ok-checklist": ["quoc_hieu", "co_quan"]})
    assert resp.status_code == 422
    assert "Chưa kiểm tra: Số, ký hiệu" in text(resp)
    ok(checker.post(url(draft, "the-thuc"), data={"format_ok-checklist": list(services.FORMAT_CHECKLIST)}), draft)
    assert draft.status == S.SIGNING
    assert draft.holder_id == p["leader"].id

    # signing: forward to the deputy; a wrong password is counted and kept
    assert deputy.post(url(draft, "ky-so"), data={"sign-password": PASSWORD}).status_code == 403
    resp = leader.post(url(draft, "chuyen-lanh-dao"), data={"forward-leader_id": ""})
    assert resp.status_code == 422
    assert "Hãy tìm và chọn một lãnh đạo." in text(resp)
    ok(leader.post(url(draft, "chuyen-lanh-dao"), data={"forward-leader_id": str(p["deputy"].id)}), draft)
    assert draft.holder_id == p["deputy"].id
    assert leader.post(url(draft, "ky-so"), data={"sign-password": PASSWORD}).status_code == 403
    before = db.scalar(select(func.count()).select_from(AuthFailure).where(AuthFailure.user_id == p["deputy"].id))
    resp = deputy.post(url(draft, "ky-so"), data={"sign-password": "sai-mat-khau"})
    assert resp.status_code == 422
    assert "Mật khẩu không đúng; văn bản chưa được ký." in text(resp)
    after = db.scalar(select(func.count()).select_from(AuthFailure).where(AuthFailure.user_id == p["deputy"].id))
    assert after == before + 1
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "auth.reauth_failed"))
    assert draft.status == S.SIGNING
    ok(deputy.post(url(draft, "ky-so"), data={"sign-password": PASSWORD}), draft)
    assert draft.status == S.SIGNED
    assert draft.signed_by_id == p["deputy"].id

    # issuance: a clerk; twice is one number
    assert officer.post(url(draft, "phat-hanh"), data={}).status_code == 403
    page = text(clerk.get(url(draft)))
    assert "Cấp số và phát hành" in page
    assert 'hx-disabled-elt="find button[type=submit]"' in page
    ok(clerk.post(url(draft, "phat-hanh"), data={}), draft)
    assert draft.status == S.ISSUED
    again = clerk.post(url(draft, "phat-hanh"), data={}, headers=HX)  # a repeat: 409 saying what happened
    assert again.status_code == 409
    assert "Văn bản đã được cấp số 01/" in text(again)
    plain = clerk.post(url(draft, "phat-hanh"), data={})  # a plain form: back to the page with the notice
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith(url(draft))
    assert db.scalar(select(func.count()).select_from(OutgoingDocument)
                     .where(OutgoingDocument.organisation_id == org.id)) == 1
    assert "Văn bản đã được cấp số 01/" in text(clerk.get(url(draft)))
    out = db.get(OutgoingDocument, draft.outgoing_id)
    page = text(officer.get(url(draft)))
    assert f"{out.code_number}/{out.code_notation}" in page
    assert "Tình trạng tại nơi nhận" in page
    assert "Đã đến" in page
    assert "Bưu điện tỉnh Thử" in page
    arrived = db.execute(select(IncomingDocument).where(IncomingDocument.source_outgoing_id == out.id)).scalar_one()
    assert arrived.organisation_id == receiver.id

    # recall: clerk or agency leader, with a reason
    assert officer.post(url(draft, "thu-hoi"), data={"recall-reason": "Nhầm"}).status_code == 403
    resp = clerk.post(url(draft, "thu-hoi"), data={"recall-reason": ""})
    assert resp.status_code == 422
    assert "Hãy ghi lý do thu hồi" in text(resp)
    ok(clerk.post(url(draft, "thu-hoi"), data={"recall-reason": "Ban hành nhầm đối tượng."}), draft)
    assert draft.status == S.RECALLED
    history = text(officer.get(url(draft)))
    for label in ("Tạo dự thảo", "Cập nhật dự thảo", "Xin ý kiến", "Trình duyệt", "Trả lại", "Duyệt",
                  "Đạt thể thức", "Chuyển lãnh đạo khác", "Ký số", "Cấp số và phát hành", "Thu hồi"):
        assert label in history, label


def test_clerk_refuses_and_the_signer_signs_with_a_token(db, office, as_):
    _org, _receiver, _t, p = office
    draft = at_step(db, office, S.SIGNED)
    clerk, leader = as_(p["clerk"]), as_(p["leader"])
    resp = clerk.post(url(draft, "tra-nguoi-ky"), data={"refuse_issue-reason": ""})
    assert resp.status_code == 422
    assert "Hãy ghi lý do trả lại người ký." in text(resp)
    ok(clerk.post(url(draft, "tra-nguoi-ky"), data={"refuse_issue-reason": "Thiếu chữ ký nháy."}), draft)
    assert draft.status == S.SIGNING
    assert draft.holder_id == p["leader"].id

    assert clerk.get(url(draft, "ban-trinh-ky")).status_code == 403
    frozen = leader.get(url(draft, "ban-trinh-ky"))
    assert frozen.status_code == 200
    assert frozen.data == PDF
    assert "attachment" in frozen.headers["Content-Disposition"]
    resp = leader.post(url(draft, "ky-ngoai"), data={"sign_external-upload": (io.BytesIO(b"%PDF-khac"), "ky.pdf"),
                                                     "sign_external-password": PASSWORD},
                       content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "không phải bản trình ký" in text(resp)
    ok(leader.post(url(draft, "ky-ngoai"), data={"sign_external-upload": (io.BytesIO(PDF + b"%sig"), "ky.pdf"),
                                                 "sign_external-password": PASSWORD},
                   content_type="multipart/form-data"), draft)
    assert draft.status == S.SIGNED


def test_drafter_edits_details_and_cancels(db, office, as_):
    _org, receiver, doc_type, p = office
    draft = created(db, office)
    officer = as_(p["officer"])
    form = {"details-document_type_id": str(doc_type.id), "details-subject": "Trích yếu mới", "details-urgency": "1",
            "details-signer_id": str(p["deputy"].id), "details-authority": "", "details-signer_title": "Phó GĐ",
            "r_name": ["Công ty Thử", "Công ty Thử"], "r_method": ["email", "email"],
            "r_address": ["a@thu.vn", "a@thu.vn"]}
    resp = officer.post(url(draft, "sua"), data=form, headers=HX)
    assert resp.status_code == 422
    assert "<html" not in text(resp)
    assert 'id="step-details"' in text(resp)
    assert 'value="Công ty Thử"' in text(resp)  # the typed rows and signer come back
    assert f'value="{p["deputy"].id}" checked' in text(resp)
    assert "Một nơi nhận chỉ ghi một lần." in text(resp)
    assert draft.subject != "Trích yếu mới"
    ok(officer.post(url(draft, "sua"), data={**form, "r_name": ["Công ty Thử"], "r_method": ["email"],
                                             "r_address": ["a@thu.vn"], "r_org": [str(receiver.id)]}), draft)
    assert draft.subject == "Trích yếu mới"
    assert draft.signer_id == p["deputy"].id
    assert draft.urgency == 1
    assert {r.name for r in services.recipients_of(draft)} == {"Công ty Thử", receiver.name}
    assert as_(p["head"]).post(url(draft, "huy"), data={"cancel-reason": "x"}).status_code == 404
    resp = officer.post(url(draft, "huy"), data={"cancel-reason": ""})
    assert resp.status_code == 422
    assert "Hãy ghi lý do hủy." in text(resp)
    ok(officer.post(url(draft, "huy"), data={"cancel-reason": "Không cần ban hành nữa."}), draft)
    assert draft.status == S.CANCELLED
    assert officer.post(url(draft, "sua"), data=form).status_code == 403


# --- files ----------------------------------------------------------------------------------------------

def test_files_are_served_and_audited(db, office, as_):
    _org, _receiver, _t, p = office
    draft = at_step(db, office, S.ISSUED)
    officer = as_(p["officer"])

    def audited(action: str) -> int:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == action, AuditEntry.object_id == str(draft.id)))

    view = officer.get(url(draft, "phien-ban/1"))
    assert view.status_code == 200
    assert view.data == PDF
    assert "inline" in view.headers["Content-Disposition"]
    download = officer.get(url(draft, "phien-ban/1?tai=1"))
    assert "attachment" in download.headers["Content-Disposition"]
    assert officer.get(url(draft, "phien-ban/9")).status_code == 404
    issued = officer.get(url(draft, "van-ban-phat-hanh"))
    assert issued.status_code == 200
    assert issued.data.startswith(PDF)
    assert b"%dong-dau" in issued.data
    assert audited("drafts.file_view") == 2
    assert audited("drafts.file_download") == 1


# --- who is refused ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "who", "path", "data"), [
    (S.DRAFT, "colleague", "phien-ban", {}),
    (S.UNIT_REVIEW, "officer", "duyet", {}),
    (S.UNIT_REVIEW, "leader", "tra-lai", {"send_back-comment": "x"}),
    (S.FORMAT_CHECK, "officer", "the-thuc", {"format_ok-checklist": list(services.FORMAT_CHECKLIST)}),
    (S.FORMAT_CHECK, "leader", "tra-lai", {"send_back-comment": "x"}),
    (S.SIGNING, "deputy", "ky-so", {"sign-password": PASSWORD}),
    (S.SIGNING, "checker", "chuyen-lanh-dao", {"forward-leader_id": "1"}),
    (S.SIGNED, "leader", "phat-hanh", {}),
    (S.SIGNED, "officer", "tra-nguoi-ky", {"refuse_issue-reason": "x"}),
    (S.ISSUED, "officer", "thu-hoi", {"recall-reason": "x"}),
])
@pytest.mark.parametrize("headers", [{}, HX])
def test_each_step_is_refused_to_the_wrong_person(db, office, as_, status, who, path, data, headers):
    _org, _receiver, _t, p = office
    draft = at_step(db, office, status)
    if who == "colleague":
        services.ask_comments(p["officer"], draft, [p["colleague"].id], "Góp ý?", None)
        db.commit()
    resp = as_(p[who]).post(url(draft, path), data=data, headers=headers)
    assert resp.status_code == 403, text(resp)[:500]
    assert draft.status == status


def draft_rules(app: Flask):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("drafts.") and "draft_id" in r.arguments]
    assert len(rules) >= 15
    return rules


def test_every_draft_url_is_404_for_an_outsider(db, app, office, as_, factory):
    """The receiving organisation's clerk and an officer of the same organisation who never
    touched it: neither learns the draft exists, on any URL, page or fragment."""
    org, _receiver, _t, p = office
    draft = at_step(db, office, S.SIGNING)
    stranger = act(factory.person(Role.OFFICER, organisation=org))
    db.commit()
    before = db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("drafts.%")))
    tried = 0
    for person in (p["outsider"], stranger):
        c = as_(person)
        for rule in draft_rules(app):
            values = {name: (draft.id if name == "draft_id" else 1) for name in rule.arguments}
            target = rule.build(values, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for headers in ({}, HX):
                    resp = c.open(target, method=method, headers=headers,
                                  data={"sign-password": PASSWORD, "recall-reason": "x"})
                    assert resp.status_code == 404, f"{method} {target} → {resp.status_code}"
                    assert "kiện toàn tổ công tác" not in text(resp)
                    tried += 1
    assert tried >= 60
    after = db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("drafts.%")))
    assert after == before


# --- the page and the type-ahead ---------------------------------------------------------------------

def test_page_shows_holder_versions_and_only_allowed_forms(db, office, as_):
    _org, _receiver, _t, p = office
    draft = at_step(db, office, S.FORMAT_CHECK)
    page = as_(p["checker"]).get(url(draft))
    assert page.status_code == 200
    body = text(page)
    assert "Người kiểm tra thể thức" in body
    assert "Chờ kiểm tra thể thức" in body
    assert "Quốc hiệu và Tiêu ngữ" in body
    assert "Đạt thể thức" in body
    assert "Ký số" not in re.sub(r"<ol class=\"timeline\">.*?</ol>", "", body, flags=re.S)
    assert url(draft, "phien-ban/1") in body
    drafter_page = text(as_(p["officer"]).get(url(draft)))
    assert "Đạt thể thức" not in drafter_page
    assert "Xử lý dự thảo" not in drafter_page


def test_type_ahead_offers_leaders_people_and_other_organisations(db, office, as_):
    org, receiver, _t, p = office
    officer = as_(p["officer"])
    leaders = text(officer.get("/du-thao/tim-nguoi?kind=leader&field=signer_id&q=", headers=HX))
    assert "Lê Văn Giám Đốc" in leaders
    assert "Đỗ Thị Trưởng" not in leaders  # a unit head: not the signing role (tests/test_drafts_defects.py)
    assert "Lý Thị Góp Ý" not in leaders
    assert 'name="signer_id"' in leaders
    people = text(officer.get("/du-thao/tim-nguoi?kind=person&q=gop", headers=HX))
    assert "Lý Thị Góp Ý" in people
    assert "Ngô Văn Ngoài" not in people
    row = officer.get(f"/du-thao/tim-nguoi/dong?id={p['colleague'].id}", headers=HX)
    assert 'name="people"' in text(row)
    assert officer.get(f"/du-thao/tim-nguoi/dong?id={p['outsider'].id}", headers=HX).status_code == 404
    orgs = text(officer.get("/du-thao/tim-co-quan?q=nhan thu", headers=HX))
    assert receiver.name in orgs
    assert "Sở Nội Vụ Thử" not in orgs
    assert officer.get(f"/du-thao/noi-nhan/dong?id={org.id}", headers=HX).status_code == 404
    assert 'name="r_org"' in text(officer.get(f"/du-thao/noi-nhan/dong?id={receiver.id}", headers=HX))
    assert 'name="r_name"' in text(officer.get("/du-thao/noi-nhan/dong", headers=HX))


def test_page_and_fragment(db, office, as_):
    _org, _receiver, _t, p = office
    draft = at_step(db, office, S.DRAFT)
    officer = as_(p["officer"])
    assert "<html" in text(officer.get(url(draft)))
    resp = officer.post(url(draft, "trinh"), data={}, headers=HX)
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"].endswith(url(draft))


# --- the permission matrix read from the transition table --------------------------------------------------

def _matrix_draft(db, office, status: S) -> Draft:
    """A draft at ``status`` with a comment round (officer → colleague) still open."""
    _org, _receiver, _t, p = office
    draft = created(db, office)
    services.ask_comments(p["officer"], draft, [p["colleague"].id], "Góp ý?", None)
    if status == S.CANCELLED:
        services.cancel(p["officer"], draft, "Không cần nữa")
    moves = [(S.UNIT_REVIEW, lambda: services.submit(p["officer"], draft)),
             (S.FORMAT_CHECK, lambda: services.approve(p["head"], draft)),
             (S.SIGNING, lambda: services.format_ok(p["checker"], draft, list(services.FORMAT_CHECKLIST))),
             (S.SIGNED, lambda: services.sign(p["leader"], draft, True, PDF + b"%ky\n")),
             (S.ISSUED, lambda: services.issue(p["clerk"], draft, None)),
             (S.RECALLED, lambda: services.recall(p["clerk"], draft, "Sai căn cứ"))]
    for reached, move in moves:
        if status in (S.DRAFT, S.CANCELLED):
            break
        move()
        if reached == status:
            break
    assert draft.status == status
    db.commit()
    return draft


def _action_urls(draft: Draft) -> dict[str, str]:
    from portal.drafts.views import STEPS
    invite = services.my_open_invites(draft_colleague(draft), draft)
    round_id = services.comment_rounds(draft)[0].round.id
    urls = {name: url_for(view.endpoint, draft_id=draft.id) for name, view in STEPS.items()}
    urls["answer"] = url_for("drafts.answer", draft_id=draft.id, invite_id=invite[0].id if invite else 1)
    urls["close_round"] = url_for("drafts.close_round", draft_id=draft.id, round_id=round_id)
    return urls


def draft_colleague(draft: Draft):
    invite = services.comment_rounds(draft)[0].invites
    return invite[0][1] if invite else None


@pytest.mark.parametrize("status", [S.DRAFT, S.UNIT_REVIEW, S.FORMAT_CHECK, S.SIGNING, S.SIGNED, S.ISSUED,
                                    S.RECALLED, S.CANCELLED])
def test_the_page_offers_exactly_what_the_server_accepts(db, app, office, as_, status):
    """For every state × person × action of the table: a form on the page ⇔ the table's guard lets
    it through; an action not offered is refused over HTTP (403/404, or the notice of a step that
    already happened) and changes nothing."""
    from portal.drafts.workflow import FLOW
    from portal.errors import NotAllowed
    from portal.workflow import AlreadyDone

    _org, _receiver, _t, p = office
    draft = _matrix_draft(db, office, status)
    with app.test_request_context():
        urls = _action_urls(draft)
    assert set(urls) == set(FLOW.transitions), "every step of the table has a form on the page"
    for who, user in p.items():
        page = as_(user).get(url(draft))
        offered = {a for a, u in urls.items() if f'action="{u}"' in text(page)} if page.status_code == 200 else set()
        accepted = set()
        for action in FLOW.transitions:
            try:
                FLOW.guard(user, action, draft)
            except (NotAllowed, AlreadyDone):
                continue
            accepted.add(action)
        if page.status_code == 404:
            assert not offered, who
            assert accepted <= {"answer", "close_round"}, who
            continue
        assert offered == accepted, (status, who, offered, accepted)
        before = (draft.status, draft.holder_id, len(services.history(draft)))
        for action in set(FLOW.transitions) - offered:
            resp = as_(user).post(urls[action], data={})
            assert resp.status_code in (303, 403, 404), (status, who, action, resp.status_code)
            if resp.status_code == 303:  # only a step that already happened: the page with its notice
                done = FLOW[action].done
                assert done is not None, (status, who, action)
                assert done(user, draft), (status, who, action)
            db.expire_all()
            assert (draft.status, draft.holder_id, len(services.history(draft))) == before, (status, who, action)
