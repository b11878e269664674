"""Gia hạn when whoever set the deadline is gone (incoming/deciders.py): a request to a person who was disabled or
no longer holds a position in the organisation goes to whoever now directs at that level (the agency leaders for
a deadline set by a leader, the unit's current head for one set within the unit). The same rule decides who may
approve or refuse (the table's guard), whose inbox shows the request, and who is notified; a random officer still
may not decide. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from portal.auth import accounts, management
from portal.auth.models import Role
from portal.inbox import queries as inbox
from portal.inbox.maintain import rebuild, verify
from portal.incoming import deciders, services
from portal.incoming.models import AssignmentRole, ExtensionState
from portal.notifications.models import Notification
from portal.timeutil import local_today
from portal.workdays.calendar import add_working_days
from tests import inbox_check
from tests.incoming_fixtures import PDF, act, metadata

Spec = services.AssigneeSpec
GIA_HAN = "incoming.gia-han"


@pytest.fixture
def people(factory, office):
    org, unit, p = office
    p["deputy"] = act(factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc"))
    p["admin"] = act(factory.person(Role.ORG_ADMIN, organisation=org, title="Quản trị"))
    return org, unit, p


def asking(db, users) -> set[int]:
    """Who of ``users`` has a gia hạn request in their inbox (by user id)."""
    return {u.id for u in users if any(r.queue == GIA_HAN for r in inbox.page(db, u))}


def checked(db, users) -> None:
    """The inbox agrees with a recount and every item is work its owner may do (tests/inbox_check.py)."""
    db.commit()
    inbox_check.agrees_with_a_recount()
    inbox_check.owners_may_act(users)


def to_officer(p):
    """The leader gives the officer the lead, due in 5 working days, the other officer a co-operating part."""
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    row, _coop = services.direct(p["leader"], doc, "Đồng chí chủ trì.", [
        Spec(AssignmentRole.LEAD, user_id=p["officer"].id, days=5), Spec(AssignmentRole.COOPERATE,
                                                                         user_id=p["other"].id)])
    return doc, row


def ask(p, doc, row):
    return services.request_extension(p["officer"], doc, row.id, "Chờ số liệu của các xã.",
                                      add_working_days(row.deadline, 3))


def requests_heard(db, person) -> list[str]:
    return list(db.execute(select(Notification.title).where(
        Notification.user_id == person.id, Notification.kind == "extension",
        Notification.title.like("Đề nghị gia hạn%"))).scalars())


def test_a_disabled_leaders_request_goes_to_the_agency_leaders_and_one_of_them_decides(app: Flask, db, login,
                                                                                       people):
    _org, _unit, p = people
    everyone = [p[k] for k in ("clerk", "leader", "deputy", "head", "officer", "other")]
    doc, row = to_officer(p)
    ask(p, doc, row)
    assert asking(db, everyone) == {p["leader"].id}
    checked(db, everyone)

    management.disable(p["admin"], p["leader"], "Nghỉ hưu.")
    everyone = [u for u in everyone if u is not p["leader"]]  # signed out for good (not remove(): UserMixin's ==)
    # moved in the same transaction (the person's change is watched): to the organisation's agency leaders
    assert asking(db, everyone) == {p["deputy"].id}
    assert deciders.decider_of(row) == ("org", doc.organisation_id)
    checked(db, everyone)

    # another officer of the document, the unit's head and the clerk still may not decide, on the server as on the page
    for who in ("other", "head", "clerk"):
        assert not services.row_actions(p[who], doc, row) & {"approve_extension", "refuse_extension"}
        with pytest.raises(services.NotAllowed, match="không còn công tác"):
            services.approve_extension(p[who], doc, row.id)
    resp = login(p["other"], c=app.test_client()).post(
        f"/van-ban-den/{doc.id}/phan-cong/{row.id}/dong-y-gia-han", data={})
    assert resp.status_code == 403
    assert row.extensions[-1].state == ExtensionState.PENDING

    deputy = login(p["deputy"], c=app.test_client())
    assert "Đồng ý gia hạn" in deputy.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    resp = deputy.post(f"/van-ban-den/{doc.id}/phan-cong/{row.id}/dong-y-gia-han",
                       data={f"approve_extension{row.id}-note": "Đồng ý thay đồng chí Giám đốc."})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:1000]
    db.expire_all()
    ext = row.extensions[-1]
    assert (ext.state, ext.decided_by_id, row.deadline) == (ExtensionState.APPROVED, p["deputy"].id,
                                                           ext.proposed_deadline)
    assert asking(db, everyone) == set()
    checked(db, everyone)

    # a new request now reaches the agency leaders at work, told whom they stand in for; never the disabled one
    services.request_extension(p["officer"], doc, row.id, "Thêm xã mới sáp nhập.", add_working_days(row.deadline, 2))
    assert requests_heard(db, p["leader"]) == [  # the first request, before the leader left
        f"Đề nghị gia hạn xử lý văn bản đến {ext.proposed_deadline:%d/%m/%Y} (hạn hiện tại "
        f"{ext.old_deadline:%d/%m/%Y}), chờ ý kiến của bạn: {doc.subject} — {p['officer'].full_name}: "
        "Chờ số liệu của các xã."]
    [told] = requests_heard(db, p["deputy"])
    assert f"chờ ý kiến của bạn (thay {p['leader'].full_name}, người giao hạn, không còn công tác)" in told
    assert requests_heard(db, p["other"]) == requests_heard(db, p["head"]) == []


def test_a_unit_heads_request_goes_to_the_units_new_head_once_the_old_one_left(db, factory, people):
    org, unit, p = people
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "Giao phòng chủ trì.", [Spec(AssignmentRole.LEAD, unit_id=unit.id, days=10)])
    [row] = services.direct_within_unit(p["head"], doc, "Đồng chí chủ trì.",
                                        [Spec(AssignmentRole.LEAD, user_id=p["officer"].id, days=5)])
    ask(p, doc, row)
    everyone = [p[k] for k in ("clerk", "leader", "deputy", "head", "officer", "other")]
    assert asking(db, everyone) == {p["head"].id}

    # the head's post ends (moved elsewhere): the request is the unit's, read by whoever heads it now
    management.end_position(p["admin"], p["head"], p["head"].positions[0].id)
    everyone = [u for u in everyone if u is not p["head"]]  # no post to sign in with here any more
    # nobody heads the unit yet: the request is not left with no one, the agency leaders decide it
    assert deciders.decider_of(row) == ("org", org.id)
    assert asking(db, everyone) == {p["leader"].id, p["deputy"].id}
    assert deciders.may_decide(p["deputy"], row)
    checked(db, everyone)
    # a new head is appointed (the position's creation is watched): the request goes back down to the unit
    new_head = act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng"))
    assert deciders.decider_of(row) == ("unit", unit.id)
    assert asking(db, [new_head, *everyone]) == {new_head.id}
    checked(db, [new_head, *everyone])
    for who in ("leader", "deputy", "other"):
        assert not deciders.may_decide(p[who], row), who
    # the unit's work in its officers' hands is followed by its head now, who may chase it too
    assert services.can_remind(new_head, doc, row)
    services.refuse_extension(new_head, doc, row.id, "Số liệu đã có ở Cục Thống kê.")
    assert row.extensions[-1].decided_by_id == new_head.id
    checked(db, [new_head, *everyone])


def test_a_locked_setter_keeps_the_request(db, people):
    """A lock is a pause, not a departure: nobody can move a leader's decisions by failing their password."""
    _org, _unit, p = people
    doc, row = to_officer(p)
    ask(p, doc, row)
    management.lock(p["admin"], p["leader"], "Nghi lộ mật khẩu.")
    assert deciders.decider_of(row) == ("user", p["leader"].id)
    assert not deciders.may_decide(p["deputy"], row)
    assert asking(db, [p["leader"], p["deputy"]]) == {p["leader"].id}


