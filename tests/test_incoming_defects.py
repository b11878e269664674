"""Issue 13, item 5: the incoming defects, each held by a test that failed on the code before the fix.

1. "Tiếp nhận" showed the badge "Đã vào sổ" beside "Số đến: Chưa vào sổ".
2. The lead's "Hoàn thành" marked co-operating parties "Hoàn thành" without their doing anything.
3. Finishing dropped the link to the reply ("Soạn văn bản trả lời" gone, no reply on the page).
4. The lead's deadline silently replaced the document's own deadline.
5. "Chuyển lãnh đạo khác" offered the leader himself and the service accepted it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.documents.models import IncomingStatus as S
from portal.drafts import services as drafts
from portal.errors import NotAllowed, ValidationFailed
from portal.incoming import queries, services
from portal.incoming.models import AssignmentRole, AssignmentState
from portal.reports import services as reports
from portal.timeutil import local_today, local_year
from portal.workdays.calendar import add_working_days
from tests.incoming_fixtures import PDF, metadata
from tests.test_drafts_workflow import cheap_seal, signed_draft
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture: two organisations)

Spec = services.AssigneeSpec


@pytest.fixture
def as_(app: Flask, login, db):
    db.commit()
    clients: dict[int, FlaskClient] = {}

    def _as(user) -> FlaskClient:
        if user.id not in clients:
            clients[user.id] = login(user, c=app.test_client())
        return clients[user.id]
    return _as


def text(resp) -> str:
    return resp.get_data(as_text=True)


def ids(user, slug: str) -> set[int]:
    return {d.id for d in queries.page(user, queries.QUEUES[slug], queries.Filters()).rows}


def presented(p) -> object:
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    return doc


# --- 1. the badge after "Tiếp nhận" -------------------------------------------------------------------

def test_accepted_document_is_not_shown_as_registered(db, office, as_):
    org, _unit, p = office
    doc = services.receive(org, metadata(), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])
    resp = as_(p["clerk"]).post(f"/van-ban-den/{doc.id}/tiep-nhan", data={})
    assert resp.status_code in (200, 303)
    assert (doc.status, doc.arrival_number) == (S.REGISTERED, None)
    page = text(as_(p["clerk"]).get(f"/van-ban-den/{doc.id}"))
    assert "Chưa vào sổ" in page
    assert "Đã vào sổ" not in page  # the badge said so while Số đến said "Chưa vào sổ"
    assert "Chờ vào sổ" in page
    listed = text(as_(p["clerk"]).get("/van-ban-den/?ds=cho-vao-so"))
    assert "Chờ vào sổ</span>" in listed
    assert "Đã vào sổ</span>" not in listed
    services.register(p["clerk"], doc, metadata())
    assert doc.status_label == "Đã vào sổ"
    assert "Đã vào sổ" in text(as_(p["clerk"]).get(f"/van-ban-den/{doc.id}"))


# --- 2. each assignment keeps its own state ---------------------------------------------------------------

def test_lead_finishing_leaves_the_co_operating_parts_as_they_are(db, factory, office):
    org, _unit, p = office
    other_unit = factory.unit(org, name="Phòng Kế hoạch")
    doc = presented(p)
    services.direct(p["leader"], doc, "Phòng Nghiệp vụ chủ trì.", [
        Spec(AssignmentRole.LEAD, user_id=p["officer"].id),
        Spec(AssignmentRole.COOPERATE, user_id=p["other"].id),
        Spec(AssignmentRole.COOPERATE, unit_id=other_unit.id),
        Spec(AssignmentRole.INFORM, user_id=p["head"].id)])
    services.finish(p["officer"], doc, "Đã báo cáo.")
    states = {(a.assignee_user_id or a.assignee_unit_id, a.role): a.state for a in services.assignments_of(doc)}
    assert states == {(p["officer"].id, AssignmentRole.LEAD): AssignmentState.DONE,
                      (p["other"].id, AssignmentRole.COOPERATE): AssignmentState.NEW,
                      (other_unit.id, AssignmentRole.COOPERATE): AssignmentState.NEW,
                      (p["head"].id, AssignmentRole.INFORM): AssignmentState.NEW}
    assert doc.status == S.DONE
    # the co-operating officer still sees the part waiting, can report and finish it
    assert doc.id in ids(p["other"], "cho-xu-ly")
    assert {"progress", "finish_part", "seen"} <= services.available_actions(p["other"], doc)
    services.record_progress(p["other"], doc, "Góp ý: đề nghị bổ sung số liệu.")
    assert doc.id in ids(p["other"], "dang-xu-ly")
    assert doc.id not in ids(p["other"], "cho-xu-ly")
    with pytest.raises(NotAllowed):  # the lead's part is closed: the document's finish did it
        services.record_progress(p["officer"], doc, "Thêm.", part_done=True)
    services.record_progress(p["other"], doc, "Đã gửi số liệu.", part_done=True)
    mine = services.my_assignments(p["other"], doc)[0]
    assert (mine.state, doc.status) == (AssignmentState.DONE, S.DONE)
    assert doc.id not in ids(p["other"], "dang-xu-ly")
    assert "finish_part" not in services.available_actions(p["other"], doc)
    # reopening puts back only what the lead's finish closed
    services.reopen(p["leader"], doc, "Bổ sung.")
    states = {(a.assignee_user_id or a.assignee_unit_id, a.role): a.state for a in services.assignments_of(doc)}
    assert states == {(p["officer"].id, AssignmentRole.LEAD): AssignmentState.WORKING,
                      (p["other"].id, AssignmentRole.COOPERATE): AssignmentState.DONE,
                      (other_unit.id, AssignmentRole.COOPERATE): AssignmentState.NEW,
                      (p["head"].id, AssignmentRole.INFORM): AssignmentState.NEW}


def test_a_co_operating_units_own_lead_finishes_the_units_part(db, office):
    _org, unit, p = office
    doc = presented(p)
    services.direct(p["leader"], doc, "", [Spec(AssignmentRole.LEAD, user_id=p["other"].id),
                                           Spec(AssignmentRole.COOPERATE, unit_id=unit.id)])
    services.direct_within_unit(p["head"], doc, "", [Spec(AssignmentRole.LEAD, user_id=p["officer"].id)])
    services.finish(p["other"], doc, "Xong.")
    unit_row = next(a for a in services.assignments_of(doc) if a.assignee_unit_id == unit.id)
    assert unit_row.state == AssignmentState.WORKING  # was "Hoàn thành" without a word from the unit
    services.record_progress(p["officer"], doc, "Phần của phòng đã xong.", part_done=True)
    assert unit_row.state == AssignmentState.DONE


def test_the_page_shows_each_parts_own_state_after_the_finish(db, office, as_):
    _org, _unit, p = office
    doc = presented(p)
    services.direct(p["leader"], doc, "", [Spec(AssignmentRole.LEAD, user_id=p["officer"].id),
                                           Spec(AssignmentRole.COOPERATE, user_id=p["other"].id)])
    services.finish(p["officer"], doc, "Xong.")
    page = text(as_(p["other"]).get(f"/van-ban-den/{doc.id}"))
    table = page.split('id="assignments-heading"')[1].split("</section>")[0]
    assert table.count("<td>Hoàn thành</td>") == 1
    assert table.count("<td>Mới</td>") == 1
    assert "Đã hoàn thành phần việc phối hợp của tôi" in page
    resp = as_(p["other"]).post(f"/van-ban-den/{doc.id}/tien-do",
                                data={"progress-text": "Đã gửi ý kiến.", "progress-done": "y"})
    assert resp.status_code in (200, 303)
    assert services.my_assignments(p["other"], doc)[0].state == AssignmentState.DONE


# --- 3. the reply survives finishing and reopening ---------------------------------------------------------

def test_the_reply_stays_linked_through_finish_and_reopen(db, request, as_):
    w = request.getfixturevalue("drafts_world")
    p = w.p
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "", [Spec(AssignmentRole.LEAD, user_id=p["officer"].id)])
    draft = signed_draft(w, reply_to_id=doc.id)
    issued = drafts.issue(p["clerk"], draft, None, seal=cheap_seal).outgoing
    services.finish(p["officer"], doc, "Đã trả lời.")
    assert doc.answer_outgoing_id == issued.id  # was set to None by every finish
    page = text(as_(p["officer"]).get(f"/van-ban-den/{doc.id}"))
    assert "Văn bản trả lời" in page
    assert f"{issued.code_number}/{issued.code_notation}" in page
    assert "Soạn văn bản trả lời" in page
    services.reopen(p["leader"], doc, "Xem lại.")
    assert doc.answer_outgoing_id == issued.id
    services.finish(p["officer"], doc, "Đã trả lời lần hai.")
    assert doc.answer_outgoing_id == issued.id
    assert f"{issued.code_number}/{issued.code_notation}" in text(as_(p["officer"]).get(f"/van-ban-den/{doc.id}"))
    period = reports.Period(reports.PeriodKind.YEAR, local_year(issued.issued_at), 1)
    report, _scope = reports.build(p["leader"], reports.Kind.OUTGOING, period, reports.Grouping.UNIT)
    assert report.totals.values["replies"] == 1


def test_a_reply_can_still_be_started_after_the_finish(db, office, as_):
    _org, _unit, p = office
    doc = presented(p)
    services.direct(p["leader"], doc, "", [Spec(AssignmentRole.LEAD, user_id=p["officer"].id)])
    services.finish(p["officer"], doc, "Xong.")
    assert f"/du-thao/moi?tra_loi={doc.id}" in text(as_(p["officer"]).get(f"/van-ban-den/{doc.id}"))


# --- 4. two deadlines --------------------------------------------------------------------------------------

def test_the_leads_deadline_does_not_replace_the_documents(db, office, monkeypatch):
    _org, unit, p = office
    own = add_working_days(local_today(), 10)  # working days (issue 18)
    doc = services.digitise(p["clerk"], metadata(due_date=own), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    lead_deadline = add_working_days(local_today(), 3)
    rows = services.direct(p["leader"], doc, "", [Spec(AssignmentRole.LEAD, unit_id=unit.id, deadline=lead_deadline),
                                                  Spec(AssignmentRole.COOPERATE, user_id=p["other"].id)])
    assert doc.due_date == own  # was overwritten with the lead's deadline
    assert rows[0].deadline == lead_deadline
    # the overdue queue: the front desk sees a late part, each person their own deadline
    later = add_working_days(local_today(), 5)
    monkeypatch.setattr(queries, "local_today", lambda: later)
    assert doc.id in ids(p["clerk"], "qua-han")  # the lead unit is late, the document not yet
    assert doc.id in ids(p["head"], "qua-han")
    assert doc.id not in ids(p["other"], "qua-han")  # no deadline of their own


def test_the_directing_leader_may_set_the_documents_deadline(db, office, as_):
    _org, unit, p = office
    doc = presented(p)
    due = local_today() + timedelta(days=7)
    resp = as_(p["leader"]).post(f"/van-ban-den/{doc.id}/phan-phoi", data={
        "direct-directive": "Giao phòng.", "direct-due_date": due.strftime("%d/%m/%Y"),
        "a_kind": "unit", "a_id": str(unit.id), "a_role": "chu_tri",
        "a_deadline": (local_today() + timedelta(days=2)).isoformat()})
    assert resp.status_code in (200, 303), text(resp)[:2000]
    assert doc.due_date == due
    with pytest.raises(ValidationFailed):
        services.direct(p["leader"], presented(p), "", [Spec(AssignmentRole.LEAD, unit_id=unit.id)],
                        due_date=local_today() - timedelta(days=1))


# --- 5. forwarding to oneself ------------------------------------------------------------------------------

def test_forwarding_to_oneself_is_refused_and_not_offered(db, factory, office, as_):
    org, _unit, p = office
    deputy = factory.person(services.Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc")
    deputy.current_position = deputy.positions[0]
    doc = presented(p)
    names = {u.id for u in services.lookup(p["leader"], doc, "leader", "")}
    assert p["leader"].id not in names
    assert deputy.id in names
    offered = text(as_(p["leader"]).get(f"/van-ban-den/{doc.id}/tim-nguoi?step=forward&q="))
    assert p["leader"].full_name not in offered
    assert deputy.full_name in offered
    with pytest.raises(ValidationFailed) as refused:
        services.forward(p["leader"], doc, p["leader"].id)
    assert "lãnh đạo khác" in refused.value.errors["leader_id"]
    resp = as_(p["leader"]).post(f"/van-ban-den/{doc.id}/chuyen-lanh-dao",
                                 data={"forward-leader_id": str(p["leader"].id)}, headers={"HX-Request": "true"})
    assert resp.status_code == 422
    assert "hãy chọn một lãnh đạo khác" in text(resp)
    assert (doc.status, doc.presented_to_id) == (S.PRESENTED, p["leader"].id)
