"""Notifications (issue 18 item 2), each kind from the real step that causes it, to the right people and no one
else, once: assigned, returned, reminder, recall request (incoming); xin ý kiến; deadline tomorrow and overdue (the
daily reminders and the procedures' time limits); the status a recipient sends back, inside the portal and through
the axis; account locked (the lockout and an administrator), with its one e-mail."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import timeutil
from portal.auth.models import Role, UserStatus
from portal.drafts import services as drafts
from portal.drafts.models import SendMethod
from portal.exchange import edxml, receiving
from portal.incoming import services as incoming
from portal.incoming.models import AssignmentRole, ReminderKind
from portal.notifications import daily, events, service
from portal.notifications.models import Notification, NotificationSetting
from portal.outbox.models import OutboxMessage
from portal.timeutil import local_today
from portal.workdays.calendar import add_working_days
from tests.conftest import PASSWORD
from tests.incoming_fixtures import PDF, act, metadata
from tests.test_drafts_workflow import cheap_seal, metadata_of, new_draft, signed_draft, system
from tests.test_drafts_workflow import world as drafts_world  # noqa: F401  (fixture)
from tests.test_signin_leaks import _scrub

Spec = incoming.AssigneeSpec
VPCP = "000.00.00.G22"
WRONG = "Sai-Mật-Khẩu1!"


@pytest.fixture
def w(request):
    return request.getfixturevalue("drafts_world")


def told(db, kind: str) -> dict[int, list[str]]:
    """Person → the titles of their notices of ``kind``, oldest first."""
    heard: dict[int, list[str]] = {}
    for row in db.execute(select(Notification).where(Notification.kind == kind).order_by(Notification.id)).scalars():
        heard.setdefault(row.user_id, []).append(row.title)
    return heard


def ids(*people) -> set[int]:
    return {p.id for p in people}


# --- incoming: assigned, returned, reminder, recall request ---------------------------------------------------


def test_incoming_steps_notify_the_people_they_name(db, office, factory):
    org, unit, p = office
    second_clerk = act(factory.person(Role.CLERK, organisation=org, title="Văn thư"))
    doc = incoming.digitise(p["clerk"], metadata(), incoming.Upload("scan.pdf", PDF))
    incoming.present(p["clerk"], doc, p["leader"].id)
    assert set(told(db, "to_act")) == ids(p["leader"])

    # sent back to the clerks: every clerk of the organisation, not the leader nor anyone else
    incoming.send_back(p["leader"], doc, "Trình lại kèm hồ sơ liên quan.")
    assert set(told(db, "returned")) == ids(p["clerk"], second_clerk)

    # directed to a person and a unit: the person, and the unit's head
    incoming.present(p["clerk"], doc, p["leader"].id)
    incoming.direct(p["leader"], doc, "Đề nghị xử lý.", [
        Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=add_working_days(local_today(), 5)),
        Spec(AssignmentRole.COOPERATE, unit_id=unit.id)])
    assert set(told(db, "assigned")) == ids(p["officer"], p["head"])
    assert told(db, "assigned")[p["officer"].id] == [f"Bạn được giao xử lý văn bản: {doc.subject}"]

    # đôn đốc: the person reminded, not the one reminding nor the others on the document
    lead = next(r for r in incoming.assignments_of(doc) if r.assignee_user_id == p["officer"].id)
    incoming.remind(p["leader"], doc, lead.id, ReminderKind.CRITICISE, "Đề nghị báo cáo trước thứ Sáu.")
    assert told(db, "reminder") == {p["officer"].id: [f"Phê bình: {doc.subject} — Đề nghị báo cáo trước thứ Sáu."]}

    # the sender recalls it: the clerks
    incoming.request_recall(doc, "Văn bản ban hành sai thẩm quyền.", "Ủy ban nhân dân tỉnh Hà Nam")
    assert set(told(db, "recall_request")) == ids(p["clerk"], second_clerk)
    assert p["outsider"].id not in {n.user_id for n in db.execute(select(Notification)).scalars()}


def test_asking_for_comments_notifies_the_people_asked(db, w):
    p = w.p
    draft = new_draft(w)
    drafts.ask_comments(p["officer"], draft, [p["c1"].id, p["c2"].id], "Cho ý kiến về phạm vi điều chỉnh.", None)
    assert told(db, "to_act") == {u.id: [f"Dự thảo xin ý kiến của bạn: {draft.subject}"] for u in (p["c1"], p["c2"])}


# --- deadline tomorrow and overdue ----------------------------------------------------------------------------


def test_the_daily_reminders_tell_due_soon_and_overdue_apart(db, office):
    _org, unit, p = office
    today = local_today()
    day = add_working_days(today, 2)
    doc = incoming.digitise(p["clerk"], metadata(), incoming.Upload("scan.pdf", PDF))
    incoming.present(p["clerk"], doc, p["leader"].id)
    incoming.direct(p["leader"], doc, "Đề nghị xử lý đúng hạn.", [
        Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=add_working_days(today, 3)),  # due tomorrow
        Spec(AssignmentRole.COOPERATE, unit_id=unit.id, deadline=add_working_days(today, 1))])  # yesterday
    assert incoming.send_due_reminders(day) == 2

    # told as the reminders are recorded, in their transaction: no job comes after
    assert set(told(db, "deadline")) == ids(p["officer"])
    assert told(db, "deadline")[p["officer"].id][0].startswith("Sắp đến hạn xử lý văn bản:")
    assert set(told(db, "overdue")) == ids(p["head"])  # the unit's row: its head
    assert told(db, "overdue")[p["head"].id][0].startswith("Quá hạn xử lý văn bản:")
    assert incoming.send_due_reminders(day) == 0
    assert len(told(db, "deadline")[p["officer"].id]) == len(told(db, "overdue")[p["head"].id]) == 1  # never twice


def test_reminders_run_by_hand_at_nine_are_told_at_once_and_never_twice(app, db, office, monkeypatch):
    """The notices follow the reminders themselves: ``portal remind`` at 09:00 (long after the 06:00 job, when no
    later job would read the day's reminders) tells each person at once, with one e-mail; run again, nothing."""
    _org, unit, p = office
    monkeypatch.setattr(timeutil, "now_utc", lambda: dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC))
    today = local_today()
    assert (today, timeutil.to_local(timeutil.now_utc()).hour) == (dt.date(2026, 12, 8), 9)  # Tuesday
    p["officer"].email = "can.bo@svht.example.gov.vn"
    doc = incoming.digitise(p["clerk"], metadata(), incoming.Upload("scan.pdf", PDF))
    incoming.present(p["clerk"], doc, p["leader"].id)
    incoming.direct(p["leader"], doc, "Đề nghị xử lý đúng hạn.", [
        Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=add_working_days(today, 1)),
        Spec(AssignmentRole.COOPERATE, unit_id=unit.id, deadline=today)])
    db.commit()
    runner = app.test_cli_runner()

    assert runner.invoke(args=["portal", "remind"]).output.strip() == "Đã gửi 2 nhắc việc."

    heard = told(db, "deadline")
    assert heard == {p["officer"].id: [f"Sắp đến hạn xử lý văn bản: {doc.subject} (Hạn xử lý 09/12/2026)"],
                     p["head"].id: [f"Sắp đến hạn xử lý văn bản: {doc.subject} (Hạn xử lý 08/12/2026)"]}
    assert {n.url for n in db.execute(select(Notification)).scalars() if n.kind == "deadline"} == {
        events.doc_url(doc)}
    assert reminder_mails(db, p["officer"]) == [f"[QLVB] {heard[p['officer'].id][0]}"]

    assert runner.invoke(args=["portal", "remind"]).output.strip() == "Không có nhắc việc mới."

    assert told(db, "deadline") == heard
    assert reminder_mails(db, p["officer"]) == [f"[QLVB] {heard[p['officer'].id][0]}"]