def test_a_position_that_runs_out_by_itself_moves_at_the_nightly_rebuild(db, people, monkeypatch):
    """No row changes when a position's last day passes: the inbox keeps the old owner until the nightly rebuild,
    which finds and moves it; the guard reads the day itself and lets the deputy decide at once."""
    _org, _unit, p = people
    p["leader"].positions[0].valid_to = local_today()  # the last day in post
    doc, row = to_officer(p)
    ask(p, doc, row)
    db.commit()
    assert verify(db).agreed
    assert deciders.decider_of(row) == ("user", p["leader"].id)

    monkeypatch.setattr(deciders, "local_today", lambda: local_today() + timedelta(days=1))  # the next day
    assert deciders.may_decide(p["deputy"], row)
    report = verify(db)
    assert not report.agreed
    assert any("gia-han" in line for line in report.details), report.details
    assert rebuild(db).items == 2  # the leader's item out, the organisation's in
    assert verify(db).agreed
    assert p["deputy"].id in asking(db, [p["deputy"]])


def test_a_request_on_a_row_closed_meanwhile_leaves_the_inbox(db, people):
    """The table decides a request only while its row is open: finishing the document with a request waiting takes
    the request out of the decider's inbox, so nobody is shown work they may not do."""
    _org, _unit, p = people
    doc, row = to_officer(p)
    ask(p, doc, row)
    assert asking(db, [p["leader"]]) == {p["leader"].id}
    services.finish(p["officer"], doc, "Đã báo cáo.")
    assert row.extensions[-1].state == ExtensionState.PENDING
    assert not services.row_actions(p["leader"], doc, row) & {"approve_extension", "refuse_extension"}
    assert asking(db, [p["leader"]]) == set()
    checked(db, [p[k] for k in ("clerk", "leader", "deputy", "head", "officer", "other")])


