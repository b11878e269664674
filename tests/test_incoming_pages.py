"""The incoming document page and its step forms through HTTP (SPEC §5): for each step the
person holding the document succeeds, bad input is a 422 with the Vietnamese message at the
field, the wrong person is refused (403), and anyone outside never learns the document exists
(404). Files are counted and audited; the type-ahead stays inside the document's organisation."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.documents.models import IncomingDocument
from portal.documents.models import IncomingStatus as S
from portal.incoming import services
from portal.incoming.models import Assignment, AssignmentRole, AssignmentState, IncomingFile, Reminder
from portal.timeutil import local_today

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HX = {"HX-Request": "true"}


def act(user):
    user.current_position = user.positions[0]
    return user


@pytest.fixture
def office(factory, db):
    org = factory.organisation(name="Sở Văn Hóa Thử", short_name="SVHT")
    unit = factory.unit(org, name="Phòng Nghiệp vụ Văn hóa")
    people = {
        "clerk": act(factory.person(Role.CLERK, organisation=org, title="Văn thư", full_name="Trần Thị Văn Thư")),
        "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc",
                                     full_name="Lê Văn Giám Đốc")),
        "deputy": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc",
                                     full_name="Phạm Văn Phó")),
        "head": act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng",
                                   full_name="Đỗ Thị Trưởng")),
        "officer": act(factory.person(Role.OFFICER, organisation=org, unit=unit, full_name="Ngô Văn Chuyên")),
        "outsider": act(factory.person(Role.CLERK, full_name="Ngô Văn Ngoài")),
    }
    db.commit()
    return org, unit, people


@pytest.fixture
def as_(app: Flask, login):
    """A signed-in client per person, so several people can act in one test."""
    clients: dict[int, FlaskClient] = {}

    def _as(user) -> FlaskClient:
        if user.id not in clients:
            clients[user.id] = login(user, c=app.test_client())
        return clients[user.id]

    return _as


def metadata(**kw) -> services.Metadata:
    base = {"type_name": "Quyết định", "code_number": "15", "code_notation": "QĐ-UBND",
            "issued_date": local_today() - timedelta(days=2), "organ_name": "Ủy ban nhân dân tỉnh Hà Nam",
            "subject": "Quyết định về công tác văn thư năm 2026"}
    base.update(kw)
    return services.Metadata(**base)


def form_data(**kw) -> dict[str, str]:
    """The register form as a clerk would fill it (prefix ``register-``)."""
    base = {"type_name": "Quyết định", "code_number": "15", "code_notation": "QĐ-UBND",
            "issued_date": (local_today() - timedelta(days=2)).strftime("%d/%m/%Y"),
            "organ_name": "Ủy ban nhân dân tỉnh Hà Nam", "subject": "Quyết định về công tác văn thư năm 2026",
            "urgency": "0", "secrecy": "0", "language": "Tiếng Việt"}
    base.update(kw)
    return base


def arrived(factory, db, org, **kw) -> IncomingDocument:
    doc = services.receive(org, metadata(**kw), [services.Upload("van-ban.pdf", PDF, services.FileRole.MAIN)],
                           sender=factory.organisation(name="Sở Gửi Thử"))
    db.commit()
    return doc


def registered(db, p, **kw) -> IncomingDocument:
    doc = services.digitise(p["clerk"], metadata(**kw), services.Upload("scan.pdf", PDF))
    db.commit()
    return doc


def presented(db, p, **kw) -> IncomingDocument:
    doc = registered(db, p, **kw)
    services.present(p["clerk"], doc, p["leader"].id)
    db.commit()
    return doc


def directed_to_unit(db, p, unit) -> IncomingDocument:
    doc = presented(db, p)
    services.direct(p["leader"], doc, "Phòng chủ trì.", [services.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id)])
    db.commit()
    return doc


def with_lead_officer(db, p, unit) -> IncomingDocument:
    doc = directed_to_unit(db, p, unit)
    services.direct_within_unit(p["head"], doc, "", [services.AssigneeSpec(AssignmentRole.LEAD,
                                                                           user_id=p["officer"].id)])
    db.commit()
    return doc


def url(doc: IncomingDocument, tail: str = "") -> str:
    return f"/van-ban-den/{doc.id}" + (f"/{tail}" if tail else "")


def ok(resp, doc: IncomingDocument) -> None:
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    assert resp.headers["Location"].endswith(url(doc))


def text(resp) -> str:
    return resp.get_data(as_text=True)


# --- the page -----------------------------------------------------------------------------------------

def test_page_shows_metadata_files_history_and_only_the_allowed_forms(db, factory, office, as_):
    org, _unit, p = office
    doc = arrived(factory, db, org, urgency=services.Urgency.VERY_URGENT, subject="Về việc kiểm tra văn thư")
    page = as_(p["clerk"]).get(url(doc))
    assert page.status_code == 200
    body = text(page)
    assert "Về việc kiểm tra văn thư" in body
    assert "Thượng khẩn" in body
    assert "urgency-2" in body
    assert "van-ban.pdf" in body
    assert "Tải về" in body
    assert "Kiểm tra chữ ký số" in body
    assert "Văn bản đến hệ thống" in body  # the history's first step
    assert f'action="{url(doc, "tiep-nhan")}"' in body
    assert f'action="{url(doc, "tra-lai")}"' in body
    assert f'action="{url(doc, "vao-so")}"' in body
    assert "trinh" not in re.findall(r'action="[^"]*"', body)[-1]
    # the agency leader sees the document (R1) but none of the clerk's forms
    leader_page = text(as_(p["leader"]).get(url(doc)))
    assert "Về việc kiểm tra văn thư" in leader_page
    assert url(doc, "tiep-nhan") not in leader_page
    assert url(doc, "vao-so") not in leader_page


def test_outsiders_and_non_participants_get_404(db, factory, office, as_):
    _org, _unit, p = office
    doc = registered(db, p)
    assert as_(p["outsider"]).get(url(doc)).status_code == 404
    assert as_(p["officer"]).get(url(doc)).status_code == 404
    assert as_(p["outsider"]).post(url(doc, "trinh"), data={"present-leader_id": p["leader"].id}).status_code == 404
    assert as_(p["clerk"]).get("/van-ban-den/999999").status_code == 404


def test_recall_banner_and_confirm(db, factory, office, as_):
    _org, _unit, p = office
    doc = registered(db, p)
    services.request_recall(doc, "Gửi nhầm phiên bản", "Sở Gửi Thử")
    db.commit()
    body = text(as_(p["leader"]).get(url(doc)))
    assert "recall-banner" in body
    assert "Gửi nhầm phiên bản" in body
    assert url(doc, "xac-nhan-thu-hoi") not in body
    assert as_(p["leader"]).post(url(doc, "xac-nhan-thu-hoi")).status_code == 403
    resp = as_(p["clerk"]).post(url(doc, "xac-nhan-thu-hoi"))
    assert resp.status_code == 303
    assert not resp.headers["Location"].endswith(url(doc))
    assert doc.status == S.RECALLED
    assert as_(p["clerk"]).get(url(doc)).status_code == 404
    assert db.scalars(select(IncomingFile).where(IncomingFile.document_id == doc.id)).all() == []


# --- arrival: accept, return, register ------------------------------------------------------------------

def test_accept(db, factory, office, as_):
    org, _unit, p = office
    doc = arrived(factory, db, org)
    assert as_(p["leader"]).post(url(doc, "tiep-nhan")).status_code == 403
    assert as_(p["outsider"]).post(url(doc, "tiep-nhan")).status_code == 404
    resp = as_(p["clerk"]).post(url(doc, "tiep-nhan"), headers=HX)
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"] == url(doc)
    assert doc.status == S.REGISTERED
    assert doc.arrival_number is None
    again = as_(p["clerk"]).post(url(doc, "tiep-nhan"))  # not twice: told it happened, nothing changes (issue 14)
    assert (again.status_code, again.headers["Location"]) == (303, url(doc))
    assert "Văn bản đã được tiếp nhận lúc" in as_(p["clerk"]).get(url(doc)).get_data(as_text=True)
    assert as_(p["clerk"]).post(url(doc, "tiep-nhan"), headers=HX).status_code == 409


def test_return_needs_category_and_reason(db, factory, office, as_):
    org, _unit, p = office
    doc = arrived(factory, db, org)
    resp = as_(p["clerk"]).post(url(doc, "tra-lai"), data={"return-category": "sai_noi_nhan", "return-reason": " "})
    assert resp.status_code == 422
    assert "Hãy ghi rõ lý do trả lại" in text(resp)
    assert doc.status == S.ARRIVED
    resp = as_(p["clerk"]).post(url(doc, "tra-lai"), data={"return-category": "", "return-reason": "x"}, headers=HX)
    assert resp.status_code == 422
    assert "Hãy chọn lý do trả lại" in text(resp)
    assert "<html" not in text(resp)  # htmx gets only the form back
    assert as_(p["leader"]).post(url(doc, "tra-lai"), data={"return-category": "khac",
                                                            "return-reason": "x"}).status_code == 403
    ok(as_(p["clerk"]).post(url(doc, "tra-lai"), data={"return-category": "sai_noi_nhan",
                                                        "return-reason": "Không thuộc thẩm quyền của Sở."}), doc)
    assert doc.status == S.RETURNED
    assert doc.return_reason == "Không thuộc thẩm quyền của Sở."


def test_register_validates_and_numbers(db, factory, office, as_):
    org, _unit, p = office
    doc = arrived(factory, db, org)
    data = {f"register-{k}": v for k, v in form_data(subject="x" * 501).items()}
    resp = as_(p["clerk"]).post(url(doc, "vao-so"), data=data)
    assert resp.status_code == 422
    assert "Trích yếu tối đa 500 ký tự" in text(resp)
    assert doc.arrival_number is None
    data = {f"register-{k}": v for k, v in form_data(issued_date="31/02/2026").items()}
    resp = as_(p["clerk"]).post(url(doc, "vao-so"), data=data)
    assert resp.status_code == 422
    assert "dd/mm/yyyy" in text(resp)
    assert as_(p["leader"]).post(url(doc, "vao-so"), data=data).status_code == 403
    data = {f"register-{k}": v for k, v in form_data(urgency="3").items()}
    ok(as_(p["clerk"]).post(url(doc, "vao-so"), data=data), doc)
    assert doc.status == S.REGISTERED
    assert doc.arrival_number is not None
    assert int(doc.urgency) == 3


def test_duplicate_warning_links_the_earlier_document(db, factory, office, as_):
    org, _unit, p = office
    earlier = registered(db, p)
    doc = arrived(factory, db, org)
    data = {f"register-{k}": v for k, v in form_data().items()}
    resp = as_(p["clerk"]).post(url(doc, "vao-so"), data=data)
    assert resp.status_code == 422
    assert f'href="{url(earlier)}"' in text(resp)
    assert "register-confirm_duplicate" in text(resp)
    assert doc.arrival_number is None
    ok(as_(p["clerk"]).post(url(doc, "vao-so"), data={**data, "register-confirm_duplicate": "y"}), doc)
    assert doc.arrival_number == earlier.arrival_number + 1


# --- presenting --------------------------------------------------------------------------------------------

def test_present_needs_a_leader_of_the_organisation(db, factory, office, as_):
    _org, _unit, p = office
    doc = registered(db, p)
    resp = as_(p["clerk"]).post(url(doc, "trinh"), data={"present-leader_id": ""})
    assert resp.status_code == 422
    assert "Hãy tìm và chọn một lãnh đạo" in text(resp)
    outsider_leader = factory.person(Role.AGENCY_LEADER)
    db.commit()
    resp = as_(p["clerk"]).post(url(doc, "trinh"), data={"present-leader_id": outsider_leader.id})
    assert resp.status_code == 422
    assert "lãnh đạo đang công tác tại cơ quan" in text(resp)
    assert as_(p["leader"]).post(url(doc, "trinh"), data={"present-leader_id": p["leader"].id}).status_code == 403
    ok(as_(p["clerk"]).post(url(doc, "trinh"), data={"present-leader_id": p["leader"].id,
                                                      "present-note": "Kính trình"}), doc)
    assert doc.status == S.PRESENTED
    assert doc.presented_to_id == p["leader"].id


def test_forward_and_send_back(db, office, as_):
    _org, _unit, p = office
    doc = presented(db, p)
    assert as_(p["deputy"]).post(url(doc, "chuyen-lanh-dao"),
                                 data={"forward-leader_id": p["leader"].id}).status_code == 403
    ok(as_(p["leader"]).post(url(doc, "chuyen-lanh-dao"), data={"forward-leader_id": p["deputy"].id}), doc)
    assert doc.presented_to_id == p["deputy"].id
    resp = as_(p["deputy"]).post(url(doc, "tra-van-thu"), data={"send_back-reason": ""})
    assert resp.status_code == 422
    assert "Hãy ghi lý do trả lại văn thư" in text(resp)
    assert as_(p["leader"]).post(url(doc, "tra-van-thu"), data={"send_back-reason": "x"}).status_code == 403
    ok(as_(p["deputy"]).post(url(doc, "tra-van-thu"), data={"send_back-reason": "Thiếu phụ lục"}), doc)
    assert doc.status == S.REGISTERED
    assert doc.presented_to_id is None


def rows(*items) -> dict[str, list[str]]:
    """Picker rows: (kind, id, role, deadline) each."""
    return {"a_kind": [i[0] for i in items], "a_id": [str(i[1]) for i in items],
            "a_role": [i[2] for i in items], "a_deadline": [i[3] for i in items]}


def test_direct_needs_exactly_one_lead(db, office, as_):
    _org, unit, p = office
    doc = presented(db, p)
    deadline = (local_today() + timedelta(days=5)).isoformat()
    resp = as_(p["leader"]).post(url(doc, "phan-phoi"), data={"direct-directive": "Giao phòng.",
                                                             **rows(("unit", unit.id, "phoi_hop", deadline))})
    assert resp.status_code == 422
    assert "Phải có đúng một đơn vị hoặc cá nhân chủ trì" in text(resp)
    assert unit.name in text(resp)  # the rows typed come back
    resp = as_(p["leader"]).post(url(doc, "phan-phoi"), data={"direct-directive": "x"})
    assert resp.status_code == 422
    assert "Hãy chọn ít nhất một" in text(resp)
    assert as_(p["clerk"]).post(url(doc, "phan-phoi"), data=rows(("unit", unit.id, "chu_tri", ""))).status_code == 403
    ok(as_(p["leader"]).post(url(doc, "phan-phoi"), data={
        "direct-directive": "Giao Phòng Nghiệp vụ chủ trì.",
        **rows(("unit", unit.id, "chu_tri", deadline), ("person", p["officer"].id, "de_biet", ""))}), doc)
    assert doc.status == S.ASSIGNED
    made = services.assignments_of(doc)
    assert [(a.assignee_unit_id, a.assignee_user_id, a.role) for a in made] == [
        (unit.id, None, AssignmentRole.LEAD), (None, p["officer"].id, AssignmentRole.INFORM)]
    assert made[0].deadline.isoformat() == deadline


def test_dropped_rows_are_not_assigned(db, office, as_):
    _org, unit, p = office
    doc = presented(db, p)
    ok(as_(p["leader"]).post(url(doc, "phan-phoi"), data={
        **rows(("unit", unit.id, "chu_tri", ""), ("person", p["officer"].id, "chu_tri", "")),
        "a_drop": [f"person:{p['officer'].id}"]}), doc)
    assert [a.assignee_unit_id for a in services.assignments_of(doc)] == [unit.id]


def test_file_for_information(db, office, as_):
    _org, _unit, p = office
    doc = presented(db, p)
    assert as_(p["deputy"]).post(url(doc, "luu-de-biet")).status_code == 403
    ok(as_(p["leader"]).post(url(doc, "luu-de-biet"), data={"file_info-note": "Để biết."}), doc)
    assert doc.status == S.DONE


def test_assign_directly_by_the_clerk(db, office, as_):
    _org, _unit, p = office
    doc = registered(db, p)
    assert as_(p["leader"]).post(url(doc, "chuyen-xu-ly"), data=rows(
        ("person", p["officer"].id, "chu_tri", ""))).status_code == 403
    resp = as_(p["clerk"]).post(url(doc, "chuyen-xu-ly"), data=rows(("person", p["officer"].id, "chu_tri", "hôm qua")))
    assert resp.status_code == 422
    assert "Hạn xử lý không hợp lệ" in text(resp)
    ok(as_(p["clerk"]).post(url(doc, "chuyen-xu-ly"), data=rows(("person", p["officer"].id, "chu_tri", ""))), doc)
    assert doc.status == S.ASSIGNED


# --- handling ------------------------------------------------------------------------------------------

def test_direct_within_unit(db, office, as_):
    _org, unit, p = office
    doc = directed_to_unit(db, p, unit)
    assert as_(p["officer"]).post(url(doc, "giao-trong-don-vi"), data=rows(
        ("person", p["officer"].id, "chu_tri", ""))).status_code == 404  # not assigned yet: invisible
    resp = as_(p["head"]).post(url(doc, "giao-trong-don-vi"), data=rows(("person", p["leader"].id, "chu_tri", "")))
    assert resp.status_code == 422
    assert "thuộc đơn vị của bạn" in text(resp)
    found = text(as_(p["head"]).get(url(doc, "tim-nguoi"), query_string={"step": "unit_direct"}))
    assert "Ngô Văn Chuyên" in found
    assert "Lê Văn Giám Đốc" not in found  # only people of the head's own unit
    ok(as_(p["head"]).post(url(doc, "giao-trong-don-vi"), data={
        "unit_direct-directive": "Đồng chí xử lý.", **rows(("person", p["officer"].id, "chu_tri", ""))}), doc)
    assert any(a.level == 2 and a.assignee_user_id == p["officer"].id for a in services.assignments_of(doc))
    again = as_(p["head"]).post(url(doc, "giao-trong-don-vi"), data=rows(
        ("person", p["officer"].id, "chu_tri", "")))  # only once: a repeat is told so (issue 14)
    assert again.status_code == 303


def test_progress_seen_finish_reopen(db, office, as_):
    _org, unit, p = office
    doc = with_lead_officer(db, p, unit)
    officer = as_(p["officer"])
    ok(officer.post(url(doc, "da-xem")), doc)
    assert all(a.state != AssignmentState.NEW for a in services.my_assignments(p["officer"], doc))
    resp = officer.post(url(doc, "tien-do"), data={"progress-text": ""})
    assert resp.status_code == 422
    assert "Hãy ghi nội dung tiến độ" in text(resp)
    assert as_(p["clerk"]).post(url(doc, "tien-do"), data={"progress-text": "x"}).status_code == 403
    ok(officer.post(url(doc, "tien-do"), data={"progress-text": "Đang dự thảo.",
                                                "progress-files": (io.BytesIO(PDF), "du-thao.pdf")},
                    content_type="multipart/form-data"), doc)
    assert doc.status == S.IN_PROGRESS
    assert "du-thao.pdf" in [f.filename for f in services.files_of(doc)]
    resp = officer.post(url(doc, "hoan-thanh"), data={"finish-result": " "})
    assert resp.status_code == 422
    assert "Hãy ghi kết quả xử lý" in text(resp)
    assert as_(p["head"]).post(url(doc, "hoan-thanh"), data={"finish-result": "x"}).status_code == 403
    ok(officer.post(url(doc, "hoan-thanh"), data={"finish-result": "Đã báo cáo."}), doc)
    assert doc.status == S.DONE
    assert doc.result_text == "Đã báo cáo."
    assert officer.post(url(doc, "mo-lai"), data={"reopen-reason": "x"}).status_code == 403
    resp = as_(p["leader"]).post(url(doc, "mo-lai"), data={"reopen-reason": ""})
    assert resp.status_code == 422
    assert "Hãy ghi lý do mở lại" in text(resp)
    ok(as_(p["head"]).post(url(doc, "mo-lai"), data={"reopen-reason": "Báo cáo thiếu số liệu."}), doc)
    assert doc.status == S.IN_PROGRESS


def test_a_bad_upload_is_a_422_and_leaves_nothing_behind(db, office, as_):
    _org, unit, p = office
    doc = with_lead_officer(db, p, unit)
    resp = as_(p["officer"]).post(url(doc, "tien-do"), data={
        "progress-text": "Kèm tệp", "progress-files": (io.BytesIO(b"MZ not a pdf"), "virus.pdf")},
        content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "Nội dung tệp không phải PDF" in text(resp)
    assert doc.status == S.ASSIGNED
    assert not any(e.action == "progress" for e in services.history(doc))


def test_remind_per_assignment(db, office, as_):
    _org, unit, p = office
    doc = with_lead_officer(db, p, unit)
    row = next(a for a in services.assignments_of(doc) if a.level == 2)
    path = url(doc, f"phan-cong/{row.id}/don-doc")
    resp = as_(p["clerk"]).post(path, data={f"remind{row.id}-kind": "qua_han"})
    assert resp.status_code == 422
    assert "Hãy chọn hình thức đôn đốc" in text(resp)
    assert as_(p["officer"]).post(path, data={f"remind{row.id}-kind": "nhac_nho"}).status_code == 403
    ok(as_(p["head"]).post(path, data={f"remind{row.id}-kind": "phe_binh", f"remind{row.id}-text": "Chậm."}), doc)
    assert db.scalars(select(Reminder).where(Reminder.assignment_id == row.id)).one().text == "Chậm."
    page = text(as_(p["officer"]).get("/van-ban-den/nhac-viec"))
    assert "Phê bình" in page
    assert f'href="{url(doc)}"' in page
    other = next(a for a in services.assignments_of(doc) if a.level == 1)
    assert as_(p["clerk"]).post(url(doc, f"phan-cong/{other.id + 1000}/don-doc"),
                                data={"kind": "nhac_nho"}).status_code == 404


# --- files ----------------------------------------------------------------------------------------------

def test_files_are_counted_and_audited(db, factory, office, as_):
    org, _unit, p = office
    doc = arrived(factory, db, org)
    other = arrived(factory, db, org)
    main = services.files_of(doc)[0]
    clerk = as_(p["clerk"])
    resp = clerk.get(url(doc, f"tep/{main.id}"))
    assert resp.status_code == 200
    assert resp.data == PDF
    assert resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("inline")
    resp = clerk.get(url(doc, f"tep/{main.id}/tai-ve"))
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert "van-ban.pdf" in resp.headers["Content-Disposition"]
    db.refresh(main)
    assert (main.view_count, main.download_count) == (1, 1)
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(doc.id),
                                                        AuditEntry.action.like("incoming.file_%"))).all()
    assert sorted(actions) == ["incoming.file_download", "incoming.file_view"]
    assert clerk.get(url(other, f"tep/{main.id}")).status_code == 404
    assert as_(p["outsider"]).get(url(doc, f"tep/{main.id}")).status_code == 404
    db.refresh(main)
    assert main.view_count == 1


def test_vietnamese_filename_is_kept(db, office, as_):
    _org, _unit, p = office
    doc = services.digitise(p["clerk"], metadata(), services.Upload("Quyết định số 15.pdf", PDF))
    db.commit()
    resp = as_(p["clerk"]).get(url(doc, f"tep/{services.files_of(doc)[0].id}/tai-ve"))
    assert "filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh" in resp.headers["Content-Disposition"]


# --- type-ahead -------------------------------------------------------------------------------------------

def test_lookup_stays_inside_the_documents_organisation(db, factory, office, as_):
    _org, unit, p = office
    stranger = factory.person(Role.AGENCY_LEADER, full_name="Lê Văn Người Ngoài")
    factory.unit(stranger.positions[0].organisation, name="Phòng Nghiệp vụ Ngoài")
    db.commit()
    doc = presented(db, p)
    leader = as_(p["leader"])
    resp = leader.get(url(doc, "tim-nguoi"), query_string={"step": "direct", "q": "nghiep vu"}, headers=HX)
    assert resp.status_code == 200
    assert "<html" not in text(resp)
    assert unit.name in text(resp)
    assert "Phòng Nghiệp vụ Ngoài" not in text(resp)
    resp = leader.get(url(doc, "tim-nguoi"), query_string={"step": "direct", "q": "le van"})
    assert "Lê Văn Giám Đốc" in text(resp)
    assert "Người Ngoài" not in text(resp)
    row = leader.get(url(doc, "tim-nguoi/dong"), query_string={"step": "direct", "kind": "person", "id": stranger.id})
    assert row.status_code == 404
    row = leader.get(url(doc, "tim-nguoi/dong"), query_string={"step": "direct", "kind": "unit", "id": unit.id})
    assert row.status_code == 200
    assert 'name="a_id"' in text(row)
    assert "chu_tri\" selected" in text(row)
    again = leader.get(url(doc, "tim-nguoi/dong"), query_string={"step": "direct", "kind": "unit", "id": unit.id,
                                                                 "a_kind": "unit", "a_id": unit.id})
    assert again.status_code == 204
    # only the holder of a picker may search; outsiders do not learn the document exists
    assert as_(p["clerk"]).get(url(doc, "tim-nguoi"), query_string={"step": "direct"}).status_code == 403
    assert as_(p["outsider"]).get(url(doc, "tim-nguoi"), query_string={"step": "direct"}).status_code == 404


def test_leader_lookup_offers_radios_of_leaders_only(db, office, as_):
    _org, _unit, p = office
    doc = registered(db, p)
    body = text(as_(p["clerk"]).get(url(doc, "tim-nguoi"), query_string={"step": "present", "q": ""}))
    assert f'name="present-leader_id" value="{p["leader"].id}"' in body
    assert f'value="{p["head"].id}"' in body  # unit heads may be presented to as well
    assert f'value="{p["officer"].id}"' not in body


# --- paper, sent, reminders -------------------------------------------------------------------------------

def new_data(**kw):
    return {**form_data(**kw), "scan": (io.BytesIO(PDF), "scan.pdf")}


def test_new_paper_document(db, office, as_):
    _org, _unit, p = office
    assert as_(p["officer"]).get("/van-ban-den/moi").status_code == 403
    assert as_(p["leader"]).post("/van-ban-den/moi", data=new_data()).status_code == 403
    clerk = as_(p["clerk"])
    assert clerk.get("/van-ban-den/moi").status_code == 200
    resp = clerk.post("/van-ban-den/moi", data={**form_data(), "scan": (io.BytesIO(PDF), "scan.docx")},
                      content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "Bản quét phải là tệp PDF" in text(resp)
    resp = clerk.post("/van-ban-den/moi", data=new_data(code_number=""), content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "Hãy nhập số của văn bản" in text(resp)
    resp = clerk.post("/van-ban-den/moi", data=new_data(), content_type="multipart/form-data")
    assert resp.status_code == 303
    doc = db.get(IncomingDocument, int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert doc.status == S.REGISTERED
    assert doc.has_paper
    assert doc.arrival_number
    resp = clerk.post("/van-ban-den/moi", data=new_data(), content_type="multipart/form-data")
    assert resp.status_code == 422
    assert f'href="{url(doc)}"' in text(resp)
    resp = clerk.post("/van-ban-den/moi", data={**new_data(), "confirm_duplicate": "y"},
                      content_type="multipart/form-data")
    assert resp.status_code == 303


def test_sent_shows_the_receivers_status_and_return_reason(db, factory, office, as_):
    org, _unit, p = office
    sender = factory.organisation(name="Sở Gửi Đi")
    sender_clerk = act(factory.person(Role.CLERK, organisation=sender))
    sender_officer = act(factory.person(Role.OFFICER, organisation=sender))
    doc = services.receive(org, metadata(subject="Báo cáo gửi Sở Văn Hóa"), sender=sender)
    services.return_to_sender(p["clerk"], doc, "thieu_tep", "Thiếu phụ lục kèm theo")
    db.commit()
    body = text(as_(sender_clerk).get("/van-ban-den/da-gui"))
    assert "Báo cáo gửi Sở Văn Hóa" in body
    assert "Đã trả lại" in body
    assert "Thiếu phụ lục kèm theo" in body
    assert url(doc) not in body  # the sender may not open the receiver's record
    assert as_(sender_officer).get("/van-ban-den/da-gui").status_code == 403
    assert "Báo cáo gửi Sở Văn Hóa" not in text(as_(p["clerk"]).get("/van-ban-den/da-gui"))


def test_every_step_left_an_audit_row(db, office, as_):
    _org, _unit, p = office
    doc = registered(db, p)
    as_(p["clerk"]).post(url(doc, "trinh"), data={"present-leader_id": p["leader"].id})
    assert db.scalars(select(AuditEntry).where(AuditEntry.action == "incoming.present",
                                               AuditEntry.object_id == str(doc.id))).one()
    denied = as_(p["officer"]).post(url(doc, "phan-phoi"))
    assert denied.status_code == 404
    assert db.scalars(select(Assignment).where(Assignment.document_id == doc.id)).all() == []


@pytest.mark.parametrize("step", ["direct", "register", "remind"])
def test_refused_steps_answer_htmx_with_only_their_form(db, factory, office, as_, step):
    """A 422 to htmx swaps just the step's form (no page around it), with what was typed."""
    org, unit, p = office
    if step == "direct":
        doc = presented(db, p)
        who, path, data = p["leader"], url(doc, "phan-phoi"), {
            "direct-directive": "Ý kiến đã gõ", **rows(("unit", unit.id, "phoi_hop", ""))}
        expected = ['id="step-direct"', "Ý kiến đã gõ", unit.name, "Phải có đúng một"]
    elif step == "register":
        registered(db, p)
        doc = arrived(factory, db, org)
        who, path = p["clerk"], url(doc, "vao-so")
        data = {f"register-{k}": v for k, v in form_data().items()}
        expected = ['id="step-register"', "Có thể trùng", "register-confirm_duplicate"]
    else:
        doc = with_lead_officer(db, p, unit)
        row = services.assignments_of(doc)[-1]
        who, path, data = p["clerk"], url(doc, f"phan-cong/{row.id}/don-doc"), {f"remind{row.id}-kind": "x"}
        expected = [f'id="remind-{row.id}"', "Hãy chọn hình thức đôn đốc"]
    resp = as_(who).post(path, data=data, headers=HX)
    body = text(resp)
    assert resp.status_code == 422
    assert "<html" not in body
    for part in expected:
        assert part in body
