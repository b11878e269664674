"""Reading the inbox (issue 18 item 1): whose items a person sees, their counts from the counters, and the
page of items. Two statements per page at most, whatever the size of the province. No Flask here.

A person reads their own items, their unit's if they head it in their current position, and their
organisation's in the queues one of their roles may work.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from portal.auth.models import Role, User
from portal.inbox.maintain import settle
from portal.inbox.models import NO_DAY, WorkCount, WorkItem
from portal.inbox.registry import ORG, SOURCES, UNIT, USER, all_queues
from portal.timeutil import local_today, now_utc
from portal.workdays.calendar import due_soon_cutoff, overdue_cutoff
from portal.workdays.limits import due_soon_days

PAGE_SIZE = 50  # a page of the inbox; the rest behind "Trang sau" (bench/inbox.py: ~0.2 ms of rendering per row)


@dataclass(frozen=True)
class Owners:
    user_id: int
    unit_id: int | None
    organisation_id: int | None
    org_queues: tuple[str, ...]  # the organisation's queues this person's roles may work


def owners_of(user: User) -> Owners:
    position = user.current_position
    roles = position.role_set if position is not None else set()
    unit = position.unit_id if position is not None and Role.UNIT_HEAD in roles else None
    org = user.organisation.id if user.organisation is not None else None
    queues = tuple(sorted(key for key, q in all_queues().items() if q.roles is None or roles & q.roles))
    return Owners(user.id, unit, org, queues)


def _clause(table: type[WorkItem] | type[WorkCount], owners: Owners) -> ColumnElement[bool]:
    parts = [and_(table.owner_kind == USER, table.owner_id == owners.user_id)]
    if owners.unit_id is not None:
        parts.append(and_(table.owner_kind == UNIT, table.owner_id == owners.unit_id))
    if owners.organisation_id is not None and owners.org_queues:
        parts.append(and_(table.owner_kind == ORG, table.owner_id == owners.organisation_id,
                          table.queue.in_(owners.org_queues)))
    return or_(*parts) if parts else false()


@dataclass
class Counts:
    queues: Counter[str] = field(default_factory=Counter)  # every queue's items
    overdue: int = 0  # action items whose limit's day is past
    due_soon: int = 0  # action items due within the due-soon window, not yet late
    today: date | None = None

    @property
    def waiting(self) -> int:
        """Work waiting: the items of every action queue (the home page's and the bell's figure)."""
        queues = all_queues()
        return sum(n for key, n in self.queues.items() if key in queues and queues[key].action)

    def of_source(self, source: str) -> int:
        """The menu badge of one feature: its action items."""
        queues = all_queues()
        return sum(n for key, n in self.queues.items()
                   if key.startswith(source + ".") and key in queues and queues[key].action)

    def listed(self, source: str | None = None) -> int:
        """The items the inbox lists (of one feature, or all): how many pages ``page`` has."""
        queues = all_queues()
        return sum(n for key, n in self.queues.items() if key in queues and queues[key].listed
                   and (source is None or key.startswith(source + ".")))

    def slugs(self, source: str) -> dict[str, int]:
        """The feature's own list tabs: slug → items, for its action queues."""
        queues = all_queues()
        return {key.split(".", 1)[1]: n for key, n in self.queues.items()
                if key.startswith(source + ".") and key in queues and queues[key].action}


def counts(db: Session, user: User, today: date | None = None) -> Counts:
    """From the counters: one grouped read of a few rows per owner (one per queue and due day)."""
    settle(db)  # this request's own step first, so the page it answers with counts it
    today = today or local_today()
    late, soon = overdue_cutoff(today), due_soon_cutoff(today, due_soon_days())
    owners = owners_of(user)
    c = WorkCount
    rows = db.execute(select(c.queue, c.due_day, func.sum(c.n)).where(_clause(c, owners))
                      .group_by(c.queue, c.due_day))
    result = Counts(today=today)
    queues = all_queues()
    for queue, day, n in rows:
        n = int(n or 0)
        result.queues[queue] += n
        if day == NO_DAY or queue not in queues or not queues[queue].action:
            continue
        if day <= late:
            result.overdue += n
        elif day <= soon:
            result.due_soon += n
    return result


