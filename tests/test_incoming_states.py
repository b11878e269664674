"""The incoming state machine as a matrix (SPEC §5.2, the tables in portal/incoming/workflow.py):
every status × every action × every role. Exactly the combinations in ALLOWED succeed; every
other one is refused with a Vietnamese message and changes nothing.

The expected table is written out by hand below, from the SPEC's table, not derived from the
code under test. The office and one document per status are built once per module (in one outer
transaction that is rolled back at the end); each test runs in a savepoint of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.db import session as db_session
from portal.documents.models import IncomingDocument, Urgency
from portal.errors import NotAllowed, NotFound
from portal.incoming import services
from portal.incoming.models import Assignment, AssignmentRole, IncomingEvent, Reminder, ReminderKind
from portal.incoming.workflow import ASSIGNMENT, DOCUMENT, MY_PARTS, ROW_STEPS, OnRow
from portal.timeutil import local_today
from portal.workflow import AlreadyDone
from tests.conftest import Factory

# 03u: accepted, waiting for its số đến; 03n: numbered. 04: the agency leader assigned the unit
# (lead) and one officer (co-operating), the unit has not distributed yet; 04d: the unit head gave
# the lead to an officer. 06i: filed for information (no assignees). 15: recalled at 04d.
STATUSES = ["01", "02", "03u", "03n", "03p", "04", "04d", "05", "06", "06i", "15"]
ROLES = [
    "clerk",          # văn thư of the organisation
    "agency_leader",  # an agency leader the document was not presented to
    "presented",      # the agency leader it was presented to (who directs it)
    "unit_head",      # head of the unit assigned as lead
    "lead",           # the officer the unit head made lead person
    "coop",           # an officer assigned to co-operate
    "bystander",      # an officer of the same unit, not assigned
    "outsider",       # the clerk of another organisation
]
ACTIONS = ["accept", "register", "return_to_sender", "present", "assign_directly", "forward", "send_back",
           "direct", "file_for_information", "direct_within_unit", "record_progress", "mark_seen", "finish",
           "reopen", "remind", "confirm_recall"]

CLERK_AND_AGENCY_LEADERS = {"clerk", "agency_leader", "presented"}
# (action, status) → the roles that may do it; everything not listed is refused
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("accept", "01"): {"clerk"},
    ("return_to_sender", "01"): {"clerk"},
    ("register", "01"): {"clerk"},
    ("register", "03u"): {"clerk"},
    ("present", "03n"): {"clerk"},
    ("assign_directly", "03n"): {"clerk"},
    ("forward", "03p"): {"presented"},
    ("send_back", "03p"): {"presented"},
    ("direct", "03p"): {"presented"},
    ("file_for_information", "03p"): {"presented"},
    ("direct_within_unit", "04"): {"unit_head"},  # at 04d/05 the unit has distributed already
    ("record_progress", "04"): {"coop"},  # the lead person is not named yet at 04
    ("record_progress", "04d"): {"lead", "coop"},
    ("record_progress", "05"): {"lead", "coop"},
    ("mark_seen", "04"): {"coop"},
    ("mark_seen", "04d"): {"lead", "coop"},
    ("mark_seen", "05"): {"coop"},  # the lead's part is "đang xử lý" since the progress note
    # the lead's finish closes the lead's part only: the co-operating officer's part stays open (SPEC §5.6)
    ("record_progress", "06"): {"coop"},
    ("mark_seen", "06"): {"coop"},
    ("finish", "04d"): {"lead"},
    ("finish", "05"): {"lead"},
    ("reopen", "06"): {"agency_leader", "presented", "unit_head"},
    # the reminder is about the lead's row: at 04 the unit's (assigned by the agency leader), from
    # 04d the lead officer's (assigned by the unit head)
    ("remind", "04"): CLERK_AND_AGENCY_LEADERS,
    ("remind", "04d"): CLERK_AND_AGENCY_LEADERS | {"unit_head"},
    ("remind", "05"): CLERK_AND_AGENCY_LEADERS | {"unit_head"},
    # confirm_recall: only with a recall request, see test_confirming_a_recall
}
# the status after an allowed action
MOVES_TO: dict[tuple[str, str], str] = {
    ("accept", "01"): "03", ("return_to_sender", "01"): "02", ("register", "01"): "03",
    ("register", "03u"): "03", ("present", "03n"): "03p", ("assign_directly", "03n"): "04",
    ("forward", "03p"): "03p", ("send_back", "03p"): "03", ("direct", "03p"): "04",
    ("file_for_information", "03p"): "06", ("direct_within_unit", "04"): "04",
    ("record_progress", "04"): "04", ("record_progress", "04d"): "05", ("record_progress", "05"): "05",
    ("mark_seen", "04"): "04", ("mark_seen", "04d"): "04", ("mark_seen", "05"): "05",
    ("record_progress", "06"): "06", ("mark_seen", "06"): "06",
    ("finish", "04d"): "06", ("finish", "05"): "06", ("reopen", "06"): "05",
    ("remind", "04"): "04", ("remind", "04d"): "04", ("remind", "05"): "05",
}
MOVES_TO_BY_ROLE = {("record_progress", "04d", "coop"): "04"}  # a co-operating note moves nothing
# a recall request is confirmed by the clerk at any status after 01 (at 01 it is immediate) but
# not at 02 or 15
RECALL_CONFIRMABLE = {"03u", "03n", "03p", "04", "04d", "05", "06", "06i"}

VIETNAMESE = re.compile(r"[àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđ]", re.I)


def metadata(code: str) -> services.Metadata:
    return services.Metadata(type_name="Công văn", code_number=code, code_notation="UBND-VX",
                             issued_date=local_today() - timedelta(days=3), organ_name="Ủy ban nhân dân tỉnh Nam Định",
                             subject=f"Về việc thử trạng thái {code}", urgency=Urgency.NORMAL)


def act(user: User) -> User:
    user.current_position = user.positions[0]
    return user


@dataclass
class World:
    people: dict[str, int]
    unit_id: int
    docs: dict[str, int] = field(default_factory=dict)
    recall_docs: dict[str, int] = field(default_factory=dict)
    remind_row: dict[str, int] = field(default_factory=dict)


def _build(w: World, p: dict[str, User], status: str, code: str) -> IncomingDocument:
    """A document at ``status``, reached through the services."""
    org = p["clerk"].organisation
    doc = services.receive(org, metadata(code), sender=p["outsider"].organisation)
    if status == "01":
        return doc
    if status == "02":
        services.return_to_sender(p["clerk"], doc, "sai_noi_nhan", "Gửi nhầm cơ quan.")
        return doc
    if status == "03u":
        services.accept(p["clerk"], doc)
        return doc
    services.register(p["clerk"], doc, metadata(code))
    if status == "03n":
        return doc
    services.present(p["clerk"], doc, p["presented"].id)
    if status == "03p":
        return doc
    if status == "06i":
        services.file_for_information(p["presented"], doc, "Lưu hồ sơ.")
        return doc
    services.direct(p["presented"], doc, "Giao phòng chủ trì, đồng chí phối hợp.",
                    [services.AssigneeSpec(AssignmentRole.LEAD, unit_id=w.unit_id,
                                           deadline=local_today() + timedelta(days=10)),
                     services.AssigneeSpec(AssignmentRole.COOPERATE, user_id=p["coop"].id)])
    if status == "04":  # the lead unit's head asks for a later deadline: approving it is the directing leader's
        services.request_extension(p["unit_head"], doc, _lead_row(doc), "Chờ số liệu của các xã.",
                                   local_today() + timedelta(days=15))
        return doc
    services.direct_within_unit(p["unit_head"], doc, "Đồng chí chủ trì.",
                                [services.AssigneeSpec(AssignmentRole.LEAD, user_id=p["lead"].id)])
    if status == "04d":
        return doc
    if status == "15":
        services.request_recall(doc, "Ban hành nhầm.", "Sở Gửi")
        services.confirm_recall(p["clerk"], doc)
        return doc
    services.record_progress(p["lead"], doc, "Đang dự thảo.")
    if status == "05":
        return doc
    services.finish(p["lead"], doc, "Đã trả lời bằng công văn số 12/UBND-VX.")
    assert status == "06"
    return doc


def _lead_row(doc: IncomingDocument) -> int:
    """The lead's row: the unit's at 04, the lead officer's once the unit has distributed."""
    rows = [a for a in services.assignments_of(doc) if a.role == AssignmentRole.LEAD]
    return rows[-1].id if rows else 0


