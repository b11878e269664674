"""A participant's list pages (officers, unit heads) are built by walking each way they reach a
document through its own index (queries._participant_ids), not by filtering the organisation
with ``visible_clause``. These tests hold the two to the same rows in the same order, page by
page, for every queue and several filters, and hold the copy of the sort key on the assignment
rows equal to the document's through every step. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.db import session
from portal.documents.models import IncomingDocument as D
from portal.documents.models import IncomingStatus as S
from portal.documents.models import Urgency
from portal.incoming import queries, services
from portal.incoming.models import Assignment, AssignmentRole
from portal.timeutil import local_today
from tests.incoming_fixtures import PDF, act, metadata

Spec = services.AssigneeSpec


def arrive(org, **kw):
    return services.receive(org, metadata(**kw), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)])


def presented(org, clerk, leader, **kw):
    doc = arrive(org, **kw)
    services.register(clerk, doc, metadata(**kw), confirm_duplicate=True)
    services.present(clerk, doc, leader.id)
    return doc


@pytest.fixture
def busy_office(db, office, factory):
    """Documents at every step, reached by participants in every way: assigned to a unit, to a
    person, by a unit head within the unit, co-operating, for information, finished, reopened,
    returned, recalled, urgent and not."""
    org, unit, p = office
    unit2 = factory.unit(org, name="Phòng Kế hoạch")
    p["head2"] = act(factory.person(Role.UNIT_HEAD, organisation=org, unit=unit2, title="Trưởng phòng"))
    p["officer2"] = act(factory.person(Role.OFFICER, organisation=org, unit=unit2))
    clerk, leader, head, officer, other = p["clerk"], p["leader"], p["head"], p["officer"], p["other"]
    soon = local_today() + timedelta(days=5)
    docs = []
    for i in range(14):
        urgency = Urgency.URGENT if i % 3 == 0 else Urgency.NORMAL
        subject = f"{'Kế hoạch' if i % 2 else 'Báo cáo'} số {i} về công tác văn thư"
        doc = presented(org, clerk, p["head2"] if i in (11, 13) else leader, subject=subject, urgency=urgency,
                        code_number=str(100 + i))
        docs.append(doc)
        if i == 13:
            continue  # stays with the unit head it was presented to (Chờ phân phối)
        if i == 11:
            services.forward(p["head2"], doc, leader.id)
        lead = Spec(AssignmentRole.LEAD, unit_id=(unit if i % 4 else unit2).id, deadline=soon)
        extra = []
        if i % 5 == 1:
            extra.append(Spec(AssignmentRole.COOPERATE, unit_id=(unit2 if i % 4 else unit).id, deadline=soon))
        if i % 6 == 2:
            extra.append(Spec(AssignmentRole.INFORM, user_id=other.id))
        services.direct(leader, doc, "Giao xử lý.", [lead, *extra])
        lead_head, lead_officer = (head, officer) if i % 4 else (p["head2"], p["officer2"])
        if i % 7 == 6:
            continue  # the unit head has not assigned it yet
        services.direct_within_unit(lead_head, doc, "", [Spec(AssignmentRole.LEAD, user_id=lead_officer.id)])
        if i % 3 == 1:
            services.record_progress(lead_officer, doc, "Đang dự thảo.")
        if i in (0, 3, 4, 9):
            services.finish(lead_officer, doc, "Đã trả lời bằng công văn.")
        if i == 9:
            services.reopen(leader, doc, "Cần bổ sung.")
    returned = arrive(org, subject="Văn bản gửi nhầm")
    services.return_to_sender(clerk, returned, next(iter(services.RETURN_CATEGORIES)), "Gửi nhầm cơ quan.")
    services.request_recall(docs[5], "Ban hành nhầm.", "Sở Tài chính")  # assigned, then recalled
    services.confirm_recall(clerk, docs[5])
    # someone who registered documents as a clerk and now works as an officer (the registering
    # clerk stays a participant, R2)
    for doc in docs[1:3]:
        doc.registered_by_id = other.id
    session.flush()
    return org, p, docs


def reference(user, queue, filters):
    stmt = (select(D.id).where(services.visible_clause(user), queue.predicate(user),
                               *queries.filter_clause(filters)).order_by(D.sort_key.desc()))
    return list(session.execute(stmt).scalars())


def walked(user, queue, filters, size):
    ids, cursor, pages = [], None, 0
    while True:
        page = queries.page(user, queue, filters, cursor, size=size)
        ids += [d.id for d in page.rows]
        pages += 1
        assert pages < 100
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


FILTERS = [
    queries.Filters(),
    queries.Filters(q="ke hoach"),
    queries.Filters(urgent=True),
    queries.Filters(status=S.DONE.value),
]


@pytest.mark.parametrize("who", ["head", "officer", "other", "head2", "officer2"])
def test_participant_pages_hold_exactly_the_visible_rows_in_order(busy_office, who):
    _org, p, _docs = busy_office
    user = p[who]
    assert not services.is_front_desk(user)
    seen = 0
    for queue in queries.queues_for(user):
        for filters in FILTERS:
            expected = reference(user, queue, filters)
            seen += len(expected)
            for size in (1, 2, 50):
                assert walked(user, queue, filters, size) == expected, (queue.slug, filters, size)
    assert seen > 0  # the fixture gives every participant something to see


def test_a_busy_participant_sees_many_documents(busy_office):
    """Guard on the fixture itself: without it the equivalence above could pass on empty lists."""
    _org, p, docs = busy_office
    tat_ca = queries.QUEUES["tat-ca"]
    assert len(reference(p["head"], tat_ca, queries.Filters())) >= 8
    assert len(reference(p["officer"], tat_ca, queries.Filters())) >= 5
    assert len(reference(p["other"], tat_ca, queries.Filters())) >= 2
    assert 0 < len(reference(p["head"], queries.QUEUES["da-hoan-thanh"], queries.Filters())) < 8
    assert reference(p["head2"], queries.QUEUES["cho-phan-phoi"], queries.Filters()) == [docs[13].id]


def test_the_assignment_rows_carry_their_documents_sort_key(busy_office):
    rows = session.execute(select(Assignment.sort_key, D.sort_key).join(D, D.id == Assignment.document_id)).all()
    assert len(rows) > 20
    assert all(mine == theirs for mine, theirs in rows)


def test_finishing_an_urgent_document_moves_it_down_for_every_participant(busy_office):
    """Urgent documents come first only while open: finishing one changes its sort key, and the
    copy on its assignment rows must follow or the officer's walk would put it in the wrong place."""
    _org, p, docs = busy_office
    doc = docs[12]  # urgent, assigned to the second unit and within it to its officer
    assert doc.urgency >= Urgency.URGENT
    assert doc.status in services.OPEN_STATUSES
    assert doc.sort_key.startswith("1")
    services.finish(p["officer2"], doc, "Xong.")
    session.flush()
    assert doc.sort_key.startswith("0")
    keys = set(session.execute(select(Assignment.sort_key).where(Assignment.document_id == doc.id)).scalars())
    assert keys == {doc.sort_key}
    tat_ca = queries.QUEUES["tat-ca"]
    for who in ("head2", "officer2"):
        assert walked(p[who], tat_ca, queries.Filters(), 2) == reference(p[who], tat_ca, queries.Filters())


def test_participants_never_reach_what_they_may_not_see(busy_office):
    """Returned and recalled documents, and those still at 01, are the front desk's only."""
    _org, p, _docs = busy_office
    gone = set(session.execute(select(D.id).where(D.status.in_((S.RETURNED, S.RECALLED, S.ARRIVED)))).scalars())
    assert gone
    for who in ("head", "officer", "other", "head2", "officer2"):
        assert not gone & set(walked(p[who], queries.QUEUES["tat-ca"], queries.Filters(), 50))