def late_by_the_hour(db: Session, user: User, counted: Counts, now: datetime) -> Counts:
    """The figures to the hour: an item whose limit has a time (registration the same working day, issuance by
    12:00, Thượng khẩn in 2 working hours) and is past it today counts as late, not as due soon as its day's
    counter says. One count over today's items on the owner index; only the home page's figures need it."""
    today = counted.today or local_today()
    w = WorkItem
    action = tuple(key for key, q in all_queues().items() if q.action)
    late = int(db.execute(select(func.count()).where(
        _clause(w, owners_of(user)), w.queue.in_(action), w.due_day > overdue_cutoff(today), w.due_day <= today,
        w.due_at.is_not(None), w.due_at <= now)).scalar_one())
    moved = min(late, counted.due_soon)
    return replace(counted, overdue=counted.overdue + moved, due_soon=counted.due_soon - moved)


@dataclass(frozen=True)
class Row:
    id: int
    source: str
    subject_id: int
    queue: str
    label: str
    title: str
    reference: str
    urgency: int
    due_day: date | None
    due_at: datetime | None
    since: datetime
    late: bool
    soon: bool


def page(db: Session, user: User, source: str | None = None, limit: int = PAGE_SIZE,
         today: date | None = None, offset: int = 0, now: datetime | None = None) -> list[Row]:
    """The person's items: late first, then due soon, then the most urgent, then by limit and age. Paged by
    offset: the order's first key (late, soon, later) moves with the day, so a cursor would not stay valid, and
    sorting reads every item of the person from the owner index anyway, so a later page costs about the same."""
    settle(db)
    today = today or local_today()
    late_day, soon_day = overdue_cutoff(today), due_soon_cutoff(today, due_soon_days())
    w = WorkItem
    passed = and_(w.due_day <= today, w.due_at.is_not(None), w.due_at <= (now or now_utc()))  # late by the hour
    bucket = case((w.due_day <= late_day, 0), (passed, 0), (w.due_day <= soon_day, 1), else_=2)
    # columns, not entities: a page of 100 items mapped as ORM objects cost 1.5–2 ms more at 1M (bench/inbox.py)
    listed = tuple(key for key, q in all_queues().items() if q.listed)
    stmt = select(w.id, w.source, w.subject_id, w.queue, w.title, w.reference, w.urgency, w.due_day, w.due_at,
                  w.since, bucket).where(_clause(w, owners_of(user)), w.queue.in_(listed))
    if source:
        stmt = stmt.where(w.source == source)
    stmt = stmt.order_by(bucket, w.urgency.desc(), w.due_day.asc().nulls_last(), w.since, w.id)
    stmt = stmt.limit(limit).offset(offset)
    queues = all_queues()
    rows = []
    for item_id, item_source, subject_id, key, title, reference, urgency, due_day, due_at, since, b in db.execute(stmt):
        queue = queues.get(key)
        if queue is None or item_source not in SOURCES:
            continue
        rows.append(Row(item_id, item_source, subject_id, key, queue.label, title, reference, urgency, due_day, due_at,
                        since, b == 0, b == 1))
    return rows


def subjects_due_by(db: Session, user: User, queues: tuple[str, ...], day: date, after: date | None = None) -> int:
    """Distinct subjects of these queues whose limit falls on or before ``day`` (and after ``after``), among the
    person's items: a feature's "Quá hạn" or "Sắp đến hạn" read from the items' owner index, never from the
    documents."""
    settle(db)
    w = WorkItem
    stmt = (select(func.count(func.distinct(w.subject_id)))
            .where(_clause(w, owners_of(user)), w.queue.in_(queues), w.due_day <= day))
    if after is not None:
        stmt = stmt.where(w.due_day > after)
    return int(db.execute(stmt).scalar_one())
