"""Keeping the inbox true (issue 18 item 1): work items and their counts are written in the transaction that
moves the work, never recounted on a page.

- After every flush, the rows of a watched model (each source's ``watch``) name the subjects they touched.
- Before the transaction commits (``settle``), each touched subject is locked, its current items are computed
  by its feature, compared with the stored ones, and only the difference is written: items inserted, updated
  or deleted, and each counter (owner, queue, due day) moved by +1/−1 with an upsert, in key order so two
  transactions never wait on each other's counters.
- ``rebuild`` recomputes every subject and every counter from scratch and fixes what differs; the nightly job
  runs it and reports how much it had to fix (it must be nothing). ``verify`` only compares.

A subject touched in a transaction that rolls back is recomputed at the next commit: recomputing is
idempotent, so touching too much costs time, never truth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import Any

from sqlalchemy import bindparam, delete, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.inbox.models import NO_DAY, WorkCount, WorkItem
from portal.inbox.registry import SOURCES, Item, Source

TOUCHED = "inbox_touched"
CHUNK = 500
W = WorkItem.__table__
C = WorkCount.__table__
CountKey = tuple[str, int, str, date]


def _watchers() -> dict[type[Any], list[tuple[str, Any]]]:
    found: dict[type[Any], list[tuple[str, Any]]] = {}
    for source in SOURCES.values():
        for model, resolve in source.watch.items():
            found.setdefault(model, []).append((source.name, resolve))
    return found


@event.listens_for(Session, "after_flush")
def _collect(db: Session, _context: Any) -> None:
    if not SOURCES:
        return
    watchers = _watchers()
    touched: dict[str, set[int]] = db.info.setdefault(TOUCHED, {})
    for obj in chain(db.new, db.dirty, db.deleted):
        for name, resolve in watchers.get(type(obj), ()):
            subject = resolve(db, obj)
            if subject is not None:
                touched.setdefault(name, set()).add(subject)


@event.listens_for(Session, "before_commit")
def _before_commit(db: Session) -> None:
    settle(db)


def touch(db: Session, source: str, ids: Iterable[int]) -> None:
    """For writes the ORM does not see (bulk UPDATE statements on a watched table)."""
    db.info.setdefault(TOUCHED, {}).setdefault(source, set()).update(ids)


def settle(db: Session) -> int:
    """Bring the touched subjects' items and counts up to date in this transaction; the number of items changed."""
    changed = 0
    for _ in range(10):
        db.flush()  # changes not flushed yet name their subjects now, not in the commit's own flush after this
        touched = db.info.pop(TOUCHED, None)
        if not touched:
            return changed
        for name, ids in sorted(touched.items()):
            source = SOURCES.get(name)
            if source is not None and ids:
                changed += recompute(db, source, ids)
    raise RuntimeError("inbox: touched subjects did not settle")


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


def _fields(item: Item) -> tuple[Any, ...]:
    return (item.due_day, item.due_at, int(item.urgency or 0), (item.title or "")[:300], (item.reference or "")[:120])


def _stored_fields(row: Any) -> tuple[Any, ...]:
    return (row.due_day, row.due_at, int(row.urgency or 0), row.title, row.reference)


@dataclass
class Diff:
    deleted: list[Any] = field(default_factory=list)  # stored rows
    inserted: list[Item] = field(default_factory=list)
    updated: list[tuple[Any, Item]] = field(default_factory=list)
    counts: Counter[CountKey] = field(default_factory=Counter)

    def __len__(self) -> int:
        return len(self.deleted) + len(self.inserted) + len(self.updated)


def _count_key(kind: str, owner: int, queue: str, day: date | None) -> CountKey:
    return (kind, owner, queue, day or NO_DAY)


def _diff(db: Session, source: Source, ids: list[int]) -> Diff:
    stored = {(r.subject_id, r.owner_kind, r.owner_id, r.queue): r for r in db.execute(
        select(W).where(W.c.source == source.name, W.c.subject_id.in_(ids)))}
    fresh: dict[tuple[int, str, int, str], Item] = {}
    for item in source.items(db, ids):
        if item.queue not in source.queues:
            raise ValueError(f"inbox: {source.name} gave an item of an undeclared queue {item.queue!r}")
        known = fresh.get(item.key())
        if known is None or (item.due_day or NO_DAY) < (known.due_day or NO_DAY):
            fresh[item.key()] = item
    diff = Diff()
    for key, row in stored.items():
        if key not in fresh:
            diff.deleted.append(row)
            diff.counts[_count_key(row.owner_kind, row.owner_id, row.queue, row.due_day)] -= 1
    for key, item in fresh.items():
        row = stored.get(key)
        if row is None:
            diff.inserted.append(item)
            diff.counts[_count_key(item.owner_kind, item.owner_id, item.queue, item.due_day)] += 1
        elif _stored_fields(row) != _fields(item):
            diff.updated.append((row, item))
            if row.due_day != item.due_day:
                diff.counts[_count_key(row.owner_kind, row.owner_id, row.queue, row.due_day)] -= 1
                diff.counts[_count_key(item.owner_kind, item.owner_id, item.queue, item.due_day)] += 1
    return diff


def _lock(db: Session, source: Source, ids: list[int]) -> None:
    model = source.model
    db.execute(select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update())


def _values(source: Source, item: Item) -> dict[str, Any]:
    due_day, due_at, urgency, title, reference = _fields(item)
    return {"source": source.name, "subject_id": item.subject_id, "owner_kind": item.owner_kind,
            "owner_id": item.owner_id, "queue": item.queue, "due_day": due_day, "due_at": due_at,
            "urgency": urgency, "title": title, "reference": reference}