def reminder_mails(db, person) -> list[str]:
    return list(db.execute(select(OutboxMessage.subject).where(
        OutboxMessage.recipient == person.email, OutboxMessage.subject.like("[QLVB] Sắp đến hạn%"))).scalars())


def test_the_procedures_time_limits_reach_the_clerks_when_near_and_when_past(db, w):
    p = w.p
    draft = signed_draft(w)  # the clerks of the issuing organisation must issue it: the issuance limit
    due = draft.issue_due_at
    assert daily.notify_limits(now=due - timedelta(minutes=30)) == 1
    assert daily.notify_limits(now=due - timedelta(minutes=20)) == 0  # still near: told once
    [near] = told(db, "deadline")[p["clerk"].id]
    assert near.startswith("Sắp hết thời hạn cấp số, phát hành (còn ")
    assert near.endswith(f"làm việc): {draft.subject}")
    assert daily.notify_limits(now=due + timedelta(days=3)) == 1
    assert told(db, "overdue")[p["clerk"].id][0].startswith("Quá thời hạn cấp số, phát hành (trễ ")
    assert set(told(db, "deadline")) | set(told(db, "overdue")) == ids(p["clerk"])

    # an arrival waiting for its số đến: the receiving organisation's clerk, past its registration limit
    issued = drafts.issue(p["clerk"], draft, None, seal=cheap_seal)
    [arrived] = issued.delivered
    assert daily.notify_limits(now=arrived.register_due_at + timedelta(days=3)) == 1
    assert told(db, "overdue")[p["r_clerk"].id][0].startswith("Quá thời hạn vào sổ (trễ ")


