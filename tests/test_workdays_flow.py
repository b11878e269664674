"""Working days in the work itself (issue 18 item 4): due-soon and overdue over Tết 2027 in the lists and the
daily reminders, deadlines typed as "N ngày làm việc", the registration and issuance limits in the lists and
in ``near_or_past``, gia hạn (request → approve → the new deadline and its history; refuse; who may), and the
reports' on-time, extension and "trễ hạn xử lý thủ tục" figures against a count by hand.

The clock is fixed (``clock``): Wednesday 03/02/2027 is the last working day before Tết (04–10/02 off in the
``holidays`` package), Thursday 11/02 the first after it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.audit import AuditEntry
from portal.auth.models import Role
from portal.documents.models import Direction, OutgoingDocument, OutgoingStatus, RegisterBook, Urgency
from portal.drafts import common as drafts_common
from portal.drafts import limits as drafts_limits
from portal.drafts.models import Draft, DraftStatus
from portal.errors import ValidationFailed
from portal.incoming import limits as incoming_limits
from portal.incoming import queries, services
from portal.incoming.models import AssignmentRole, ExtensionState, IncomingEvent, Reminder, ReminderKind
from portal.reports import services as reports
from portal.workdays import calendar
from portal.workdays import limits as workday_limits
from tests.incoming_fixtures import PDF, act, metadata
from tests.test_drafts_workflow import signed_draft
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture: two organisations)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
Spec = services.AssigneeSpec
BEFORE_TET, AFTER_TET = date(2027, 2, 3), date(2027, 2, 11)


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN).astimezone(UTC)


class Clock:
    def __init__(self) -> None:
        self.at = vn(2027, 2, 3, 9)

    def set(self, at: datetime) -> None:
        self.at = at

    def today(self) -> date:
        return self.at.astimezone(VN).date()


@pytest.fixture
def clock(db, monkeypatch):
    c = Clock()
    monkeypatch.setattr(services, "_now", lambda: c.at)
    monkeypatch.setattr(services, "local_today", c.today)
    monkeypatch.setattr(queries, "local_today", c.today)
    monkeypatch.setattr(incoming_limits, "now_utc", lambda: c.at)
    monkeypatch.setattr(drafts_limits, "now_utc", lambda: c.at)
    monkeypatch.setattr(drafts_common, "now", lambda: c.at)
    calendar.forget()  # in the db fixture's app context: a context of its own would roll its session back
    yield c
    calendar.forget()


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


def directed(p, *specs: Spec, subject: str = "Báo cáo công tác văn thư", due_date: date | None = None):
    doc = services.digitise(p["clerk"], metadata(subject=subject, code_number=str(abs(hash(subject)) % 10**6),
                                                 issued_date=date(2027, 1, 29)),
                            services.Upload("scan.pdf", PDF), confirm_duplicate=True)
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "Đề nghị xử lý đúng hạn.", list(specs), due_date=due_date)
    return doc


def lead_row(doc):
    return next(a for a in services.assignments_of(doc) if a.role == AssignmentRole.LEAD)


# --- due soon and overdue ----------------------------------------------------------------------------------

def test_due_soon_and_overdue_count_working_days_across_tet(db, office, clock):
    _org, _unit, p = office
    in_tet = directed(p, Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=date(2027, 2, 5)),
                      subject="Hạn rơi vào Tết")
    after = directed(p, Spec(AssignmentRole.LEAD, user_id=p["other"].id, deadline=AFTER_TET),
                     subject="Hạn sau Tết")
    # Wednesday before Tết: 11/02 is the next working day, so both are due soon; nothing is late
    assert {in_tet.id, after.id} <= ids(p["clerk"], "sap-den-han")
    assert after.id in ids(p["other"], "sap-den-han")
    assert not {in_tet.id, after.id} & ids(p["clerk"], "qua-han")
    # Thursday after Tết: the deadline on Giao thừa ran to today's end, not late (by calendar days it was)
    clock.set(vn(2027, 2, 11, 9))
    assert not {in_tet.id, after.id} & ids(p["clerk"], "qua-han")
    assert {in_tet.id, after.id} <= ids(p["clerk"], "sap-den-han")
    # Friday: both late
    clock.set(vn(2027, 2, 12, 9))
    assert {in_tet.id, after.id} <= ids(p["clerk"], "qua-han")
    assert ids(p["officer"], "qua-han") >= {in_tet.id}
    assert in_tet.id not in ids(p["other"], "qua-han")  # each person follows their own parts
    assert not {in_tet.id, after.id} & ids(p["clerk"], "sap-den-han")


def test_the_documents_own_deadline_too(db, office, clock):
    _org, unit, p = office
    doc = directed(p, Spec(AssignmentRole.LEAD, unit_id=unit.id), due_date=date(2027, 2, 6))  # Tết Saturday
    clock.set(vn(2027, 2, 11, 16))
    assert doc.id not in ids(p["clerk"], "qua-han")
    assert doc.id in ids(p["clerk"], "sap-den-han")
    clock.set(vn(2027, 2, 12, 8))
    assert doc.id in ids(p["clerk"], "qua-han")


def test_daily_reminders_in_working_days(app, db, office, clock):
    _org, _unit, p = office
    doc = directed(p, Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=date(2027, 2, 5)),
                   Spec(AssignmentRole.COOPERATE, user_id=p["other"].id, deadline=AFTER_TET + timedelta(days=1)))
    assert services.send_due_reminders(BEFORE_TET) == 1  # the lead's 05/02 runs to 11/02: the next working day
    assert services.send_due_reminders(date(2027, 2, 6)) == 0  # Tết: nobody is reminded on a day off
    assert services.send_due_reminders(AFTER_TET) == 2  # both due soon (12/02 is the next working day)
    assert services.send_due_reminders(AFTER_TET) == 0  # once a day
    assert services.send_due_reminders(date(2027, 2, 12)) == 2  # the lead's now late, the other's today
    kinds = {(r.assignment_id, r.for_date): r.kind for r in db.execute(select(Reminder)).scalars()}
    lead, other = (a.id for a in services.assignments_of(doc))
    assert kinds == {(lead, BEFORE_TET): ReminderKind.DUE_SOON, (lead, AFTER_TET): ReminderKind.DUE_SOON,
                     (other, AFTER_TET): ReminderKind.DUE_SOON, (lead, date(2027, 2, 12)): ReminderKind.OVERDUE,
                     (other, date(2027, 2, 12)): ReminderKind.DUE_SOON}
    runner = app.test_cli_runner()
    assert runner.invoke(args=["portal", "remind", "--ngay", "07/02/2027"]).output.strip() == "Không có nhắc việc mới."


# --- deadlines typed as working days -----------------------------------------------------------------------

def test_directing_with_deadlines_in_working_days(db, office, clock, as_):
    _org, unit, p = office
    doc = services.digitise(p["clerk"], metadata(issued_date=date(2027, 1, 29)), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    resp = as_(p["leader"]).post(f"/van-ban-den/{doc.id}/phan-phoi", data={
        "direct-directive": "Giao phòng.", "direct-due_days": "3",
        "a_kind": ["unit", "person"], "a_id": [str(unit.id), str(p["other"].id)], "a_role": ["chu_tri", "phoi_hop"],
        "a_deadline": ["", "2027-02-04"], "a_days": ["2", ""]})
    assert resp.status_code == 303, text(resp)[:2000]
    assert doc.due_date == date(2027, 2, 15)  # 3 working days from 03/02: 11, 12, 15
    rows = services.assignments_of(doc)
    assert [r.deadline for r in rows] == [date(2027, 2, 12), date(2027, 2, 4)]


@pytest.mark.parametrize(("extra", "message"), [
    ({"a_deadline": "2027-02-12", "a_days": "2"}, "không cả hai"),
    ({"a_deadline": "", "a_days": "0"}, "Hạn xử lý: số ngày làm việc là số nguyên từ 1 đến 365"),
    ({"a_deadline": "", "a_days": "ba"}, "Hạn xử lý: số ngày làm việc là số nguyên từ 1 đến 365"),
    ({"direct-due_days": "9999"}, "Số ngày làm việc là số nguyên từ 1 đến 365"),
    ({"direct-due_date": "12/02/2027", "direct-due_days": "2"}, "không cả hai"),
])
def test_bad_working_days_are_refused_in_vietnamese(db, office, clock, as_, extra, message):
    _org, unit, p = office
    doc = services.digitise(p["clerk"], metadata(issued_date=date(2027, 1, 29)), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    data = {"direct-directive": "Giao phòng.", "a_kind": "unit", "a_id": str(unit.id), "a_role": "chu_tri",
            "a_deadline": "", **extra}
    resp = as_(p["leader"]).post(f"/van-ban-den/{doc.id}/phan-phoi", data=data, headers={"HX-Request": "true"})
    assert resp.status_code == 422
    assert message in text(resp)
    assert services.assignments_of(doc) == []


def test_comment_deadline_in_working_days(db, request, clock, monkeypatch):
    w = request.getfixturevalue("drafts_world")
    from portal.drafts import services as drafts

    monkeypatch.setattr("portal.drafts.comments.local_today", clock.today)
    draft = drafts.create(w.p["officer"], drafts.DraftData(subject="Về việc góp ý", document_type_id=w.letter.id,
                                                           signer_id=w.p["leader"].id, signer_title="Giám đốc"),
                          drafts.Upload("du-thao.pdf", PDF))
    round_ = drafts.ask_comments(w.p["officer"], draft, [w.p["c1"].id], "Đề nghị góp ý.", None, deadline_days=2)
    assert round_.deadline == date(2027, 2, 12)  # 11/02 and 12/02: Tết is not counted
    with pytest.raises(ValidationFailed, match="không cả hai"):
        drafts.ask_comments(w.p["officer"], draft, [w.p["c2"].id], "Lần hai.", date(2027, 2, 15), deadline_days=2)


# --- the procedures' limits in the lists ------------------------------------------------------------------

def test_registration_limit_in_the_list_and_near_or_past(db, office, clock, as_):
    org, _unit, p = office
    clock.set(vn(2027, 2, 3, 16))
    normal = services.receive(org, metadata(subject="Công văn thường"), [services.Upload("a.pdf", PDF,
                                                                                         services.FileRole.MAIN)])
    flash = services.receive(org, metadata(subject="Công văn hỏa tốc", code_number="16", urgency=Urgency.EXPRESS),
                             [services.Upload("b.pdf", PDF, services.FileRole.MAIN)])
    assert normal.register_due_at == vn(2027, 2, 3, 17)  # the same working day
    assert flash.register_due_at == vn(2027, 2, 11, 8, 30)  # 2 working hours: 1 before Tết, 1 after it
    page = text(as_(p["clerk"]).get("/van-ban-den/?ds=cho-tiep-nhan"))
    assert "Vào sổ: còn 1 giờ làm việc" in page
    near = workday_limits.near_or_past(user=p["clerk"], now=clock.at)  # 2 working hours or less left
    assert [(i.kind, i.object_id, i.remaining.label) for i in near] == [
        ("register", normal.id, "còn 1 giờ làm việc"), ("register", flash.id, "còn 2 giờ làm việc")]
    clock.set(vn(2027, 2, 11, 8))
    near = workday_limits.near_or_past(organisation_id=org.id, now=clock.at)
    assert [(i.object_id, i.remaining.label, i.remaining.late) for i in near] == [
        (normal.id, "trễ 30 phút làm việc", True), (flash.id, "còn 30 phút làm việc", False)]  # Tết has no hours
    assert workday_limits.near_or_past(user=p["officer"], now=clock.at) == []  # clerks register
    services.register(p["clerk"], flash, metadata(subject="Công văn hỏa tốc", code_number="16",
                                                  urgency=Urgency.EXPRESS))
    assert [i.object_id for i in workday_limits.near_or_past(user=p["clerk"], now=clock.at)] == [normal.id]
    clock.set(vn(2027, 2, 12, 9))
    assert "Vào sổ: trễ 2 ngày làm việc" in text(as_(p["clerk"]).get("/van-ban-den/?ds=cho-tiep-nhan"))


def test_a_day_off_added_later_moves_a_running_limit(db, office, clock):
    org, _unit, _p = office
    clock.set(vn(2027, 3, 5, 17, 30))  # Friday after closing: registered by Monday's end
    doc = services.receive(org, metadata(subject="Đến sau giờ làm việc"))
    assert doc.register_due_at == vn(2027, 3, 8, 17)
    from portal.workdays import service

    service.add_override(None, date(2027, 3, 8), "nghi", "Nghỉ bù (thử)")
    db.flush()
    assert doc.register_due_at == vn(2027, 3, 9, 17)


def test_issuance_limit_in_the_drafts_waiting_for_issuance(db, request, clock, as_):
    w = request.getfixturevalue("drafts_world")
    clock.set(vn(2027, 2, 3, 15))
    draft = signed_draft(w)
    assert draft.issue_due_at == vn(2027, 2, 11, 12)  # by 12:00 of the next working day: after Tết
    clock.set(vn(2027, 2, 11, 10))
    page = text(as_(w.p["clerk"]).get("/du-thao/?ds=cho-phat-hanh"))
    assert "Phát hành: còn 1 giờ 30 phút làm việc" in page
    near = workday_limits.near_or_past(user=w.p["clerk"], now=clock.at)
    assert [(i.kind, i.object_id) for i in near] == [("issue", draft.id)]
    clock.set(vn(2027, 2, 12, 14))
    assert "Phát hành: trễ 1 ngày làm việc" in text(as_(w.p["clerk"]).get("/du-thao/?ds=cho-phat-hanh"))
    from portal.drafts import services as drafts

    drafts.refuse_issue(w.p["clerk"], draft, "Sai nơi nhận.")
    assert draft.issue_due_at is None  # back to the signer: the clock stops


# --- gia hạn -----------------------------------------------------------------------------------------------

def _ext_url(doc, row, step: str) -> str:
    return f"/van-ban-den/{doc.id}/phan-cong/{row.id}/{step}"


def test_extension_request_approve_and_the_history(db, office, clock, as_):
    _org, _unit, p = office
    doc = directed(p, Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=AFTER_TET))
    row = lead_row(doc)
    page = text(as_(p["officer"]).get(f"/van-ban-den/{doc.id}"))
    assert "Xin gia hạn" in page
    assert "Đồng ý gia hạn" not in page
    resp = as_(p["officer"]).post(_ext_url(doc, row, "xin-gia-han"), data={
        f"request_extension{row.id}-reason": "Chờ số liệu của các xã sau Tết.",
        f"request_extension{row.id}-days": "3"})
    assert resp.status_code == 303, text(resp)[:2000]
    [ext] = row.extensions
    assert (ext.old_deadline, ext.proposed_deadline, ext.state) == (AFTER_TET, date(2027, 2, 15),
                                                                     ExtensionState.PENDING)
    assert row.deadline == AFTER_TET  # nothing changes until the leader decides
    leader_page = text(as_(p["leader"]).get(f"/van-ban-den/{doc.id}"))
    assert "Đang xin gia hạn đến 15/02/2027" in leader_page
    assert "Đồng ý gia hạn" in leader_page
    assert "Không đồng ý gia hạn" in leader_page
    resp = as_(p["leader"]).post(_ext_url(doc, row, "dong-y-gia-han"),
                                 data={f"approve_extension{row.id}-note": "Đồng ý, báo cáo trước 15/02."},
                                 headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"].endswith(f"/van-ban-den/{doc.id}")
    assert row.deadline == date(2027, 2, 15)
    assert (ext.state, ext.decided_by_id) == (ExtensionState.APPROVED, p["leader"].id)
    history = db.execute(select(IncomingEvent.action, IncomingEvent.text).where(
        IncomingEvent.document_id == doc.id, IncomingEvent.action.like("extension_%"))
        .order_by(IncomingEvent.id)).all()
    assert [a for a, _ in history] == ["extension_requested", "extension_approved"]
    assert "11/02/2027 → 15/02/2027" in history[1][1]
    audits = db.execute(select(AuditEntry.action).where(AuditEntry.action.like("incoming.extension_%"))).scalars()
    assert sorted(audits) == ["incoming.extension_approved", "incoming.extension_requested"]
    page = text(as_(p["officer"]).get(f"/van-ban-den/{doc.id}"))
    assert "Chờ số liệu của các xã sau Tết." in page  # the history of extensions
    assert "Đồng ý" in page
    again = as_(p["leader"]).post(_ext_url(doc, row, "dong-y-gia-han"), data={}, headers={"HX-Request": "true"})
    assert again.status_code == 409
    assert "Đề nghị gia hạn đã được đồng ý lúc" in text(again)


def test_extension_refused_keeps_the_deadline(db, office, clock, as_):
    _org, _unit, p = office
    doc = directed(p, Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=AFTER_TET))
    row = lead_row(doc)
    services.request_extension(p["officer"], doc, row.id, "Cần thêm thời gian.", date(2027, 2, 26))
    db.commit()
    empty = as_(p["leader"]).post(_ext_url(doc, row, "tu-choi-gia-han"), data={}, headers={"HX-Request": "true"})
    assert empty.status_code == 422
    assert "Hãy ghi lý do không đồng ý gia hạn." in text(empty)
    resp = as_(p["leader"]).post(_ext_url(doc, row, "tu-choi-gia-han"),
                                 data={f"refuse_extension{row.id}-reason": "Việc gấp, không thể lùi."})
    assert resp.status_code == 303
    assert row.deadline == AFTER_TET
    assert row.extensions[-1].state == ExtensionState.REFUSED
    assert row.extensions[-1].decision_note == "Việc gấp, không thể lùi."
    # asked again after a refusal: a new request
    services.request_extension(p["officer"], doc, row.id, "Xin lùi hai ngày.", date(2027, 2, 15))
    assert [e.state for e in row.extensions] == [ExtensionState.REFUSED, ExtensionState.PENDING]


def test_who_may_ask_and_who_may_decide(db, office, clock, as_):
    _org, unit, p = office
    doc = directed(p, Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=AFTER_TET),
                   Spec(AssignmentRole.COOPERATE, unit_id=unit.id, deadline=AFTER_TET))
    row, coop = services.assignments_of(doc)
    with pytest.raises(services.NotAllowed, match="Chỉ đơn vị, cá nhân chủ trì"):
        services.request_extension(p["head"], doc, coop.id, "Phối hợp cũng xin.", date(2027, 2, 15))
    refused = as_(p["clerk"]).post(_ext_url(doc, row, "xin-gia-han"), data={
        f"request_extension{row.id}-reason": "Văn thư xin hộ.", f"request_extension{row.id}-days": "3"})
    assert refused.status_code == 403
    services.request_extension(p["officer"], doc, row.id, "Chờ số liệu.", date(2027, 2, 15))
    db.commit()  # the requests below end in a rollback of what is not committed
    for who in ("clerk", "head", "officer"):  # only the leader who set the deadline decides
        resp = as_(p[who]).post(_ext_url(doc, row, "dong-y-gia-han"), data={})
        assert resp.status_code == 403, who
        assert "Chỉ người đã giao hạn này (khi người đó không còn công tác" in text(resp)
    assert row.deadline == AFTER_TET
    assert services.row_actions(p["leader"], doc, row) >= {"approve_extension", "refuse_extension"}
    assert services.row_actions(p["officer"], doc, row) == set()  # a request is waiting
    services.refuse_extension(p["leader"], doc, row.id, "Không.")
    with pytest.raises(services.ValidationFailed, match="phải sau hạn hiện tại"):
        services.request_extension(p["officer"], doc, row.id, "Sớm hơn?", date(2027, 2, 11))
    services.finish(p["officer"], doc, "Đã báo cáo.")
    assert services.row_actions(p["officer"], doc, row) == set()  # done: nothing to extend


def test_a_unit_s_person_cannot_be_given_more_than_the_unit(db, office, clock):
    _org, unit, p = office
    doc = directed(p, Spec(AssignmentRole.LEAD, unit_id=unit.id, deadline=date(2027, 2, 15)))
    services.direct_within_unit(p["head"], doc, "Đồng chí chủ trì.",
                                [Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=AFTER_TET)])
    unit_row, person_row = services.assignments_of(doc)
    with pytest.raises(services.ValidationFailed, match="không được sau hạn của đơn vị"):
        services.request_extension(p["officer"], doc, person_row.id, "Chờ số liệu.", date(2027, 2, 16))
    services.request_extension(p["officer"], doc, person_row.id, "Chờ số liệu.", date(2027, 2, 12))
    services.approve_extension(p["head"], doc, person_row.id)  # the unit head set this deadline
    assert person_row.deadline == date(2027, 2, 12)
    services.request_extension(p["head"], doc, unit_row.id, "Đơn vị xin thêm.", date(2027, 2, 19))
    with pytest.raises(services.NotAllowed):
        services.approve_extension(p["head"], doc, unit_row.id)
    services.approve_extension(p["leader"], doc, unit_row.id)
    assert unit_row.deadline == date(2027, 2, 19)


# --- the reports ---------------------------------------------------------------------------------------

@pytest.fixture
def report_world(db, factory, clock, monkeypatch):
    """February 2027, looked at on Monday 15/02 (Tết 04–10/02). By hand, in working days:

    E1 deadline 05/02 (Giao thừa), done Thursday 11/02 10:00        on time (late by calendar days)
    E2 deadline 03/02, done 11/02                                     late
    E3 deadline Friday 12/02, done 00:30 on Saturday 13/02 local      late (still 12/02 in UTC)
    E4 deadline Saturday 13/02, open                                  in time (it runs to today)
    E5 deadline Friday 12/02, open                                    overdue
    E6 deadline 05/02 extended to 12/02, done 12/02                   on time; extended
    E7 arrived 03/02 16:00, registered 11/02 09:00                    registration late (limit 03/02 17:00)
    E8 Hỏa tốc, arrived 03/02 16:00, registered 11/02 08:00          in time (limit 11/02 08:30)
    """
    monkeypatch.setattr(reports, "local_today", lambda: date(2027, 2, 15))
    org = factory.organisation(name="Sở Báo cáo Ngày làm việc", short_name="SBCNLV")
    unit = factory.unit(org, name="Phòng Tổng hợp")
    p = {"clerk": act(factory.person(Role.CLERK, organisation=org, title="Văn thư")),
         "leader": act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc")),
         "officer": act(factory.person(Role.OFFICER, organisation=org, unit=unit, full_name="Trần Thị Hạn"))}
    seq = iter(range(1, 100))

    def doc(deadline, *, at=None, urgency=Urgency.NORMAL, register_at=None):
        at = at or vn(2027, 2, 1, 9)
        clock.set(at)
        meta = metadata(code_number=str(next(seq)), issued_date=date(2027, 1, 29), urgency=urgency)
        d = services.receive(org, meta, [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])
        clock.set(register_at or at)
        services.register(p["clerk"], d, meta)
        if deadline is not None:
            services.present(p["clerk"], d, p["leader"].id)
            services.direct(p["leader"], d, "", [Spec(AssignmentRole.LEAD, user_id=p["officer"].id,
                                                      deadline=deadline)])
        return d

    def finish(d, at):
        clock.set(at)
        services.finish(p["officer"], d, "Đã xong.")

    finish(doc(date(2027, 2, 5)), vn(2027, 2, 11, 10))
    finish(doc(date(2027, 2, 3)), vn(2027, 2, 11, 10))
    finish(doc(date(2027, 2, 12)), vn(2027, 2, 13, 0, 30))
    doc(date(2027, 2, 13))
    doc(date(2027, 2, 12))
    e6 = doc(date(2027, 2, 5))
    row = lead_row(e6)
    services.request_extension(p["officer"], e6, row.id, "Sau Tết.", date(2027, 2, 12))
    services.approve_extension(p["leader"], e6, row.id)
    finish(e6, vn(2027, 2, 12, 16))
    doc(None, at=vn(2027, 2, 3, 16), register_at=vn(2027, 2, 11, 9))
    doc(None, at=vn(2027, 2, 3, 16), urgency=Urgency.EXPRESS, register_at=vn(2027, 2, 11, 8))
    # outgoing: signed Wednesday 03/02 15:00 (due 11/02 12:00); one issued at 11:00, one at 14:00 on 11/02
    book = RegisterBook(organisation_id=org.id, direction=Direction.OUTGOING, name="Sổ văn bản đi")
    db.add(book)
    db.flush()
    for n, issued in ((1, vn(2027, 2, 11, 11)), (2, vn(2027, 2, 11, 14))):
        out = OutgoingDocument(organisation_id=org.id, unit_id=unit.id, book_id=book.id, year=2027, number=n,
                               type_name="Công văn", organ_name=org.name, subject=f"Công văn số {n}",
                               issued_at=issued, status=OutgoingStatus.ISSUED)
        db.add(out)
        db.flush()
        signed = vn(2027, 2, 3, 15)
        db.add(Draft(organisation_id=org.id, unit_id=unit.id, drafter_id=p["officer"].id,
                     status=DraftStatus.ISSUED, type_name="Công văn", subject=out.subject, outgoing_id=out.id,
                     signed_at=signed, issue_due_at=workday_limits.due_for("issue", signed, 0)))
    db.flush()
    return SimpleNamespace(org=org, p=p)


def test_report_figures_in_working_days_match_the_count_by_hand(report_world):
    period = reports.Period(reports.PeriodKind.MONTH, 2027, 2)
    report, _ = reports.build(report_world.p["leader"], reports.Kind.INCOMING, period, reports.Grouping.PERSON)
    person = {row.label: row.values for row in report.rows}["Trần Thị Hạn"]
    assert {k: person[k] for k in ("received", "on_time", "late", "open_overdue", "open_in_time", "extended")} == {
        "received": 6, "on_time": 2, "late": 2, "open_overdue": 1, "open_in_time": 1, "extended": 1}
    assert report.totals.values["received"] == 8
    assert report.totals.values["late_procedure"] == 1  # E7 only
    outgoing, _ = reports.build(report_world.p["leader"], reports.Kind.OUTGOING, period, reports.Grouping.UNIT)
    assert outgoing.totals.values["issued"] == 2
    assert outgoing.totals.values["late_procedure"] == 1  # issued at 14:00, after 12:00 of the next working day
    labels = [c.label for c in report.columns]
    assert "Trễ hạn xử lý thủ tục" in labels
    assert "Được gia hạn" in labels


LONG = ("Đường phố Việt Nam " * 600)[:10_000]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("reason", LONG, "tối đa 1.000 ký tự"),
    ("days", "9" * 10_000, "Số ngày làm việc là số nguyên từ 1 đến 365"),
    ("proposed", "31/02/2027", "Ngày không hợp lệ"),
    ("proposed", "01/01/99999", "Ngày không hợp lệ"),
])
def test_hostile_extension_requests_are_a_vietnamese_422(db, office, clock, as_, field, value, message):
    _org, _unit, p = office
    doc = directed(p, Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=AFTER_TET))
    row = lead_row(doc)
    db.commit()
    data = {f"request_extension{row.id}-reason": "Chờ số liệu.", f"request_extension{row.id}-days": "3",
            f"request_extension{row.id}-{field}": value}
    if field == "proposed":
        data[f"request_extension{row.id}-days"] = ""
    resp = as_(p["officer"]).post(_ext_url(doc, row, "xin-gia-han"), data=data, headers={"HX-Request": "true"})
    assert resp.status_code == 422
    assert message in text(resp)
    assert row.extensions == []
