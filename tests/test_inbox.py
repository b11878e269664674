"""The inbox "Việc của tôi" (issue 18 item 1): one list of everything waiting for a person, from every
feature's declared queues, its counts maintained in the step's own transaction, rebuilt and checked."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.auth.models import Role
from portal.documents.models import DocumentType, IncomingDocument, Urgency
from portal.drafts import services as drafts
from portal.drafts.models import DraftStatus
from portal.inbox import queries as inbox
from portal.inbox.maintain import rebuild, touch, verify
from portal.inbox.models import WorkCount, WorkItem
from portal.inbox.registry import SOURCES
from portal.incoming import services
from portal.incoming.models import Assignment, AssignmentRole
from portal.schedules import services as schedules
from portal.schedules.entries import EntryData
from portal.timeutil import local_today, now_utc
from tests.incoming_fixtures import PDF, act, metadata

Spec = services.AssigneeSpec
_seq = itertools.count(1)


def arrive(org, **kw):
    return services.receive(org, metadata(**kw), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])


def presented(org, p, **kw):
    kw.setdefault("code_number", str(100 + next(_seq)))
    doc = arrive(org, **kw)
    services.accept(p["clerk"], doc)
    services.register(p["clerk"], doc, metadata(**kw))
    services.present(p["clerk"], doc, p["leader"].id)
    return doc


def draft_for_signature(db, p, subject="Tờ trình về công tác lưu trữ"):
    doc_type = DocumentType(name=f"Tờ trình hộp việc {next(_seq)}", abbreviation="TTr")
    db.add(doc_type)
    db.flush()
    draft = drafts.create(p["officer"], drafts.DraftData(subject=subject, document_type_id=doc_type.id,
                                                         signer_id=p["leader"].id), drafts.Upload("d.pdf", PDF))
    drafts.submit(p["officer"], draft)
    drafts.approve(p["head"], draft)
    drafts.format_ok(p["checker"], draft, list(drafts.FORMAT_CHECKLIST))
    assert draft.status == DraftStatus.SIGNING
    return draft


@pytest.fixture
def people(factory, office):
    org, unit, p = office
    p["checker"] = act(factory.person(Role.FORMAT_CHECKER, organisation=org, title="Pháp chế"))
    return org, unit, p


def submitted_week(factory, org, weeks_ahead):
    """A week of the organisation's calendar with one entry, submitted by its schedule editor."""
    editor = act(factory.person(Role.SCHEDULE_EDITOR, organisation=org, title="Chuyên viên"))
    cal = schedules.calendar_for(org)
    monday = local_today() - timedelta(days=local_today().weekday()) + timedelta(weeks=weeks_ahead)
    schedules.add_entry(editor, cal, monday, EntryData(day=monday, all_day=True, content="Họp giao ban"))
    return editor, cal, schedules.submit(editor, cal, monday)


def queues_of(db, user):
    return {(r.source, r.subject_id, r.queue) for r in inbox.page(db, user)}


def test_every_feature_declares_its_queues():
    assert {"incoming", "draft", "schedule"} <= set(SOURCES)
    for source in SOURCES.values():
        assert source.queues
        assert all(key.startswith(source.name + ".") for key in source.queues)


def test_a_leader_sees_a_draft_to_sign_and_a_document_to_direct_then_both_leave(db, client, login, people):
    org, unit, p = people
    doc = presented(org, p, subject="Công văn về phòng chống bão số 3")
    draft = draft_for_signature(db, p)
    leader = p["leader"]
    assert queues_of(db, leader) == {("incoming", doc.id, "incoming.cho-phan-phoi"),
                                     ("draft", draft.id, "draft.cho-ky")}
    login(leader)
    html = client.get("/").get_data(as_text=True)
    assert "Việc của tôi" in html
    assert "Công văn về phòng chống bão số 3" in html
    assert "Tờ trình về công tác lưu trữ" in html
    assert f'href="/van-ban-den/{doc.id}"' in html
    assert f'href="/du-thao/{draft.id}"' in html
    assert '<p class="card-number" id="inbox-waiting">2</p>' in html

    services.direct(leader, doc, "Phòng Nghiệp vụ chủ trì.", [Spec(AssignmentRole.LEAD, unit_id=unit.id)])
    drafts.sign(leader, draft, True, PDF + b"%ky\n")
    assert queues_of(db, leader) == set()
    assert ("incoming", doc.id, "incoming.cho-xu-ly") in queues_of(db, p["head"])
    assert ("draft", draft.id, "draft.cho-phat-hanh") in queues_of(db, p["clerk"])
    assert "Không có việc nào đang chờ bạn." in client.get("/").get_data(as_text=True)
    assert verify(db).agreed


