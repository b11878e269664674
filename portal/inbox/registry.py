"""What each feature declares to the inbox "Việc của tôi" (issue 18 item 1): its queues and, for any set of
its subjects (documents, drafts, weeks), the work items they put on people. The inbox knows no feature: a
feature calls ``register`` when its package is imported, so a later feature adds its queues without editing
the inbox. No Flask here.

An item is owned by a person (``user``), by a unit (``unit``: whoever heads it reads it) or by an
organisation (``org``: its people who hold one of the queue's roles read it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from portal.auth.models import Role

USER, UNIT, ORG = "user", "unit", "org"


@dataclass(frozen=True)
class QueueInfo:
    key: str  # "<source>.<slug>": the slug is the feature's own list queue where it has one
    label: str  # what the person must do, as the inbox row says it: "Chờ ký"
    roles: frozenset[Role] | None = None  # for organisation-owned items: who of the organisation reads them
    action: bool = True  # counted on the menu badge as work waiting (False: followed, not waiting)
    actions: tuple[str, ...] = ()  # the steps of the feature's transition table an owner takes from here
    listed: bool = True  # shown in the inbox (False: kept only for a figure, e.g. a list's "Quá hạn")


@dataclass(frozen=True)
class Item:
    """One thing one owner must do on one subject. ``due_day`` is the day its limit falls on (the local day of
    ``due_at`` when the limit has a time: registration, issuance); it orders the inbox and buckets the counters."""

    subject_id: int
    owner_kind: str
    owner_id: int
    queue: str
    due_day: date | None = None
    due_at: datetime | None = None
    urgency: int = 0
    title: str = ""
    reference: str = ""
    # when the work began, if the source knows it (an arrival's time, a phiếu's): kept from the item's first
    # appearance, so a rebuild (or the first fill of an existing database) does not make old work look new
    since: datetime | None = None

    def key(self) -> tuple[int, str, int, str]:
        return (self.subject_id, self.owner_kind, self.owner_id, self.queue)


@dataclass
class Source:
    """A feature's declaration. ``watch`` maps each model whose rows move the work to the subject a row belongs
    to; ``items`` gives the current items of some subjects; ``candidates`` every subject that may have items
    now (for the nightly rebuild); ``lock`` the subject table, locked before its items are rewritten."""

    name: str
    label: str
    model: type[Any]
    queues: dict[str, QueueInfo]
    watch: dict[type[Any], Callable[[Session, Any], int | None]]
    items: Callable[[Session, Collection[int]], Iterable[Item]]
    candidates: Callable[[Session], Iterable[int]]
    endpoint: str  # the subject's page: url_for(endpoint, **{id_arg: subject_id})
    id_arg: str
    steps: frozenset[str] = frozenset()  # every action of the feature's transition tables


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    if source.name in SOURCES and SOURCES[source.name] is not source:
        raise ValueError(f"inbox source {source.name!r} is registered twice")
    for key, queue in source.queues.items():
        if not key.startswith(source.name + "."):
            raise ValueError(f"queue {key!r} must start with {source.name!r}.")
        if (queue.listed and not queue.actions) or not set(queue.actions) <= source.steps:
            raise ValueError(f"queue {key!r} must name steps of the feature's transition table: {queue.actions}")
    SOURCES[source.name] = source
    return source


def queue(key: str) -> QueueInfo | None:
    source = SOURCES.get(key.split(".", 1)[0])
    return source.queues.get(key) if source else None


def all_queues() -> dict[str, QueueInfo]:
    return {k: q for s in SOURCES.values() for k, q in s.queues.items()}
