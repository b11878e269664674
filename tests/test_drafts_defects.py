"""Issue 13, item 5: three defects of drafting and delivery, each through the page and the service.

1. The receiver showed the exchange DocumentId (``H35.01,2026/12/07,03/BC-VP``) as the document's
   "Mã định danh" while the sender showed the mã định danh (``H35.01-2026.03/BC-VP``, SPEC §4.5).
2. The signer picker (and the service behind it) took unit heads as signers, and filtered a first
   page of 60 people in Python, so a large organisation's leaders could be missing from it.
3. The "Cơ quan trong hệ thống" picker offered outside bodies (``external`` nodes such as Bộ Nội
   vụ), and the service accepted them as electronic recipients, delivering into an inbox nobody reads.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import Position, PositionRole, Role, User
from portal.documents import identifiers
from portal.documents.models import Channel, IncomingDocument, OutgoingDocument, RegisterCounter
from portal.drafts import choices, services
from portal.drafts.models import Draft, DraftStatus, Recipient, SendMethod
from portal.errors import ValidationFailed
from portal.incoming import services as incoming
from portal.orgs import services as orgs
from portal.orgs.models import OrgKind
from portal.text import fold
from portal.timeutil import local_today
from tests import test_drafts_pages as pages
from tests.test_drafts_pages import HX, PDF, at_step, created, text, url

# the draft pages' fixtures: an office with every role, signed-in clients, fake signatures
office, as_, fake_signatures = pages.office, pages.as_, pages.fake_signatures

S = DraftStatus


@pytest.fixture
def ministry(db):
    """An outside body of the shared catalogue, as the demo's Bộ Nội vụ: ``external``, issuing."""
    body = orgs.create(None, orgs.OrgData(name="Bộ Nội vụ Thử", short_name="BNVT", kind=OrgKind.EXTERNAL,
                                          is_issuing=True, organ_id="G99", email="vanthu@bnvt.gov.vn"))
    db.commit()
    return body


def form(doc_type, signer, **extra):
    """The new-draft form as a browser posts it (urgency left at its default)."""
    data = {"document_type_id": str(doc_type.id), "subject": "Về việc báo cáo công tác văn thư",
            "signer_id": str(signer.id), "authority": "", "signer_title": "Giám đốc",
            "main": (io.BytesIO(PDF), "du-thao.pdf")}
    data.update(extra)
    return data


def drafts_of(db, org) -> int:
    return db.scalar(select(func.count()).select_from(Draft).where(Draft.organisation_id == org.id))


# --- 1. the sender's mã định danh on the received document -------------------------------------------

def test_receiver_shows_the_senders_identifier_and_the_document_id_as_its_own_field(db, office, as_):
    _org, receiver, _t, p = office
    draft = at_step(db, office, S.ISSUED)
    out = db.get(OutgoingDocument, draft.outgoing_id)
    doc = db.execute(select(IncomingDocument).where(IncomingDocument.source_outgoing_id == out.id)).scalar_one()
    assert doc.organisation_id == receiver.id
    assert doc.document_id == out.document_id  # delivery keeps the exchange key as sent
    assert out.identifier != out.document_id

    sender_page = text(as_(p["clerk"]).get(f"/du-thao/van-ban-di/{out.id}"))
    receiver_page = text(as_(p["outsider"]).get(f"/van-ban-den/{doc.id}"))
    assert f"<code>{out.identifier}</code>" in sender_page
    # the same mã định danh on both sides, labelled as such; the DocumentId under its own label
    assert f"<dt>Mã định danh văn bản</dt><dd><code>{out.identifier}</code></dd>" in receiver_page
    assert (f"<dt>Mã văn bản liên thông (DocumentId)</dt><dd><code>{out.document_id}</code></dd>"
            in receiver_page)
    assert not re.search(rf"<dt>Mã định danh[^<]*</dt><dd><code>{re.escape(out.document_id)}", receiver_page)


def test_an_outside_arrival_shows_the_identifier_rendered_from_what_the_sender_sent(db, office, as_, ministry):
    _org, receiver, _t, p = office
    issued = local_today() - timedelta(days=2)
    doc = incoming.receive(receiver, incoming.Metadata(
        type_name="Công văn", code_number="3", code_notation="BNVT-VP", issued_date=issued,
        organ_name=ministry.name, subject="Về việc hướng dẫn công tác văn thư",
        document_id=f"000.00.00.G99,{issued:%Y/%m/%d},03/BNVT-VP"), [], sender=ministry, channel=Channel.AXIS)
    db.commit()
    page = text(as_(p["outsider"]).get(f"/van-ban-den/{doc.id}"))
    assert f"<dt>Mã định danh văn bản</dt><dd><code>G99-{issued.year}.03/BNVT-VP</code></dd>" in page
    assert f"<code>000.00.00.G99,{issued:%Y/%m/%d},03/BNVT-VP</code>" in page


