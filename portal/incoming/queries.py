"""The incoming lists (SPEC §14, §16): queues per role, filters, search without diacritics,
exact số/ký hiệu, keyset pagination and capped counts. Every query is one set-based statement
built on ``services.visible_clause``, so permissions never run row by row. No Flask here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true, union

from portal.auth.models import Role, User
from portal.db import session
from portal.documents.models import IncomingDocument, IncomingStatus, Urgency
from portal.incoming.models import Assignment, AssignmentRole, AssignmentState
from portal.incoming.services import (
    OPEN_STATUSES,
    WORK_STATUSES,
    headed_unit_id,
    is_front_desk,
    org_id,
    parse_code,
    participant_scope,
    participation,
    visible_clause,
)
from portal.listing import COUNT_CAP, local_midnight, words
from portal.listing import format_count as format_count  # re-exported for the views and tests
from portal.timeutil import local_today
from portal.workdays.calendar import due_soon_cutoff, overdue_cutoff
from portal.workdays.limits import due_soon_days

D = IncomingDocument
S = IncomingStatus
PAGE_SIZE = 50


def _mine(user: User) -> ColumnElement[bool]:
    """Assignments naming this person, or the unit they head."""
    who = Assignment.assignee_user_id == user.id
    unit = headed_unit_id(user)
    if unit is not None:
        who = or_(who, and_(Assignment.assignee_unit_id == unit, Assignment.level == 1))
    return who


def _has_mine(user: User, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    # correlated to the document only: a participant's walk joins its own assignment row too
    return exists().where(Assignment.document_id == D.id, _mine(user), *conditions).correlate(D)


# A person's own queues follow their own assignment's state, as the document page shows it: the
# lead's finish (06) leaves co-operating parts open, so "my work" looks at documents at 04, 05 and 06.

def _waiting(user: User) -> ColumnElement[bool]:
    """Chờ xử lý: something of mine not started yet (a unit head's unit row counts until the head
    directs it within the unit)."""
    new = Assignment.state.in_([AssignmentState.NEW, AssignmentState.SEEN])
    not_info_seen = ~and_(Assignment.role == AssignmentRole.INFORM, Assignment.state == AssignmentState.SEEN)
    return and_(D.status.in_(WORK_STATUSES), _has_mine(user, new, not_info_seen))


def _working(user: User) -> ColumnElement[bool]:
    if is_front_desk(user):
        return D.status.in_(OPEN_STATUSES)
    return and_(D.status.in_(WORK_STATUSES), _has_mine(user, Assignment.state == AssignmentState.WORKING))


# "not done" spelled as the open states, so the (assignee, state) indexes read only open rows: at
# 1,000,000 documents "!= done" read every past assignment of the person (19,000 rows, 150 ms)
_OPEN_STATES = tuple(s for s in AssignmentState if s != AssignmentState.DONE)


def _late_part(cutoff: date) -> list[ColumnElement[bool]]:
    """An assignment past its own deadline and not done (for-information rows have no work).
    Deadlines count in working days: one on a day off runs to the next working day, so the deadline
    is past when it is on or before the last working day before today (``workdays.overdue_cutoff``)."""
    return [Assignment.deadline <= cutoff, Assignment.state.in_(_OPEN_STATES), Assignment.role != AssignmentRole.INFORM]


def _overdue(user: User) -> ColumnElement[bool]:
    """Quá hạn. Two deadlines, never mixed: the document's own (hạn giải quyết, set at
    registration or by the directing leader) and each assignment's (hạn xử lý).
    - Clerks and agency leaders follow the document: open (04, 05) past its own deadline, or any
      part of its work past that part's deadline (also a co-operating part left open at 06).
    - Everyone else follows their own parts: an assignment of theirs past its own deadline.
    The list's "Hạn giải quyết" column shows the document's deadline, red when the document is late."""
    cutoff = overdue_cutoff(local_today())
    if is_front_desk(user):
        late_part = exists().where(Assignment.document_id == D.id, *_late_part(cutoff)).correlate(D)
        # never NULL (a document without its own deadline is FALSE here, not unknown): "Sắp đến hạn" negates it
        return or_(and_(D.status.in_(OPEN_STATUSES), D.due_date.is_not(None), D.due_date <= cutoff),
                   and_(D.status.in_(WORK_STATUSES), late_part))
    return and_(D.status.in_(WORK_STATUSES), _has_mine(user, *_late_part(cutoff)))


def _due_soon(user: User) -> ColumnElement[bool]:
    """Sắp đến hạn (SPEC §5.6): not yet late, due within ``DUE_SOON_WORKING_DAYS`` working days (today
    included); the same two deadlines as "Quá hạn", each followed by the same people. The front desk follows
    each document's earliest limit, so a document already in "Quá hạn" is not also here."""
    today = local_today()
    cutoff, soon = overdue_cutoff(today), due_soon_cutoff(today, due_soon_days())
    window = (Assignment.deadline > cutoff, Assignment.deadline <= soon, Assignment.state.in_(_OPEN_STATES),
              Assignment.role != AssignmentRole.INFORM)
    if is_front_desk(user):
        part = exists().where(Assignment.document_id == D.id, *window).correlate(D)
        soon_here = or_(and_(D.status.in_(OPEN_STATUSES), D.due_date > cutoff, D.due_date <= soon),
                        and_(D.status.in_(WORK_STATUSES), part))
        return and_(soon_here, ~_overdue(user))
    return and_(D.status.in_(WORK_STATUSES), _has_mine(user, *window))


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    predicate: Callable[[User], ColumnElement[bool]]
    roles: frozenset[Role] | None = None  # None: everyone who handles documents
    action: bool = True  # counted on the navigation as work waiting

    def available(self, user: User) -> bool:
        return self.roles is None or user.has_role(*self.roles)