def to_unit_officer(p, unit):
    """The leader gives the unit the lead, its head gives the officer the lead within it (a level-2 row)."""
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "Giao phòng chủ trì.", [Spec(AssignmentRole.LEAD, unit_id=unit.id, days=10)])
    [row] = services.direct_within_unit(p["head"], doc, "Đồng chí chủ trì.",
                                        [Spec(AssignmentRole.LEAD, user_id=p["officer"].id, days=5)])
    return doc, row


def made_head(p, who, unit, *roles):
    """The organisation's administrator gives ``who``'s post these roles in ``unit`` (the unit head's, or back)."""
    [post] = p[who].positions
    management.save_position(p["admin"], p[who], accounts.PositionData(
        organisation_id=post.organisation_id, unit_id=unit.id, title="Trưởng phòng" if Role.UNIT_HEAD in roles
        else "Chuyên viên", roles=list(roles)), post.id)


def test_the_officer_who_became_the_units_head_never_decides_their_own_request(app: Flask, db, login, people):
    """The lead officer asks; the head who set the deadline leaves and the officer is made head of the unit: the
    unit would be the decider, that is the requester, so the agency leaders decide. Not the requester, on the
    server (the service and HTTP), in the inbox or in the notice."""
    org, unit, p = people
    doc, row = to_unit_officer(p, unit)
    ask(p, doc, row)
    management.end_position(p["admin"], p["head"], p["head"].positions[0].id)
    db.commit()
    made_head(p, "officer", unit, Role.UNIT_HEAD)
    everyone = [p[k] for k in ("clerk", "leader", "deputy", "officer", "other")]
    assert deciders.decider_of(row) == ("org", org.id)
    assert asking(db, everyone) == {p["leader"].id, p["deputy"].id}
    checked(db, everyone)

    officer = login(p["officer"], c=app.test_client())  # signs in as the unit's head now
    for action in ("approve_extension", "refuse_extension"):
        assert action not in services.row_actions(p["officer"], doc, row)
    with pytest.raises(services.NotAllowed, match="không phải người đề nghị"):
        services.approve_extension(p["officer"], doc, row.id)
    with pytest.raises(services.NotAllowed):
        services.refuse_extension(p["officer"], doc, row.id, "Tự từ chối.")
    for path in ("dong-y-gia-han", "tu-choi-gia-han"):
        resp = officer.post(f"/van-ban-den/{doc.id}/phan-cong/{row.id}/{path}", data={})
        assert resp.status_code == 403, (path, resp.status_code)
    assert row.extensions[-1].state == ExtensionState.PENDING

    services.approve_extension(p["deputy"], doc, row.id)
    assert row.extensions[-1].decided_by_id == p["deputy"].id
    assert asking(db, everyone) == set()
    checked(db, everyone)

    # the next request is told to the agency leaders, never to the officer who asked it
    services.request_extension(p["officer"], doc, row.id, "Thêm xã mới.", add_working_days(row.deadline, 2))
    assert deciders.decider_of(row) == ("org", org.id)
    assert len(requests_heard(db, p["deputy"])) == len(requests_heard(db, p["leader"])) == 1
    assert requests_heard(db, p["officer"]) == []
    checked(db, everyone)