def test_organisation_queues_go_only_to_the_roles_that_work_them(db, people):
    org, _unit, p = people
    doc = arrive(org)
    assert ("incoming", doc.id, "incoming.cho-tiep-nhan") in queues_of(db, p["clerk"])
    assert queues_of(db, p["leader"]) == set()  # accepting is the clerk's alone (the table's "accept")
    assert queues_of(db, p["officer"]) == set()
    assert queues_of(db, p["outsider"]) == set()  # a clerk of another organisation
    services.accept(p["clerk"], doc)
    assert ("incoming", doc.id, "incoming.cho-vao-so") in queues_of(db, p["clerk"])
    assert queues_of(db, p["leader"]) == set()  # registering is the clerk's alone


def test_late_first_then_due_soon_then_urgent(db, people):
    org, unit, p = people
    today = local_today()
    docs = {}
    for name, deadline, urgency in (("later", today + timedelta(days=40), Urgency.NORMAL),
                                    ("urgent", None, Urgency.EXPRESS),
                                    ("soon", today, Urgency.NORMAL),
                                    ("late", today - timedelta(days=10), Urgency.NORMAL)):
        doc = presented(org, p, subject=f"Văn bản {name}", urgency=urgency)
        given = deadline if deadline is None or deadline >= today else today + timedelta(days=1)
        services.direct(p["leader"], doc, "Giao phòng.", [Spec(AssignmentRole.LEAD, unit_id=unit.id, deadline=given)])
        docs[doc.id] = name
    late_id = next(i for i, n in docs.items() if n == "late")
    # a deadline in the past cannot be given; move it there as time would (a bulk update: touched by hand)
    db.execute(update(Assignment).where(Assignment.document_id == late_id).values(deadline=today - timedelta(days=10)))
    touch(db, "incoming", [late_id])
    rows = inbox.page(db, p["head"])
    assert [docs[r.subject_id] for r in rows] == ["late", "soon", "urgent", "later"]
    assert rows[0].late
    assert rows[1].soon
    assert not rows[2].late
    counted = inbox.counts(db, p["head"])
    assert (counted.overdue, counted.due_soon, counted.waiting) == (1, 1, 4)


def test_a_submitted_week_waits_for_its_approver(db, factory, people):
    org, _unit, p = people
    editor, _cal, week = submitted_week(factory, org, weeks_ahead=1)
    assert ("schedule", week.id, "schedule.cho-duyet") in queues_of(db, p["leader"])
    assert queues_of(db, p["clerk"]) == {r for r in queues_of(db, p["clerk"]) if r[0] != "schedule"}
    schedules.return_week(p["leader"], week, "Bổ sung địa điểm.")
    assert ("schedule", week.id, "schedule.bi-tra-lai") in queues_of(db, editor)
    assert not any(r[0] == "schedule" for r in queues_of(db, p["leader"]))
    assert verify(db).agreed


def test_a_failed_step_leaves_the_counts_as_they_were(db, people):
    org, _unit, p = people
    doc = presented(org, p)
    before = inbox.counts(db, p["leader"]).waiting
    savepoint = db.begin_nested()
    services.direct(p["leader"], doc, "Giao nhầm.", [Spec(AssignmentRole.LEAD, user_id=p["officer"].id)])
    db.flush()
    savepoint.rollback()
    db.expire_all()
    assert inbox.counts(db, p["leader"]).waiting == before == 1
    assert verify(db).agreed