_CLERK = frozenset({Role.CLERK})  # the front desk's queues are the clerk's work (an agency leader may not accept)
_LEADERS = frozenset({Role.AGENCY_LEADER, Role.UNIT_HEAD})

QUEUES: dict[str, Queue] = {q.slug: q for q in (
    Queue("cho-tiep-nhan", "Chờ tiếp nhận", lambda u: D.status == S.ARRIVED, _CLERK),
    Queue("cho-vao-so", "Chờ vào sổ", lambda u: and_(D.status == S.REGISTERED, D.arrival_number.is_(None)),
          frozenset({Role.CLERK})),
    Queue("cho-trinh", "Chờ trình", lambda u: and_(D.status == S.REGISTERED, D.arrival_number.is_not(None)),
          frozenset({Role.CLERK})),
    Queue("cho-phan-phoi", "Chờ phân phối", lambda u: and_(D.status == S.PRESENTED, D.presented_to_id == u.id),
          _LEADERS),
    Queue("cho-xu-ly", "Chờ xử lý", _waiting),
    Queue("dang-xu-ly", "Đang xử lý", _working, action=False),
    Queue("sap-den-han", "Sắp đến hạn", _due_soon, action=False),
    Queue("qua-han", "Quá hạn", _overdue),
    Queue("da-hoan-thanh", "Đã hoàn thành", lambda u: D.status == S.DONE, action=False),
    Queue("tat-ca", "Tất cả", lambda u: true(), action=False),
)}


def queues_for(user: User) -> list[Queue]:
    return [q for q in QUEUES.values() if q.available(user)]


def default_queue(user: User) -> Queue:
    if user.has_role(Role.CLERK):
        return QUEUES["cho-tiep-nhan"]
    return QUEUES["cho-xu-ly"]


@dataclass
class Filters:
    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    urgent: bool = False
    organ: str = ""
    type_id: int | None = None
    status: str = ""
    assignee_id: int | None = None
    assignee_name: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def active(self) -> bool:
        return bool(self.q or self.date_from or self.date_to or self.urgent or self.organ or self.type_id
                     or self.status or self.assignee_id or self.assignee_name)


def filter_clause(filters: Filters) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if filters.q:
        key = parse_code(filters.q)
        if key is not None:
            clauses.append(D.code_key == key)  # "15/QĐ-UBND": that số and ký hiệu exactly
        else:
            for word in words(filters.q):
                pattern = f"%{word}%"
                clauses.append(or_(D.subject_folded.like(pattern), D.organ_name_folded.like(pattern)))
    if filters.date_from:  # days in Vietnam time, whatever the database's zone
        clauses.append(D.arrived_at >= local_midnight(filters.date_from))
    if filters.date_to:
        clauses.append(D.arrived_at < local_midnight(filters.date_to + timedelta(days=1)))
    if filters.urgent:
        clauses.append(D.urgency >= int(Urgency.URGENT))
    if filters.organ:
        for word in words(filters.organ):
            clauses.append(D.organ_name_folded.like(f"%{word}%"))
    if filters.type_id:
        clauses.append(D.document_type_id == filters.type_id)
    if filters.status:
        clauses.append(D.status == S(filters.status))
    if filters.assignee_id:
        clauses.append(exists().where(Assignment.document_id == D.id,
                                      Assignment.assignee_user_id == filters.assignee_id).correlate(D))
    if filters.assignee_name:
        names = [User.full_name_folded.like(f"%{w}%") for w in words(filters.assignee_name)]
        clauses.append(exists().where(Assignment.document_id == D.id, Assignment.assignee_user_id == User.id,
                                      *names).correlate(D))
    return clauses