def test_a_setter_who_asked_for_their_own_row_does_not_decide_it(db, people):
    """The head sets a deadline for themselves within the unit and asks to extend it: not the setter, not the unit
    (they head it), the agency leaders decide."""
    org, unit, p = people
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "Giao phòng chủ trì.", [Spec(AssignmentRole.LEAD, unit_id=unit.id, days=10)])
    [row] = services.direct_within_unit(p["head"], doc, "Tôi chủ trì.",
                                        [Spec(AssignmentRole.LEAD, user_id=p["head"].id, days=5)])
    services.request_extension(p["head"], doc, row.id, "Chờ số liệu.", add_working_days(row.deadline, 3))
    assert deciders.decider_of(row) == ("org", org.id)
    assert not deciders.may_decide(p["head"], row)
    assert deciders.may_decide(p["leader"], row)
    everyone = [p[k] for k in ("clerk", "leader", "deputy", "head", "officer", "other")]
    assert asking(db, everyone) == {p["leader"].id, p["deputy"].id}
    checked(db, everyone)


def test_decider_never_names_the_requester():
    assert deciders.decider(1, 10, 20, True, requester_id=2, unit_heads={3}) == ("user", 1)
    assert deciders.decider(1, 10, 20, True, requester_id=1, unit_heads={3}) == ("unit", 20)
    assert deciders.decider(1, 10, 20, False, requester_id=2, unit_heads={3}) == ("unit", 20)
    assert deciders.decider(1, 10, 20, False, requester_id=3, unit_heads={3}) == ("org", 10)
    assert deciders.decider(1, 10, 20, False, requester_id=2, unit_heads=()) == ("org", 10)
    assert deciders.decider(1, 10, None, False, requester_id=2) == ("org", 10)


def test_a_change_of_the_units_head_moves_the_request_at_once(db, people):
    """The setter (the unit's head) is gone; whoever heads the unit next decides, and every change of who heads it
    is watched: a head's role given or taken, a head disabled. Each step is committed, so the inbox's items are
    the ones the watch moved, checked against a recount."""
    org, unit, p = people
    doc, row = to_unit_officer(p, unit)
    ask(p, doc, row)
    management.end_position(p["admin"], p["head"], p["head"].positions[0].id)
    everyone = [p[k] for k in ("clerk", "leader", "deputy", "officer", "other")]
    checked(db, everyone)
    leaders = {p["leader"].id, p["deputy"].id}
    assert asking(db, everyone) == leaders

    made_head(p, "other", unit, Role.UNIT_HEAD)  # a role given
    checked(db, everyone)
    assert asking(db, everyone) == {p["other"].id}
    made_head(p, "other", unit, Role.OFFICER)  # and taken back
    checked(db, everyone)
    assert asking(db, everyone) == leaders

    made_head(p, "other", unit, Role.UNIT_HEAD)
    checked(db, everyone)
    management.disable(p["admin"], p["other"], "Chuyển công tác.")  # the head disabled
    everyone = [u for u in everyone if u is not p["other"]]
    checked(db, everyone)
    assert asking(db, everyone) == leaders
    assert deciders.decider_of(row) == ("org", org.id)