def test_identifier_rules():
    day = date(2026, 12, 7)
    assert identifiers.identifier("H35.01", 2026, 3, "BC-VP") == "H35.01-2026.03/BC-VP"
    assert identifiers.document_id("H35.01", day, 3, "BC-VP") == "H35.01,2026/12/07,03/BC-VP"
    assert identifiers.identifier("H35.01", 2026, "125", "QĐ-UBND") == "H35.01-2026.125/QĐ-UBND"
    doc = IncomingDocument(sender_organ_id="H35.01", issued_date=day, code_number="03", code_notation="BC-VP")
    assert identifiers.of_incoming(doc, None) == "H35.01-2026.03/BC-VP"
    # never guessed: from a legacy QCVN 102:2016 code, or with a part missing
    assert identifiers.of_incoming(IncomingDocument(sender_organ_id="000.00.00.G09", issued_date=day,
                                                    code_number="03", code_notation="BC-VP"), None) is None
    assert identifiers.of_incoming(IncomingDocument(sender_organ_id="H35.01", code_number="03",
                                                    code_notation="BC-VP"), None) is None
    sent = OutgoingDocument(identifier="H35.01-2026.03/BC-VP")
    assert identifiers.of_incoming(IncomingDocument(), sent) == "H35.01-2026.03/BC-VP"


# --- 2. only signers are offered and accepted as signers ---------------------------------------------

def test_signer_picker_offers_only_agency_leaders(db, office, as_):
    _org, _receiver, _t, p = office
    leaders = text(as_(p["officer"]).get("/du-thao/tim-nguoi?kind=leader&field=signer_id&q=", headers=HX))
    assert "Lê Văn Giám Đốc" in leaders
    assert "Phạm Văn Phó" in leaders
    assert "Đỗ Thị Trưởng" not in leaders  # a unit head (Lãnh đạo đơn vị), not the signing role
    assert "Lý Thị Góp Ý" not in leaders
    assert "Vũ Văn Thể Thức" not in leaders
    assert "Ngô Văn Ngoài" not in leaders  # another organisation
    forward = text(as_(p["officer"]).get("/du-thao/tim-nguoi?kind=leader&field=forward-leader_id&q=do",
                                         headers=HX))
    assert "Đỗ Thị Trưởng" not in forward


def test_signer_picker_finds_leaders_of_a_large_organisation(db, office, as_):
    """Sixty-five people whose names sort before the leaders: the picker still lists the leaders."""
    org, _receiver, _t, p = office
    for n in range(65):
        name = f"An Văn Số {n:02d}"
        db.add(User(username=f"an{n:02d}", full_name=name, full_name_folded=fold(name), positions=[
            Position(organisation_id=org.id, title="Chuyên viên", roles=[PositionRole(role=Role.OFFICER)])]))
    db.commit()
    leaders = text(as_(p["officer"]).get("/du-thao/tim-nguoi?kind=leader&field=signer_id&q=", headers=HX))
    assert "Lê Văn Giám Đốc" in leaders
    assert "An Văn Số" not in leaders


def test_a_forged_signer_is_refused_with_422(db, office, as_):
    org, _receiver, doc_type, p = office
    officer = as_(p["officer"])
    for who in ("head", "colleague", "outsider"):
        resp = officer.post("/du-thao/moi", data=form(doc_type, p[who]), content_type="multipart/form-data",
                            headers=HX)
        assert resp.status_code == 422, who
        assert "Người ký phải là lãnh đạo cơ quan" in text(resp)
    assert drafts_of(db, org) == 0
    resp = officer.post("/du-thao/moi", data=form(doc_type, p["leader"]), content_type="multipart/form-data")
    assert resp.status_code == 303
    assert drafts_of(db, org) == 1

    draft = created(db, office)
    edit = officer.post(url(draft, "sua"), data={
        "details-document_type_id": str(doc_type.id), "details-subject": draft.subject,
        "details-signer_id": str(p["head"].id), "details-authority": "TL."}, headers=HX)
    assert edit.status_code == 422
    assert "Người ký phải là lãnh đạo cơ quan" in text(edit)
    db.refresh(draft)
    assert draft.signer_id == p["leader"].id


def test_forwarding_for_signature_to_a_unit_head_is_refused(db, office, as_):
    _org, _receiver, _t, p = office
    draft = at_step(db, office, S.SIGNING)
    resp = as_(p["leader"]).post(url(draft, "chuyen-lanh-dao"), data={"forward-leader_id": str(p["head"].id)},
                                 headers=HX)
    assert resp.status_code == 422
    assert "Hãy chọn một lãnh đạo khác của cơ quan." in text(resp)
    db.refresh(draft)
    assert (draft.status, draft.holder_id, draft.signer_id) == (S.SIGNING, p["leader"].id, p["leader"].id)
    ok = as_(p["leader"]).post(url(draft, "chuyen-lanh-dao"), data={"forward-leader_id": str(p["deputy"].id)})
    assert ok.status_code == 303


