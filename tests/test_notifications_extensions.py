"""Gia hạn notifies (issue 18 items 2 and 4): a request reaches whoever set the deadline (the row's assigned_by),
the answer reaches whoever asked, with the new deadline or the reason; each once, linking to the document. Runs
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.incoming import services as incoming
from portal.incoming.models import AssignmentRole
from portal.notifications import events, service
from portal.notifications.models import Notification
from portal.outbox.models import OutboxMessage
from portal.timeutil import local_today
from portal.workdays.calendar import add_working_days
from tests.incoming_fixtures import PDF, metadata

Spec = incoming.AssigneeSpec


def heard(db, person) -> list[str]:
    return list(db.execute(select(Notification.title).where(Notification.user_id == person.id,
                                                            Notification.kind == "extension")
                           .order_by(Notification.id)).scalars())


def who(db) -> set[int]:
    return set(db.execute(select(Notification.user_id).where(Notification.kind == "extension")).scalars())


@pytest.fixture
def phieu(db, office):
    """The leader gives the unit the lead with a deadline in 10 working days; the unit's head gives the officer
    the lead inside the unit, 5 working days."""
    _org, unit, p = office
    today = local_today()
    doc = incoming.digitise(p["clerk"], metadata(), incoming.Upload("scan.pdf", PDF))
    incoming.present(p["clerk"], doc, p["leader"].id)
    incoming.direct(p["leader"], doc, "Giao phòng chủ trì.", [
        Spec(AssignmentRole.LEAD, unit_id=unit.id, deadline=add_working_days(today, 10))])
    incoming.direct_within_unit(p["head"], doc, "Đồng chí chủ trì.", [
        Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=add_working_days(today, 5))])
    rows = {r.level: r for r in incoming.assignments_of(doc)}
    return doc, rows[1], rows[2]


def test_a_request_reaches_whoever_set_the_deadline_and_the_answer_whoever_asked(db, office, phieu):
    _org, _unit, p = office
    doc, unit_row, officer_row = phieu
    today = local_today()
    p["head"].email = "truong.phong@svht.example.gov.vn"
    db.flush()

    asked = add_working_days(today, 8)
    incoming.request_extension(p["officer"], doc, officer_row.id, "Chờ số liệu của các xã.", asked)
    # the officer's deadline was set by the unit's head: the head, no one else
    assert who(db) == {p["head"].id}
    [title] = heard(db, p["head"])
    assert title == (f"Đề nghị gia hạn xử lý văn bản đến {asked:%d/%m/%Y} (hạn hiện tại "
                     f"{officer_row.deadline:%d/%m/%Y}), chờ ý kiến của bạn: {doc.subject} — "
                     f"{p['officer'].full_name}: Chờ số liệu của các xã.")
    notice = db.execute(select(Notification).where(Notification.kind == "extension")).scalar_one()
    assert notice.url == events.doc_url(doc)
    # work waiting on the head: by e-mail unless the head said otherwise
    assert db.execute(select(OutboxMessage.subject).where(OutboxMessage.recipient == p["head"].email,
                                                          OutboxMessage.subject.like("[QLVB] Đề nghị gia hạn%"))
                      ).scalars().all() == [f"[QLVB] {title}"]

    # the unit's own deadline was set by the leader: the unit's head asks, the leader hears
    later = add_working_days(today, 15)
    incoming.request_extension(p["head"], doc, unit_row.id, "Cần lấy ý kiến các sở.", later)
    assert who(db) == {p["head"].id, p["leader"].id}
    assert heard(db, p["leader"])[0].startswith(f"Đề nghị gia hạn xử lý văn bản đến {later:%d/%m/%Y}")

    # the leader agrees: the head hears of it with the new deadline
    incoming.approve_extension(p["leader"], doc, unit_row.id, "Đồng ý, đề nghị không gia hạn thêm.")
    assert heard(db, p["head"])[1] == (f"Đồng ý gia hạn xử lý văn bản, hạn mới {later:%d/%m/%Y}: {doc.subject} "
                                       "— Đồng ý, đề nghị không gia hạn thêm.")
    # the head refuses the officer's older request (not the newest on the document): the officer hears the
    # reason and the deadline that stays
    incoming.refuse_extension(p["head"], doc, officer_row.id, "Số liệu đã có ở Cục Thống kê.")
    assert heard(db, p["officer"]) == [f"Không đồng ý gia hạn xử lý văn bản, hạn vẫn là "
                                       f"{officer_row.deadline:%d/%m/%Y}: {doc.subject} — Số liệu đã có ở Cục "
                                       "Thống kê."]
    assert who(db) == {p["head"].id, p["leader"].id, p["officer"].id}
    assert [len(heard(db, person)) for person in (p["head"], p["leader"], p["officer"])] == [2, 1, 1]


def test_each_request_and_answer_is_told_once(db, office, phieu):
    _org, _unit, p = office
    doc, _unit_row, officer_row = phieu
    today = local_today()
    first = incoming.request_extension(p["officer"], doc, officer_row.id, "Chờ số liệu.", add_working_days(today, 7))
    incoming.approve_extension(p["head"], doc, officer_row.id)
    # the same events announced again: the same notices (the key names the request and the step)
    events.on_incoming_event(doc, "extension_requested", None)
    events.on_incoming_event(doc, "extension_approved", None)
    assert len(heard(db, p["head"])) == len(heard(db, p["officer"])) == 1
    assert heard(db, p["officer"]) == [f"Đồng ý gia hạn xử lý văn bản, hạn mới {first.proposed_deadline:%d/%m/%Y}: "
                                       f"{doc.subject}"]

    # a second request on the same row, after the first was answered, is a new request and a new answer
    second = incoming.request_extension(p["officer"], doc, officer_row.id, "Thêm xã mới sáp nhập.",
                                        add_working_days(today, 9))
    incoming.refuse_extension(p["head"], doc, officer_row.id, "Không có căn cứ.")
    assert len(heard(db, p["head"])) == len(heard(db, p["officer"])) == 2
    keys = set(db.execute(select(Notification.key).where(Notification.kind == "extension")).scalars())
    assert keys == {f"extension.{first.id}.requested", f"extension.{first.id}.approved",
                    f"extension.{second.id}.requested", f"extension.{second.id}.refused"}


def test_the_settings_offer_the_extension_kind(db, office, app, login):
    _org, _unit, p = office
    page = login(p["leader"], c=app.test_client()).get("/thong-bao/").get_data(as_text=True)
    assert f"<legend>{service.KINDS['extension']}</legend>" in page
    assert 'name="extension"' in page