@pytest.fixture(scope="module")
def world(app: Flask) -> Iterator[World]:
    with app.app_context():
        conn = app.extensions["engine"].connect()
        outer = conn.begin()
        db_session.remove()
        db_session.configure(bind=conn, join_transaction_mode="create_savepoint")
        try:
            factory = Factory(db_session())
            org = factory.organisation(name="Sở Trạng Thái Thử", short_name="STTT")
            unit = factory.unit(org, name="Phòng Văn hóa")
            p = {
                "clerk": factory.person(Role.CLERK, organisation=org, title="Văn thư"),
                "agency_leader": factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc"),
                "presented": factory.person(Role.AGENCY_LEADER, organisation=org, title="Phó Giám đốc"),
                "unit_head": factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng"),
                "lead": factory.person(Role.OFFICER, organisation=org, unit=unit),
                "coop": factory.person(Role.OFFICER, organisation=org, unit=unit),
                "bystander": factory.person(Role.OFFICER, organisation=org, unit=unit),
                "outsider": factory.person(Role.CLERK, title="Văn thư"),
            }
            for user in p.values():
                act(user)
            w = World(people={role: user.id for role, user in p.items()}, unit_id=unit.id)
            for n, status in enumerate(STATUSES):
                doc = _build(w, p, status, str(100 + n))
                w.docs[status] = doc.id
                w.remind_row[status] = _lead_row(doc)
                other = _build(w, p, status, str(200 + n))
                services.request_recall(other, "Ban hành nhầm, đề nghị thu hồi.", "Sở Gửi")
                w.recall_docs[status] = other.id
            db_session.commit()  # into the outer transaction, which the end of the module rolls back
            db_session.remove()
            yield w
        finally:
            db_session.remove()
            outer.rollback()
            conn.close()
            db_session.configure(bind=app.extensions["engine"])