def test_a_draft_whose_signer_is_not_a_signer_cannot_be_submitted(db, office):
    """A draft saved before this rule (signer = a unit head) is stopped at submission."""
    _org, _receiver, _t, p = office
    draft = created(db, office)
    draft.signer_id = p["head"].id
    db.commit()
    with pytest.raises(ValidationFailed) as refused:
        services.submit(p["officer"], draft)
    assert "lãnh đạo cơ quan" in refused.value.errors["signer_id"]
    assert draft.status == S.DRAFT
    assert choices.is_signer(p["leader"].id, draft.organisation_id)
    assert not choices.is_signer(p["head"].id, draft.organisation_id)


# --- 3. recipients in the system are organisations of this portal ---------------------------------------

def test_recipient_picker_keeps_outside_bodies_out_of_the_system_box(db, office, as_, ministry):
    org, receiver, _t, p = office
    officer = as_(p["officer"])
    inside = text(officer.get("/du-thao/tim-co-quan?q=thu", headers=HX))
    assert receiver.name in inside
    assert "Bộ Nội vụ Thử" not in inside
    assert org.name not in inside  # never one's own
    assert officer.get(f"/du-thao/noi-nhan/dong?id={ministry.id}", headers=HX).status_code == 404

    outside = text(officer.get("/du-thao/tim-co-quan?q=noi vu&ngoai=1", headers=HX))
    assert "Bộ Nội vụ Thử" in outside
    assert receiver.name not in outside
    row = text(officer.get(f"/du-thao/noi-nhan/dong?ngoai={ministry.id}", headers=HX))
    assert 'name="r_org"' not in row
    assert 'name="r_name" value="Bộ Nội vụ Thử"' in row
    assert 'value="vanthu@bnvt.gov.vn"' in row
    assert '<option value="email" selected>' in row
    assert officer.get(f"/du-thao/noi-nhan/dong?ngoai={receiver.id}", headers=HX).status_code == 404
    again = officer.get(f"/du-thao/noi-nhan/dong?ngoai={ministry.id}&r_name=Bộ Nội vụ Thử", headers=HX)
    assert again.status_code == 204


def test_a_forged_recipient_in_the_system_is_refused_with_422(db, office, as_, ministry):
    org, receiver, doc_type, p = office
    officer = as_(p["officer"])
    resp = officer.post("/du-thao/moi", data=form(doc_type, p["leader"], r_org=[str(receiver.id), str(ministry.id)]),
                        content_type="multipart/form-data", headers=HX)
    assert resp.status_code == 422
    assert "“Bộ Nội vụ Thử” là cơ quan ngoài hệ thống" in text(resp)
    assert drafts_of(db, org) == 0

    # the same body as a recipient of the other kind is fine
    resp = officer.post("/du-thao/moi", data=form(
        doc_type, p["leader"], r_org=[str(receiver.id)], r_name=["Bộ Nội vụ Thử"], r_method=["email"],
        r_address=["vanthu@bnvt.gov.vn"]), content_type="multipart/form-data")
    assert resp.status_code == 303
    draft = db.execute(select(Draft).where(Draft.organisation_id == org.id)).scalar_one()
    rows = {(r.name, r.method, r.organisation_id) for r in services.recipients_of(draft)}
    assert rows == {(receiver.name, SendMethod.SYSTEM, receiver.id), ("Bộ Nội vụ Thử", SendMethod.EMAIL, None)}


def test_a_closed_organisation_does_not_receive(db, office, ministry):
    _org, receiver, _t, p = office
    draft = created(db, office)
    receiver.valid_to = local_today() - timedelta(days=1)
    db.commit()
    with pytest.raises(ValidationFailed):
        services.set_recipients(p["officer"], draft, [services.RecipientSpec(organisation_id=receiver.id)])
    with pytest.raises(ValidationFailed) as refused:
        services.set_recipients(p["officer"], draft, [services.RecipientSpec(organisation_id=ministry.id)])
    assert "ngoài hệ thống" in refused.value.errors["recipients"]


def test_issuance_refuses_an_outside_body_stored_as_an_electronic_recipient(db, office, as_, ministry):
    """A draft saved before this rule: nothing is numbered, nothing lands in the outside body's
    inbox, and the clerk is told why (422)."""
    org, _receiver, _t, p = office
    draft = at_step(db, office, S.SIGNED)
    db.add(Recipient(draft_id=draft.id, organisation_id=ministry.id, name=ministry.name, method=SendMethod.SYSTEM))
    db.commit()
    resp = as_(p["clerk"]).post(url(draft, "phat-hanh"), data={}, headers=HX)
    assert resp.status_code == 422
    assert "là cơ quan ngoài hệ thống" in text(resp)
    db.refresh(draft)
    assert (draft.status, draft.outgoing_id) == (S.SIGNED, None)
    assert db.scalar(select(func.count()).select_from(IncomingDocument)
                     .where(IncomingDocument.organisation_id == ministry.id)) == 0
    assert db.scalar(select(func.count()).select_from(OutgoingDocument)
                     .where(OutgoingDocument.organisation_id == org.id)) == 0
    assert not db.scalar(select(func.max(RegisterCounter.last_number)))