# --- the status a recipient sends back ------------------------------------------------------------------------


def test_a_recipient_inside_the_portal_answers_the_drafter_and_the_issuing_clerk(db, w, factory):
    p = w.p
    draft = signed_draft(w, recipients=[system(w.receiver), system(w.second)])
    received, refused = drafts.issue(p["clerk"], draft, None, seal=cheap_seal).delivered
    before = told(db, "recipient_status")
    assert before == {}

    incoming.accept(p["r_clerk"], received)
    incoming.register(p["r_clerk"], received, metadata_of(received))  # still 03 to the sender: told once
    incoming.return_to_sender(p["s_clerk"], refused, next(iter(incoming.RETURN_CATEGORIES)), "Không đúng thẩm quyền.")
    heard = told(db, "recipient_status")
    assert set(heard) == ids(p["officer"], p["clerk"])
    assert heard[p["officer"].id] == [f"Sở Tài chính Thử: Đã tiếp nhận (03) — {draft.subject}",
                                      f"Sở Xây dựng Thử: Bị trả lại (02): Không đúng thẩm quyền. — {draft.subject}"]
    assert heard[p["clerk"].id] == heard[p["officer"].id]

    # a recall's answer inside the portal also reaches whoever recalled it
    recaller = act(factory.person(Role.CLERK, organisation=w.org, title="Văn thư"))
    drafts.recall(recaller, draft, "Sai căn cứ pháp lý.")
    incoming.confirm_recall(p["r_clerk"], received)
    heard = told(db, "recipient_status")
    assert set(heard) == ids(p["officer"], p["clerk"], recaller)
    assert heard[recaller.id] == ["Nơi nhận trả lời thu hồi: Sở Tài chính Thử: đồng ý thu hồi"]


@pytest.fixture
def outside(db, w):
    """A document issued to an agency outside (through the axis) by one clerk; another clerk recalls it later."""
    p = w.p
    draft = signed_draft(w, recipients=[drafts.RecipientSpec(name="Văn phòng Chính phủ",
                                                             method=SendMethod.OTHER_SYSTEM, address=VPCP)])
    out = drafts.issue(p["clerk"], draft, None, seal=cheap_seal).outgoing
    return draft, out


def status_package(w, out, code: edxml.StatusCode, minute: int) -> bytes:
    return edxml.build_status(edxml.StatusPackage(
        from_=edxml.Organization(organ_id=VPCP, organ_name="Văn phòng Chính phủ"),
        response_for=edxml.ResponseFor(w.org.organ_id, f"{out.code_number}/{out.code_notation}", out.issued_date,
                                       out.document_id),
        status_code=code, description=code.label,
        timestamp=dt.datetime(2026, 12, 7, 9, minute, tzinfo=dt.timezone(dt.timedelta(hours=7)))))