@pytest.fixture
def people(world: World) -> Iterator[dict[str, User]]:
    """A session of its own (a savepoint of the module's transaction), rolled back afterwards."""
    db_session.remove()
    yield {role: act(db_session.get(User, user_id)) for role, user_id in world.people.items()}
    db_session.remove()


def _perform(action: str, user: User, doc: IncomingDocument, w: World, status: str) -> object:
    ids = w.people
    unit_lead = [services.AssigneeSpec(AssignmentRole.LEAD, unit_id=w.unit_id)]
    calls: dict[str, Callable[[], object]] = {
        "accept": lambda: services.accept(user, doc),
        "register": lambda: services.register(user, doc, metadata("777")),
        "return_to_sender": lambda: services.return_to_sender(user, doc, "thieu_tep", "Thiếu phụ lục."),
        "present": lambda: services.present(user, doc, ids["presented"]),
        "assign_directly": lambda: services.assign_directly(user, doc, "Chuyển phòng xử lý.", unit_lead),
        "forward": lambda: services.forward(user, doc, ids["agency_leader"], "Nhờ anh cho ý kiến."),
        "send_back": lambda: services.send_back(user, doc, "Cần bổ sung hồ sơ."),
        "direct": lambda: services.direct(user, doc, "Giao phòng tham mưu.", unit_lead),
        "file_for_information": lambda: services.file_for_information(user, doc, "Để biết."),
        "direct_within_unit": lambda: services.direct_within_unit(
            user, doc, "Giao đồng chí.", [services.AssigneeSpec(AssignmentRole.LEAD, user_id=ids["lead"])]),
        "record_progress": lambda: services.record_progress(user, doc, "Đã làm việc với các phòng."),
        "mark_seen": lambda: services.mark_seen(user, doc),
        "finish": lambda: services.finish(user, doc, "Đã hoàn thành báo cáo."),
        "reopen": lambda: services.reopen(user, doc, "Kết quả chưa đạt, xử lý lại."),
        "remind": lambda: services.remind(user, doc, w.remind_row[status], ReminderKind.REMIND, "Đề nghị khẩn trương."),
        "confirm_recall": lambda: services.confirm_recall(user, doc),
    }
    return calls[action]()


def _snapshot(doc_id: int) -> dict[str, object]:
    """What the database would commit now (pending changes are flushed first)."""
    db_session.flush()
    d = IncomingDocument
    row = db_session.execute(select(d.status, d.arrival_number, d.book_id, d.presented_to_id, d.completed_at,
                                    d.recalled_at, d.due_date).where(d.id == doc_id)).one()
    count = lambda model, *where: db_session.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
    return {
        "document": tuple(row),
        "events": count(IncomingEvent, IncomingEvent.document_id == doc_id),
        "assignments": db_session.execute(select(Assignment.id, Assignment.state, Assignment.finished_at)
                                          .where(Assignment.document_id == doc_id).order_by(Assignment.id)).all(),
        "reminders": count(Reminder),
    }


def _check(action: str, status: str, role: str, doc_id: int, people: dict[str, User], w: World,
           allowed: bool, moves_to: str | None) -> None:
    doc = db_session.get(IncomingDocument, doc_id)
    before = _snapshot(doc_id)
    if allowed:
        _perform(action, people[role], doc, w, status)
        after = _snapshot(doc_id)
        assert after["events"] == before["events"] + 1  # every step is in the history
        assert doc.status.value == moves_to
        if action == "register":
            assert doc.arrival_number is not None
        return
    with pytest.raises(NotAllowed) as refused:
        _perform(action, people[role], doc, w, status)
    message = str(refused.value)
    assert VIETNAMESE.search(message), message
    assert _snapshot(doc_id) == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", STATUSES)
def test_matrix(world, people, status, action, role):
    allowed = role in ALLOWED.get((action, status), set())
    moves_to = MOVES_TO_BY_ROLE.get((action, status, role), MOVES_TO.get((action, status)))
    _check(action, status, role, world.docs[status], people, world, allowed, moves_to)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", STATUSES)