def test_the_rebuild_finds_and_fixes_what_went_wrong(db, people):
    org, _unit, p = people
    doc = arrive(org)
    inbox.counts(db, p["clerk"])  # settled
    assert verify(db).agreed
    db.execute(update(WorkCount).values(n=WorkCount.n + 5))
    db.execute(WorkItem.__table__.delete().where(WorkItem.subject_id == doc.id))
    report = verify(db)
    assert (report.agreed, report.items, report.counts >= 1) == (False, 1, True), report.details
    fixed = rebuild(db)
    assert (fixed.items, fixed.counts) == (report.items, report.counts)
    assert verify(db).agreed
    assert inbox.counts(db, p["clerk"]).queues["incoming.cho-tiep-nhan"] == 1
    assert db.scalar(select(func.count()).select_from(WorkCount).where(WorkCount.n == 0)) == 0


def test_work_is_dated_from_when_it_began_even_after_a_rebuild(db, people):
    """An arrival waits since it arrived, a phiếu since it was given: a rebuild (or the first fill of a database
    that already holds work) keeps those times instead of making old work look as if it came now."""
    org, unit, p = people
    waiting = arrive(org, subject="Công văn đến từ tuần trước")
    db.execute(update(IncomingDocument).where(IncomingDocument.id == waiting.id)
               .values(arrived_at=now_utc() - timedelta(days=6)))
    given = presented(org, p)
    [part] = services.direct(p["leader"], given, "Giao phòng.", [Spec(AssignmentRole.LEAD, unit_id=unit.id)])
    db.execute(update(Assignment).where(Assignment.id == part.id).values(assigned_at=now_utc() - timedelta(days=3)))
    db.execute(WorkItem.__table__.delete())
    db.execute(WorkCount.__table__.delete())
    rebuild(db)
    db.expire_all()
    since = {(r.subject_id, r.queue): r.since for r in inbox.page(db, p["clerk"]) + inbox.page(db, p["head"])}
    assert since[(waiting.id, "incoming.cho-tiep-nhan")] == db.get(IncomingDocument, waiting.id).arrived_at
    assert since[(given.id, "incoming.cho-xu-ly")] == db.get(Assignment, part.id).assigned_at


def test_the_nightly_job_reports_what_it_had_to_fix(db, people):
    from portal.audit import AuditEntry
    from portal.inbox.tasks import nightly_rebuild

    org, _unit, _p = people
    arrive(org)
    assert nightly_rebuild().agreed
    db.execute(update(WorkCount).values(n=0))
    report = nightly_rebuild()
    assert not report.agreed
    fixed = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "inbox.rebuild_fixed")
    assert db.scalar(fixed) == 1
    assert verify(db).agreed


def test_the_year_figures_come_from_the_register_counters(db, client, login, people):
    org, _unit, p = people
    for n in range(3):
        doc = arrive(org, code_number=str(40 + n))
        services.accept(p["clerk"], doc)
        services.register(p["clerk"], doc, metadata(code_number=str(40 + n)))
    arrive(org, code_number="99")  # not registered: not counted
    login(p["clerk"])
    html = client.get("/").get_data(as_text=True)
    assert '<p class="card-number">3</p><p>Văn bản đến đã vào sổ năm' in html
    assert '<p class="card-number">1</p><p>Văn bản đến chờ tiếp nhận' in html