def _base(user: User, queue: Queue, filters: Filters) -> Select:
    return select(D).where(visible_clause(user), queue.predicate(user), *filter_clause(filters))


@dataclass
class Page:
    rows: list[IncomingDocument]
    next_cursor: str | None
    first: bool


def page(user: User, queue: Queue, filters: Filters, cursor: str | None = None,
         size: int | None = None) -> Page:
    """One page, newest (and urgent) first, after ``cursor`` (the last row's sort key). The sort
    key is unique, so a page never repeats or skips a row while others register documents."""
    size = size or PAGE_SIZE
    if is_front_desk(user):
        stmt = _base(user, queue, filters)
        if cursor:
            stmt = stmt.where(D.sort_key < cursor)
    else:
        stmt = select(D).where(D.organisation_id == org_id(user),
                               D.sort_key.in_(_participant_keys(user, queue, filters, cursor, size + 1)))
    rows = list(session.execute(stmt.order_by(D.sort_key.desc()).limit(size + 1)).scalars())
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows=rows, next_cursor=rows[-1].sort_key if more and rows else None, first=not cursor)


def _participant_keys(user: User, queue: Queue, filters: Filters, cursor: str | None, limit: int) -> Select:
    """The sort keys of a participant's page, found without walking the organisation: each way
    they reach a document (``services.participation``) is walked newest first through its own
    index (the assignment rows carry their document's sort key) and stops after ``limit``
    matches; the page is the newest ``limit`` of their union. Each walk reads about one page of
    index entries, however long the person's history. The same rows as ``visible_clause``, in the
    same order. (A sort key names one document: it ends with the id.)"""
    conditions = [participant_scope(user), queue.predicate(user), *filter_clause(filters)]
    if cursor:
        conditions.append(D.sort_key < cursor)
    on_document, on_assignment = participation(user)
    walks = [select(D.sort_key.label("k")).where(route, *conditions).correlate(None)
             .order_by(D.sort_key.desc()).limit(limit).subquery() for route in on_document]
    a = Assignment
    for route in on_assignment:
        # DISTINCT on the key alone keeps the index order (no sort), so the walk stops early
        walk = (select(a.sort_key.label("k")).join(D, D.id == a.document_id).where(route, *conditions)
                .correlate(None).distinct().order_by(a.sort_key.desc()).limit(limit))
        if cursor:
            walk = walk.where(a.sort_key < cursor)
        walks.append(walk.subquery())
    keys = union(*(select(w.c.k) for w in walks)).subquery()
    return select(keys.c.k).order_by(keys.c.k.desc()).limit(limit)


def count(user: User, queue: Queue, filters: Filters | None = None, cap: int = COUNT_CAP) -> int:
    """Counted up to ``cap`` + 1 (shown as "999+")."""
    inner = select(D.id).where(visible_clause(user), queue.predicate(user),
                               *filter_clause(filters or Filters())).limit(cap + 1).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar_one()


def action_counts(user: User) -> dict[str, int]:
    """The navigation badges: work waiting in each action queue of this person."""
    if user.organisation is None:
        return {}
    return {q.slug: count(user, q) for q in queues_for(user) if q.action}



def overdue_count(user: User) -> int:
    """The "Quá hạn" tab's figure from the inbox's items (one read of their owner index; the predicate above
    scans the organisation's documents at 1,000,000 of them, bench/inbox.py). The same documents as
    ``_overdue``: the front desk follows each document's earliest limit, everyone else their own parts'."""
    from portal.inbox import queries as inbox

    return inbox.subjects_due_by(session(), user, _followed(user), overdue_cutoff(local_today()))


def due_soon_count(user: User) -> int:
    """The "Sắp đến hạn" tab's figure, the same way: the items whose limit is after the overdue cutoff and within
    the due-soon window (the same documents as ``_due_soon``)."""
    from portal.inbox import queries as inbox

    today = local_today()
    return inbox.subjects_due_by(session(), user, _followed(user), due_soon_cutoff(today, due_soon_days()),
                                 after=overdue_cutoff(today))


def _followed(user: User) -> tuple[str, ...]:
    """The inbox queues whose items carry the limits this person follows (see ``_overdue``)."""
    return ("incoming.theo-doi",) if is_front_desk(user) else ("incoming.cho-xu-ly", "incoming.dang-xu-ly")