def test_confirming_a_recall(world, people, status, role):
    """The sender asked to recall the document while it was at ``status``."""
    allowed = role == "clerk" and status in RECALL_CONFIRMABLE
    _check("confirm_recall", status, role, world.recall_docs[status], people, world, allowed, "15")


def test_the_table_names_only_known_statuses_actions_and_roles():
    for (action, status), roles in ALLOWED.items():
        assert action in ACTIONS
        assert status in STATUSES
        assert roles <= set(ROLES)
        assert (action, status) in MOVES_TO
    assert set(MOVES_TO) == set(ALLOWED)


def test_a_reminder_about_another_documents_row_is_not_found(world, people):
    doc = db_session.get(IncomingDocument, world.docs["05"])
    before = _snapshot(doc.id)
    with pytest.raises(NotFound):
        services.remind(people["clerk"], doc, world.remind_row["04"], ReminderKind.REMIND, "")
    assert _snapshot(doc.id) == before


def test_only_an_agency_leader_directs_what_is_presented_to_them(world, people):
    """A unit head may be presented a document (and forward it, send it back or file it), but
    distributing it is for agency leaders."""
    doc = db_session.get(IncomingDocument, world.docs["03n"])
    services.present(people["clerk"], doc, people["unit_head"].id)
    before = _snapshot(doc.id)
    with pytest.raises(NotAllowed, match="Chỉ lãnh đạo cơ quan được phân phối"):
        services.direct(people["unit_head"], doc, "", [services.AssigneeSpec(AssignmentRole.LEAD,
                                                                             unit_id=world.unit_id)])
    assert _snapshot(doc.id) == before
    services.forward(people["unit_head"], doc, people["presented"].id)
    assert doc.presented_to_id == people["presented"].id


# --- the tables: what the page offers is what the server accepts (issue 14) -------------------------

TABLE_STEPS = [(flow, action) for flow in (DOCUMENT, ASSIGNMENT) for action in flow.transitions]
# the matrix's service functions by their table names
TABLE_NAME = {"return_to_sender": "return", "file_for_information": "file_info", "direct_within_unit": "unit_direct",
              "record_progress": "progress", "mark_seen": "seen"}


def _passes(guard: Callable[[], object]) -> bool:
    try:
        guard()
    except (NotAllowed, NotFound, AlreadyDone):
        return False
    return True


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", STATUSES)
def test_the_page_offers_exactly_what_the_guard_accepts(world, people, status, role):
    """For every state × person × step of both tables: the page's step forms (available_actions;
    row_actions per assignment row: đôn đốc, gia hạn) are exactly the steps whose guard passes, on
    documents with and without a recall request."""
    user = people[role]
    for doc_id in (world.docs[status], world.recall_docs[status]):
        doc = db_session.get(IncomingDocument, doc_id)
        offered = services.available_actions(user, doc)
        for flow, action in TABLE_STEPS:
            if action in ROW_STEPS:  # a form per row of the phiếu (đôn đốc, gia hạn)
                for row in services.assignments_of(doc):
                    assert (action in services.row_actions(user, doc, row)) == _passes(
                        lambda row=row, d=doc, a=action: OnRow(row.id).guard(user, a, d)), (status, role, row.id,
                                                                                           action)
                    if action == "remind":
                        assert services.can_remind(user, doc, row) == (action in services.row_actions(user, doc, row))
                continue
            table = DOCUMENT if flow is DOCUMENT else MY_PARTS
            assert (action in offered) == _passes(lambda t=table, a=action, d=doc: t.guard(user, a, d)), \
                (status, role, action, doc_id)
        assert offered <= {action for _flow, action in TABLE_STEPS}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", STATUSES)
def test_the_tables_say_what_the_hand_written_matrix_says(world, people, status, role):
    """The hand-written ALLOWED (from the SPEC) read through the tables: the page offers a step
    exactly when the matrix allows it (``remind``: on the lead's row)."""
    user = people[role]
    doc = db_session.get(IncomingDocument, world.docs[status])
    offered = services.available_actions(user, doc)
    for action in ACTIONS:
        allowed = role in ALLOWED.get((action, status), set())
        if action == "remind":
            row = db_session.get(Assignment, world.remind_row[status]) if world.remind_row[status] else None
            assert (row is not None and services.can_remind(user, doc, row)) == allowed, (status, role)
        elif action != "confirm_recall":
            assert (TABLE_NAME.get(action, action) in offered) == allowed, (status, role, action)
    recall_doc = db_session.get(IncomingDocument, world.recall_docs[status])
    assert ("confirm_recall" in services.available_actions(user, recall_doc)) == (
        role == "clerk" and status in RECALL_CONFIRMABLE)