def test_a_recipient_outside_answers_the_drafter_and_the_issuing_clerk_once_per_package(db, w, factory,
                                                                                        outside):
    p = w.p
    draft, out = outside
    for n, code in enumerate((edxml.StatusCode.RECEIVED, edxml.StatusCode.REJECTED, edxml.StatusCode.FINISHED)):
        assert receiving.receive(status_package(w, out, code, n), transport="axis", transport_id=f"s{n}").outcome \
            == "status"
    # the same package again (another transport id): recorded once, told once
    assert receiving.receive(status_package(w, out, edxml.StatusCode.FINISHED, 2), transport="axis",
                             transport_id="again").outcome == "duplicate"
    heard = told(db, "recipient_status")
    assert set(heard) == ids(p["officer"], p["clerk"])
    assert heard[p["officer"].id] == [f"Văn phòng Chính phủ: {label} ({code}) — {draft.subject}" for code, label in
                                      (("01", "Đã đến"), ("02", "Từ chối tiếp nhận, trả lại"), ("06", "Hoàn thành"))]

    # a recall's answer also reaches whoever recalled it
    recaller = act(factory.person(Role.CLERK, organisation=w.org, title="Văn thư"))
    drafts.recall(recaller, draft, "Sai căn cứ pháp lý.")
    receiving.receive(status_package(w, out, edxml.StatusCode.CHANGE_ACCEPTED, 3), transport="axis",
                      transport_id="s15")
    heard = told(db, "recipient_status")
    assert set(heard) == ids(p["officer"], p["clerk"], recaller)
    assert heard[recaller.id] == [f"Văn phòng Chính phủ: Đồng ý thu hồi/cập nhật (15) — {draft.subject}"]


# --- account locked -------------------------------------------------------------------------------------------


def _post_login(client, username: str, password: str):
    return client.post("/auth/login", data={"username": username, "password": password})


def _lock_mails(db, user) -> list[OutboxMessage]:
    return list(db.execute(select(OutboxMessage).where(OutboxMessage.user_id == user.id,
                                                       OutboxMessage.kind == "account_locked")).scalars())


def test_the_lockout_notifies_the_person_only_with_one_e_mail_and_the_answer_unchanged(app, client, db, factory):
    person, bystander = factory.person(), factory.person()
    person.email = "nguoi.bi.khoa@snv.example.gov.vn"
    # even a setting that names the kind (it is not offered) sends no second e-mail
    db.add(NotificationSetting(user_id=person.id, email_kinds="account_locked", digest=False))
    db.flush()
    answers = [_post_login(client, person.username, WRONG) for _ in range(5)]
    db.refresh(person)
    assert person.status == UserStatus.LOCKED
    # the attempt that locks answers exactly as the ones before it
    assert len({_scrub(r, person.username) for r in answers}) == 1
    [notice] = db.execute(select(Notification).where(Notification.kind == "account_locked")).scalars().all()
    assert notice.user_id == person.id
    assert notice.title.startswith("Tài khoản của bạn đã bị tạm khóa lúc ")
    assert "5 lần nhập sai mật khẩu" in notice.title
    assert (notice.emailed, notice.url) == (True, "/auth/mat-khau")
    assert len(_lock_mails(db, person)) == 1
    assert db.execute(select(func.count()).select_from(Notification)
                      .where(Notification.user_id == bystander.id)).scalar_one() == 0

    # the same lock announced again is the same notice (its key is the lock's)
    at = dt.datetime.strptime(notice.key.rsplit(".", 1)[1], "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.UTC)
    events.on_account_locked(person, at, notice.title, True, False)
    assert db.execute(select(func.count()).select_from(Notification)
                      .where(Notification.kind == "account_locked")).scalar_one() == 1

    # once the lockout is over, the bell shows it
    person.locked_until = person.locked_until - timedelta(hours=1)
    db.flush()
    assert _post_login(client, person.username, PASSWORD).status_code == 303
    assert "Tài khoản của bạn đã bị tạm khóa" in client.get("/thong-bao/").get_data(as_text=True)


def test_an_administrators_lock_notifies_the_person_with_the_reason(app, client, db, factory, login):
    admin = act(factory.person(Role.ORG_ADMIN))
    victim = factory.person(organisation=admin.positions[0].organisation)
    victim.email = "bi.khoa@snv.example.gov.vn"
    db.flush()
    login(admin)
    assert client.post(f"/quan-tri/nguoi-dung/{victim.id}/khoa", data={"lock-reason": "Nghi lộ mật khẩu"}) \
        .status_code == 303
    heard = told(db, "account_locked")
    assert set(heard) == ids(victim)
    [title] = heard[victim.id]
    assert title.startswith("Tài khoản của bạn đã bị quản trị khóa lúc ")
    assert "Lý do: Nghi lộ mật khẩu." in title
    assert len(_lock_mails(db, victim)) == 1
    assert service.settings_of(victim).keys() == service.CHOOSABLE.keys()  # never a choice
