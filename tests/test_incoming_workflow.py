"""The incoming workflow through its services: arrival to completion, with the rules each step
enforces (SPEC §5.2, §5.6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.documents.models import IncomingStatus as S
from portal.documents.models import Urgency
from portal.errors import NotAllowed, ValidationFailed
from portal.incoming import services
from portal.incoming.models import AssignmentRole, AssignmentState, IncomingEvent
from portal.timeutil import local_today
from portal.workdays.calendar import add_working_days
from tests.incoming_fixtures import PDF, metadata


def test_full_walk_from_arrival_to_done(db, factory, office):
    org, unit, p = office
    sender = factory.organisation(name="Sở Gửi Thử")
    doc = services.receive(org, metadata(), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)], sender=sender)
    assert doc.status == S.ARRIVED
    services.register(p["clerk"], doc, metadata())
    assert doc.status == S.REGISTERED
    assert doc.arrival_number >= 1
    services.present(p["clerk"], doc, p["leader"].id)
    assert doc.status == S.PRESENTED
    deadline = local_today() + timedelta(days=5)
    services.direct(p["leader"], doc, "Giao Phòng Nghiệp vụ chủ trì tham mưu.",
                    [services.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id, deadline=deadline)])
    assert doc.status == S.ASSIGNED
    assert doc.due_date is None  # the lead's deadline is the lead's; the document keeps its own
    services.direct_within_unit(p["head"], doc, "Đồng chí xử lý.",
                                [services.AssigneeSpec(AssignmentRole.LEAD, user_id=p["officer"].id)])
    services.record_progress(p["officer"], doc, "Đang dự thảo báo cáo.")
    assert doc.status == S.IN_PROGRESS
    services.finish(p["officer"], doc, "Đã báo cáo bằng Công văn số 20/SVHT-NV.")
    assert doc.status == S.DONE
    actions = [e.action for e in services.history(doc)]
    assert actions == ["arrive", "register", "present", "direct", "unit_direct", "progress", "finish"]
    assert all(a.state == AssignmentState.DONE for a in services.assignments_of(doc))
    # the sender sees only the status changes
    assert [e.status for e in services.sender_events(doc)] == ["01", "03", "03p", "04", "05", "06"]


def test_exactly_one_lead(db, office):
    _org, unit, p = office
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    with pytest.raises(ValidationFailed):
        services.direct(p["leader"], doc, "", [services.AssigneeSpec(AssignmentRole.COOPERATE, unit_id=unit.id)])
    with pytest.raises(ValidationFailed):
        services.direct(p["leader"], doc, "", [services.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id),
                                               services.AssigneeSpec(AssignmentRole.LEAD, user_id=p["officer"].id)])
    assert doc.status == S.PRESENTED


def test_sub_deadline_cannot_exceed_the_units(db, office):
    _org, unit, p = office
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "", [services.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id,
                                                                 deadline=local_today() + timedelta(days=3))])
    with pytest.raises(ValidationFailed) as caught:
        services.direct_within_unit(p["head"], doc, "", [services.AssigneeSpec(
            AssignmentRole.LEAD, user_id=p["officer"].id, deadline=local_today() + timedelta(days=4))])
    assert "hạn" in caught.value.errors["deadline"]


def test_wrong_holder_and_wrong_step_are_refused(db, office):
    _org, unit, p = office
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    with pytest.raises(NotAllowed):
        services.present(p["officer"], doc, p["leader"].id)
    with pytest.raises(services.WrongStep):
        services.register(p["clerk"], doc, metadata())
    services.present(p["clerk"], doc, p["leader"].id)
    with pytest.raises(NotAllowed):
        services.direct(p["head"], doc, "", [services.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id)])
    assert doc.status == S.PRESENTED


def test_visibility(db, factory, office):
    _org, unit, p = office
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    for who in ("outsider", "officer", "head"):
        with pytest.raises(services.NotFound):
            services.get_visible(p[who], doc.id)
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "", [services.AssigneeSpec(AssignmentRole.LEAD, unit_id=unit.id)])
    assert services.get_visible(p["head"], doc.id) is doc  # R3: head of the assigned unit
    with pytest.raises(services.NotFound):
        services.get_visible(p["officer"], doc.id)  # members only when assigned personally
    services.direct_within_unit(p["head"], doc, "", [services.AssigneeSpec(AssignmentRole.LEAD,
                                                                           user_id=p["officer"].id)])
    assert services.get_visible(p["officer"], doc.id) is doc
    with pytest.raises(services.NotFound):
        services.get_visible(p["other"], doc.id)
    with pytest.raises(services.NotFound):
        services.get_visible(p["outsider"], doc.id)


def test_duplicates_are_flagged(db, office):
    _org, _unit, p = office
    first = services.digitise(p["clerk"], metadata(code_notation="QĐ-UBND"), services.Upload("a.pdf", PDF))
    with pytest.raises(services.Duplicate) as caught:
        services.digitise(p["clerk"], metadata(code_number="015", code_notation="qđ-ubnd"),
                          services.Upload("b.pdf", PDF))
    assert caught.value.matches == [first]
    second = services.digitise(p["clerk"], metadata(), services.Upload("b.pdf", PDF), confirm_duplicate=True)
    assert second.arrival_number == first.arrival_number + 1


def test_return_needs_a_reason_and_is_final(db, factory, office):
    org, _unit, p = office
    doc = services.receive(org, metadata(), sender=factory.organisation())
    with pytest.raises(ValidationFailed):
        services.return_to_sender(p["clerk"], doc, "sai_noi_nhan", "  ")
    services.return_to_sender(p["clerk"], doc, "sai_noi_nhan", "Văn bản gửi nhầm cơ quan.")
    assert doc.status == S.RETURNED
    with pytest.raises(services.WrongStep):
        services.register(p["clerk"], doc, metadata())


def test_recall_at_arrival_is_immediate_and_later_needs_the_clerk(db, factory, office):
    org, _unit, p = office
    early = services.receive(org, metadata(), [services.Upload("vb.pdf", PDF, services.FileRole.MAIN)],
                             sender=factory.organisation())
    services.request_recall(early, "Ban hành nhầm.", "Sở Gửi")
    assert early.status == S.RECALLED
    assert services.files_of(early) == []
    late = services.digitise(p["clerk"], metadata(subject="Văn bản khác"), services.Upload("scan.pdf", PDF))
    services.request_recall(late, "Sai thể thức.", "Sở Gửi")
    assert late.status == S.REGISTERED
    services.confirm_recall(p["clerk"], late)
    assert late.status == S.RECALLED
    with pytest.raises(services.NotFound):
        services.get_visible(p["clerk"], late.id)


def test_urgent_documents_sort_first(db, office):
    _org, _unit, p = office
    normal = services.digitise(p["clerk"], metadata(subject="Thường"), services.Upload("a.pdf", PDF))
    urgent = services.digitise(p["clerk"], metadata(subject="Hỏa tốc", code_number="16", urgency=Urgency.EXPRESS),
                               services.Upload("b.pdf", PDF))
    later = services.digitise(p["clerk"], metadata(subject="Sau", code_number="17"), services.Upload("c.pdf", PDF))
    assert sorted([normal, urgent, later], key=lambda d: d.sort_key, reverse=True) == [urgent, later, normal]


def test_reminders_once_a_day(db, office):
    """In working days (issue 18): due on a working day, overdue on the next one."""
    _org, _unit, p = office
    day = add_working_days(local_today(), 0)  # today, or the next working day
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "", [services.AssigneeSpec(AssignmentRole.LEAD, user_id=p["officer"].id,
                                                                 deadline=day)])
    assert services.send_due_reminders(day) == 1
    assert services.send_due_reminders(day) == 0
    assert services.send_due_reminders(add_working_days(day, 1)) == 1
    kinds = [r.kind.value for r in services.reminders_for(p["officer"])]
    assert kinds == ["qua_han", "sap_den_han"]


def test_every_step_is_in_the_history(db, office):
    _org, _unit, p = office
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF))
    n = db.execute(select(IncomingEvent).where(IncomingEvent.document_id == doc.id)).scalars().all()
    assert [e.action for e in n] == ["digitise"]
    assert isinstance(doc.arrival_date, date)