def _apply(db: Session, source: Source, diff: Diff) -> None:
    if diff.deleted:
        db.execute(delete(W).where(W.c.id.in_([r.id for r in diff.deleted])))
    if diff.inserted:
        now = utcnow()
        db.execute(W.insert(), [{**_values(source, item), "since": item.since or now} for item in diff.inserted])
    if diff.updated:
        db.execute(update(W).where(W.c.id == bindparam("row_id")).values(
            due_day=bindparam("due_day"), due_at=bindparam("due_at"), urgency=bindparam("urgency"),
            title=bindparam("title"), reference=bindparam("reference")),
            [{"row_id": row.id, **{k: v for k, v in _values(source, item).items()
                                   if k in ("due_day", "due_at", "urgency", "title", "reference")}}
             for row, item in diff.updated])
    move_counts(db, diff.counts)


def move_counts(db: Session, deltas: Counter[CountKey]) -> None:
    """Add each delta to its counter with one upsert per key, in key order (no two transactions deadlock)."""
    rows = [{"owner_kind": k, "owner_id": o, "queue": q, "due_day": d, "n": n}
            for (k, o, q, d), n in sorted(deltas.items()) if n]
    if not rows:
        return
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert(C) if dialect == "postgresql" else sqlite.insert(C)
    stmt = insert.on_conflict_do_update(index_elements=[C.c.owner_kind, C.c.owner_id, C.c.queue, C.c.due_day],
                                        set_={"n": C.c.n + insert.excluded.n})
    for row in rows:  # one by one: executemany may reorder or batch, and the order is what avoids deadlocks
        db.execute(stmt, row)


def recompute(db: Session, source: Source, ids: Collection[int]) -> int:
    changed = 0
    for chunk in _chunks(ids):
        _lock(db, source, chunk)
        diff = _diff(db, source, chunk)
        if diff or diff.counts:
            _apply(db, source, diff)
        changed += len(diff)
    return changed


# --- the whole: nightly rebuild and verification -----------------------------------------------------------------

@dataclass
class Report:
    items: int = 0  # items that were missing, stale or extra
    counts: int = 0  # counters that did not match their items
    details: list[str] = field(default_factory=list)

    @property
    def agreed(self) -> bool:
        return self.items == 0 and self.counts == 0


def _subjects(db: Session, source: Source) -> set[int]:
    stored = db.scalars(select(W.c.subject_id).where(W.c.source == source.name).distinct())
    return set(source.candidates(db)) | set(stored)


def _true_counts(db: Session) -> Counter[CountKey]:
    rows = db.execute(select(W.c.owner_kind, W.c.owner_id, W.c.queue, W.c.due_day, func.count())
                      .group_by(W.c.owner_kind, W.c.owner_id, W.c.queue, W.c.due_day))
    truth: Counter[CountKey] = Counter()
    for kind, owner, queue, day, n in rows:
        truth[_count_key(kind, owner, queue, day)] += n
    return truth


def _stored_counts(db: Session) -> Counter[CountKey]:
    return Counter({(k, o, q, d): n for k, o, q, d, n in db.execute(
        select(C.c.owner_kind, C.c.owner_id, C.c.queue, C.c.due_day, C.c.n).where(C.c.n != 0))})


def check(db: Session, *, fix: bool) -> Report:
    """Every subject's items against its feature, then every counter against the items. With ``fix`` the
    differences are written (the nightly rebuild); without, only reported (tests, ``portal inbox verify``)."""
    settle(db)
    report = Report()
    for source in SOURCES.values():
        for chunk in _chunks(_subjects(db, source)):
            if fix:
                _lock(db, source, chunk)
            diff = _diff(db, source, chunk)
            if diff:
                report.items += len(diff)
                report.details += [f"{source.name} #{r.subject_id}: thừa {r.queue} ({r.owner_kind} {r.owner_id})"
                                   for r in diff.deleted]
                report.details += [f"{source.name} #{i.subject_id}: thiếu {i.queue} ({i.owner_kind} {i.owner_id})"
                                   for i in diff.inserted]
                report.details += [f"{source.name} #{i.subject_id}: sai {i.queue} ({i.owner_kind} {i.owner_id})"
                                   for _r, i in diff.updated]
                if fix:
                    _apply(db, source, diff)
    undeclared = W.c.source.not_in(list(SOURCES))  # items of a feature no longer there
    if fix:
        db.execute(delete(W).where(undeclared))
        if db.get_bind().dialect.name == "postgresql":
            # no step may move items or counters while they are compared (to the end of this transaction;
            # SQLite writes one at a time anyway)
            db.execute(text("LOCK TABLE work_items, work_counts IN SHARE ROW EXCLUSIVE MODE"))
    else:
        report.items += int(db.execute(select(func.count()).select_from(W).where(undeclared)).scalar_one())
    truth, stored = _true_counts(db), _stored_counts(db)
    deltas: Counter[CountKey] = Counter()
    for key in set(truth) | set(stored):
        if truth[key] != stored[key]:
            deltas[key] = truth[key] - stored[key]
            report.details.append(f"đếm {key}: lưu {stored[key]}, đúng {truth[key]}")
    report.counts = len(deltas)
    if fix:
        move_counts(db, deltas)
        db.execute(delete(C).where(C.c.n == 0))
    return report


def verify(db: Session) -> Report:
    return check(db, fix=False)


def rebuild(db: Session) -> Report:
    return check(db, fix=True)