def test_the_filter_by_kind_and_a_bad_one(db, client, login, people):
    org, _unit, p = people
    presented(org, p, subject="Văn bản chờ chỉ đạo")
    draft_for_signature(db, p, subject="Dự thảo chờ ký")
    login(p["leader"])
    only_drafts = client.get("/?loai=draft", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Dự thảo chờ ký" in only_drafts
    assert "Văn bản chờ chỉ đạo" not in only_drafts
    bad = client.get("/?loai=xoa-het")
    assert bad.status_code == 422
    assert "Loại việc" in bad.get_data(as_text=True)


def test_a_change_left_unflushed_until_the_commit_is_counted(db, people):
    """A view may set an attribute and let the request's commit flush it: the commit's own flush comes after
    ``before_commit``, so the inbox flushes first."""
    org, _unit, p = people
    doc = arrive(org)
    db.commit()
    assert inbox.counts(db, p["clerk"]).queues["incoming.cho-tiep-nhan"] == 1
    doc.status = doc.status.__class__.RETURNED  # unflushed
    db.commit()
    assert db.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.subject_id == doc.id)) == 0
    assert verify(db).agreed


def test_the_time_tabs_count_from_the_items_what_the_list_shows(db, client, login, people):
    """"Quá hạn" is time, not a queue: the incoming list counts it from the items' owner index, and the list's own
    predicate must agree, for the front desk (each document's earliest limit) and for each handler (their parts)."""
    from portal.incoming import queries as incoming

    org, unit, p = people
    today = local_today()
    own_deadline = presented(org, p, due_date=today + timedelta(days=5))
    services.direct(p["leader"], own_deadline, "Giao phòng.", [Spec(AssignmentRole.LEAD, unit_id=unit.id)])
    part_late = presented(org, p)
    services.direct(p["leader"], part_late, "Giao phòng.", [Spec(AssignmentRole.LEAD, unit_id=unit.id,
                                                                 deadline=today)])
    services.direct_within_unit(p["head"], part_late, "", [Spec(AssignmentRole.LEAD, user_id=p["officer"].id,
                                                                deadline=today)])
    on_time = presented(org, p)
    services.direct(p["leader"], on_time, "Giao phòng.", [Spec(AssignmentRole.LEAD, unit_id=unit.id,
                                                               deadline=today + timedelta(days=30))])
    due_today = presented(org, p)
    services.direct(p["leader"], due_today, "Giao phòng.", [Spec(AssignmentRole.LEAD, unit_id=unit.id,
                                                                 deadline=today)])
    # time passes (bulk updates the ORM does not see: touched by hand)
    from portal.documents.models import IncomingDocument
    db.execute(update(IncomingDocument).where(IncomingDocument.id == own_deadline.id)
               .values(due_date=today - timedelta(days=9)))
    officers_part = (Assignment.document_id == part_late.id, Assignment.assignee_user_id.is_not(None))
    db.execute(update(Assignment).where(*officers_part).values(deadline=today - timedelta(days=9)))
    touch(db, "incoming", [own_deadline.id, part_late.id])
    late = incoming.QUEUES["qua-han"]
    expected = {"clerk": 2, "leader": 2, "head": 0, "officer": 1}
    for who, n in expected.items():
        assert incoming.overdue_count(p[who]) == incoming.count(p[who], late) == n, who
    # Sắp đến hạn the same way; the front desk follows each document's earliest limit, so the document whose
    # officer is late is only in Quá hạn for them, while the head's part of it, due today, is due soon
    soon = incoming.QUEUES["sap-den-han"]
    expected = {"clerk": 1, "leader": 1, "head": 2, "officer": 0}
    for who, n in expected.items():
        assert incoming.due_soon_count(p[who]) == incoming.count(p[who], soon) == n, who
    assert verify(db).agreed
    db.commit()
    login(p["head"])
    tabs = client.get("/van-ban-den/?ds=sap-den-han").get_data(as_text=True)
    assert re.search(r'Sắp đến hạn <span class="count count-some">2</span>', tabs)


