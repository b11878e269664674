"""What incoming documents put in people's inbox "Việc của tôi" (issue 18 item 1), declared to
``portal.inbox``. The queues keep the slugs of the incoming list (``queries.QUEUES``), so the list's tabs,
the menu badge and the inbox read the same counters; ``tests/test_inbox_counters.py`` checks the items
against the list's own predicates after every step. No Flask here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session, aliased

from portal.auth.models import Position, PositionRole, Role, User
from portal.documents.models import IncomingDocument
from portal.inbox.maintain import touch
from portal.inbox.registry import ORG, UNIT, USER, Item, QueueInfo, Source, register
from portal.incoming import deciders
from portal.incoming.models import Assignment, AssignmentRole, AssignmentState, Extension, ExtensionState
from portal.incoming.visibility import OPEN_STATUSES, WORK_STATUSES, S
from portal.incoming.workflow import ASSIGNMENT, DOCUMENT, UNFINISHED
from portal.timeutil import to_local
from portal.workdays.limits import due_for

D, A, E = IncomingDocument, Assignment, Extension
UNIT_ROW = aliased(Assignment)
_CLERK = frozenset({Role.CLERK})
_FRONT = frozenset({Role.CLERK, Role.AGENCY_LEADER})

QUEUES = {q.key: q for q in (
    # the clerk's alone: accepting, registering and returning are the clerk's steps (an agency leader sees the
    # arrivals in the list's "Tất cả", not as work waiting for them)
    QueueInfo("incoming.cho-tiep-nhan", "Tiếp nhận văn bản đến", _CLERK, actions=("accept", "register", "return")),
    QueueInfo("incoming.cho-vao-so", "Vào sổ văn bản đến", _CLERK, actions=("register",)),
    QueueInfo("incoming.cho-trinh", "Trình văn bản đến", _CLERK, actions=("present", "assign_directly", "file_info")),
    QueueInfo("incoming.cho-phan-phoi", "Cho ý kiến chỉ đạo, phân công",
              actions=("direct", "forward", "assign_directly", "send_back")),
    QueueInfo("incoming.cho-xu-ly", "Xử lý văn bản đến", actions=("seen", "progress", "unit_direct", "finish_part",
                                                                   "finish")),
    # followed: the owner's part under way, or the unit's in its officers' hands (the head chases it)
    QueueInfo("incoming.dang-xu-ly", "Đang xử lý", action=False, actions=("progress", "unit_direct", "finish_part",
                                                                          "finish", "remind")),
    QueueInfo("incoming.thu-hoi", "Trả lời đề nghị thu hồi", _CLERK, actions=("confirm_recall", "refuse_recall")),
    # owned by whoever decides (deciders.py): the deadline's setter, or once they are gone the unit (its head) or the
    # organisation, where only its agency leaders read it
    QueueInfo("incoming.gia-han", "Quyết định gia hạn", frozenset({Role.AGENCY_LEADER}),
              actions=("approve_extension", "refuse_extension")),
    # the front desk's "Quá hạn": each document being handled with its earliest limit (its own deadline while
    # open, each open part's); not listed in anyone's inbox
    QueueInfo("incoming.theo-doi", "Theo dõi hạn xử lý", _FRONT, action=False, listed=False),
)}


def _reference(doc: D) -> str:
    return f"{doc.code_number}/{doc.code_notation}" if doc.code_number and doc.code_notation else ""


def _local_day(moment) -> date | None:  # type: ignore[no-untyped-def]
    return to_local(moment).date() if moment is not None else None


def items(db: Session, ids: Collection[int]) -> Iterator[Item]:
    docs = db.execute(select(D.id, D.organisation_id, D.status, D.arrival_number, D.presented_to_id,
                             D.recall_requested_at, D.due_date, D.register_due_at, D.arrived_at, D.urgency,
                             D.subject, D.code_number, D.code_notation).where(D.id.in_(ids))).all()
    if not docs:
        return
    working = [d.id for d in docs if d.status in WORK_STATUSES]
    parts: dict[int, list] = {}  # type: ignore[type-arg]
    asked: dict[int, list] = {}  # type: ignore[type-arg]
    if working:
        for row in db.execute(select(A.document_id, A.assignee_user_id, A.assignee_unit_id, A.level, A.role, A.state,
                                     A.deadline, A.assigned_at)
                              .where(A.document_id.in_(working), A.state != AssignmentState.DONE)):
            parts.setdefault(row.document_id, []).append(row)
        # a request waits on a row still open (the table decides only then), for whoever decides it now
        for row in db.execute(select(E.document_id, E.requested_by_id, A.assigned_by_id, UNIT_ROW.assignee_unit_id)
                              .join(A, A.id == E.assignment_id).outerjoin(UNIT_ROW, UNIT_ROW.id == A.parent_id)
                              .where(E.document_id.in_(working), E.state == ExtensionState.PENDING,
                                     A.state.in_(UNFINISHED))):
            asked.setdefault(row.document_id, []).append(row)
    org_of = {doc.id: doc.organisation_id for doc in docs}
    at_work = deciders.at_work(db, {(r.assigned_by_id, org_of[r.document_id]) for rows in asked.values() for r in rows})
    # the heads, today, of the units whose requests the setter does not decide (gone, or the one who asked): one query
    heads = deciders.heads(db, {r.assignee_unit_id for rows in asked.values() for r in rows
                                if r.assignee_unit_id is not None and (
                                    (r.assigned_by_id, org_of[r.document_id]) not in at_work
                                    or r.assigned_by_id == r.requested_by_id)})
    for doc in docs:
        common = {"subject_id": doc.id, "urgency": int(doc.urgency or 0), "title": doc.subject,
                  "reference": _reference(doc)}
        org = doc.organisation_id
        waiting = doc.status == S.ARRIVED or (doc.status == S.REGISTERED and doc.arrival_number is None)
        # the registration limit as the list shows it: fixed at arrival, computed for rows that predate it
        register_due = (doc.register_due_at or due_for("register", doc.arrived_at, doc.urgency)) if waiting else None
        if doc.status == S.ARRIVED:
            yield Item(owner_kind=ORG, owner_id=org, queue="incoming.cho-tiep-nhan", due_at=register_due,
                       due_day=_local_day(register_due), since=doc.arrived_at, **common)
        elif doc.status == S.REGISTERED:
            if doc.arrival_number is None:
                yield Item(owner_kind=ORG, owner_id=org, queue="incoming.cho-vao-so", due_at=register_due,
                           due_day=_local_day(register_due), since=doc.arrived_at, **common)
            else:
                yield Item(owner_kind=ORG, owner_id=org, queue="incoming.cho-trinh", due_day=doc.due_date, **common)
        elif doc.status == S.PRESENTED and doc.presented_to_id is not None:
            yield Item(owner_kind=USER, owner_id=doc.presented_to_id, queue="incoming.cho-phan-phoi",
                       due_day=doc.due_date, **common)
        if doc.recall_requested_at is not None and doc.status not in (S.RETURNED, S.RECALLED, S.REPLACED):
            yield Item(owner_kind=ORG, owner_id=org, queue="incoming.thu-hoi", since=doc.recall_requested_at,
                       **common)
        for part in parts.get(doc.id, ()):
            if part.assignee_user_id is not None:
                kind, owner = USER, part.assignee_user_id
            elif part.assignee_unit_id is not None and part.level == 1:
                kind, owner = UNIT, part.assignee_unit_id
            else:
                continue
            inform = part.role == AssignmentRole.INFORM
            if part.state in (AssignmentState.NEW, AssignmentState.SEEN):
                if inform and part.state == AssignmentState.SEEN:
                    continue
                queue = "incoming.cho-xu-ly"
            else:
                queue = "incoming.dang-xu-ly"
            yield Item(owner_kind=kind, owner_id=owner, queue=queue, due_day=None if inform else part.deadline,
                       since=part.assigned_at, **common)
        limits = [doc.due_date] if doc.status in OPEN_STATUSES else []
        limits += [p.deadline for p in parts.get(doc.id, ()) if p.role != AssignmentRole.INFORM]
        earliest = min((d for d in limits if d is not None), default=None)
        if earliest is not None:
            yield Item(owner_kind=ORG, owner_id=org, queue="incoming.theo-doi", due_day=earliest, **common)
        for request in asked.get(doc.id, ()):
            kind, owner = deciders.decider(request.assigned_by_id, org, request.assignee_unit_id,
                                           (request.assigned_by_id, org) in at_work, request.requested_by_id,
                                           heads.get(request.assignee_unit_id, ()))
            yield Item(owner_kind=kind, owner_id=owner, queue="incoming.gia-han", **common)


def candidates(db: Session) -> Iterator[int]:
    """Every document that may have work now (done ones with a part still open included)."""
    open_states = (S.ARRIVED, S.REGISTERED, S.PRESENTED, *WORK_STATUSES)
    yield from db.scalars(select(D.id).where(D.status.in_(open_states), D.status != S.DONE))
    yield from db.scalars(select(A.document_id).join(D, D.id == A.document_id)
                          .where(D.status == S.DONE, A.state != AssignmentState.DONE).distinct())
    yield from db.scalars(select(D.id).where(D.recall_requested_at.is_not(None)))


def _deciders_moved(db: Session, changed: User | Position | PositionRole) -> None:
    """A person disabled or enabled, a position begun, ended or moved, a unit head's role given or taken: the gia
    hạn requests waiting on what this person set, or set within a unit they head or headed, may change hands
    (``deciders``). One person reaches many documents and a watch names one subject per row, so their documents
    are touched here (too many costs a recount, never truth). A position that simply runs out (its ``valid_to``
    passes) changes no row: the nightly rebuild moves those requests."""
    state = inspect(changed)
    person: int | None = None
    if isinstance(changed, User):
        if changed in db.new or not state.attrs.status.history.has_changes():
            return None
        person = changed.id
        units = set(db.scalars(select(Position.unit_id).where(Position.user_id == person,
                                                              Position.unit_id.is_not(None))))
    elif isinstance(changed, Position):
        if changed not in db.new and changed not in db.deleted and not any(
                state.attrs[name].history.has_changes() for name in ("user_id", "organisation_id", "unit_id",
                                                                     "valid_from", "valid_to")):
            return None
        person = changed.user_id
        units = {changed.unit_id, *state.attrs.unit_id.history.deleted} - {None}
    else:
        if Role.UNIT_HEAD not in {changed.role, *state.attrs.role.history.deleted}:
            return None
        position = db.get(Position, changed.position_id) if changed.position_id is not None else None
        units = {position.unit_id} - {None} if position is not None else set()
    touch(db, "incoming", db.scalars(
        select(E.document_id).join(A, A.id == E.assignment_id).outerjoin(UNIT_ROW, UNIT_ROW.id == A.parent_id)
        .where(E.state == ExtensionState.PENDING, or_(A.assigned_by_id == person,
                                                      UNIT_ROW.assignee_unit_id.in_(units)))))
    return None


SOURCE = register(Source(
    name="incoming", label="Văn bản đến", model=D, queues=QUEUES,
    watch={D: lambda db, doc: doc.id, A: lambda db, row: row.document_id, E: lambda db, row: row.document_id,
           User: _deciders_moved, Position: _deciders_moved, PositionRole: _deciders_moved},
    items=items, candidates=candidates, endpoint="incoming.document", id_arg="document_id",
    steps=frozenset(DOCUMENT.transitions) | frozenset(ASSIGNMENT.transitions),
))