def test_the_link_to_a_week_leads_to_its_calendar_and_only_for_those_who_may_see_it(app, db, client, login, factory,
                                                                                    people):
    org, _unit, p = people
    _editor, cal, week = submitted_week(factory, org, weeks_ahead=2)
    monday = week.monday
    login(p["leader"])
    html = client.get("/").get_data(as_text=True)
    assert f'href="/lich-cong-tac/tuan/{week.id}"' in html
    answer = client.get(f"/lich-cong-tac/tuan/{week.id}")
    assert answer.status_code == 302
    assert f"lich={cal.id}" in answer.headers["Location"]
    assert f"tuan={monday.isoformat()}" in answer.headers["Location"]
    other = login(p["outsider"], c=app.test_client())  # a clerk of another organisation
    refused = other.get(f"/lich-cong-tac/tuan/{week.id}")
    assert refused.status_code == 404, refused.headers.get("Location")


def test_the_inbox_pages_through_every_item_once(db, client, login, people, monkeypatch):
    """Past the page size the rest is behind "Trang sau": every item on exactly one page, in the inbox's order,
    the pages counted from the counters; a page past the last shows the last; a bad number is a 422."""
    org, _unit, p = people
    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    for i in range(5):
        presented(org, p, subject=f"Văn bản phân trang {i}")
    login(p["leader"])
    expected = [r.subject_id for r in inbox.page(db, p["leader"])]
    assert len(expected) == 5
    seen = []
    for number in (1, 2, 3):
        html = client.get(f"/?trang={number}").get_data(as_text=True)
        assert f"Trang {number}/3" in html
        assert ("rel=\"next\"" in html) == (number < 3)
        assert ("rel=\"prev\"" in html) == (number > 1)
        seen += [int(i) for i in re.findall(r'href="/van-ban-den/(\d+)"', html)]
    assert seen == expected
    assert "Trang 3/3" in client.get("/?trang=40").get_data(as_text=True)
    fragment = client.get("/?trang=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<h1" not in fragment
    assert "Trang 2/3" in fragment
    for bad in ("0", "-1", "x", "9" * 30):
        answer = client.get(f"/?trang={bad}")
        assert answer.status_code == 422, bad
        assert "Trang" in answer.get_data(as_text=True)


def test_a_limit_with_a_time_is_late_once_the_time_has_passed(db, client, login, people):
    """Registration is due the same working day, at a time: once that time has passed today the item is late in
    the home page's figures and first in the list, though its day's counter still reads "due soon"."""
    org, _unit, p = people
    now = now_utc()
    passed, ahead = arrive(org, subject="Công văn quá giờ vào sổ"), arrive(org, subject="Công văn còn giờ vào sổ")
    db.execute(update(IncomingDocument).where(IncomingDocument.id == passed.id)
               .values(register_due_at=now - timedelta(minutes=1)))
    db.execute(update(IncomingDocument).where(IncomingDocument.id == ahead.id)
               .values(register_due_at=now + timedelta(days=1)))
    touch(db, "incoming", [passed.id, ahead.id])
    db.commit()
    rows = inbox.page(db, p["clerk"], "incoming")
    assert [r.subject_id for r in rows] == [passed.id, ahead.id]
    assert rows[0].late
    assert not rows[1].late
    login(p["clerk"])
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'id="inbox-overdue">1<', html)
    assert re.search(r'id="inbox-due-soon">1<', html)


def test_an_arrival_is_work_for_the_clerk_and_not_for_the_agency_leader(db, people):
    """Accepting, registering and returning an arrival are the clerk's steps: the leader, who sees every document
    of the organisation, has no item for it, no badge and no "Chờ tiếp nhận" tab."""
    from portal.incoming import queries as incoming
    from tests.inbox_check import lists_agree, owners_may_act

    org, _unit, p = people
    doc = arrive(org, subject="Công văn mới đến")
    db.commit()
    assert ("incoming.cho-tiep-nhan", doc.id) in {(r.queue, r.subject_id) for r in inbox.page(db, p["clerk"])}
    assert doc.id not in {r.subject_id for r in inbox.page(db, p["leader"])}
    assert inbox.counts(db, p["leader"]).of_source("incoming") == 0
    assert "cho-tiep-nhan" not in {q.slug for q in incoming.queues_for(p["leader"])}
    people_here = [p["clerk"], p["leader"]]
    owners_may_act(people_here)
    lists_agree(people_here)
