"""Workflows as data, and the step machine every workflow runs on (STYLE §6, issue 14).

A workflow is one table: action → ``Transition`` (the states it starts from, who may act, the next
state, the form, the title). Everything that asks "may this person do this now?" reads the table:

- the service guard (``Workflow.guard``) that every step function calls first, with the object
  **loaded under a row lock** (``lock``): ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every
  transaction already holds the write lock from its start (``BEGIN IMMEDIATE`` in ``portal.db``);
- the actions a page offers (``Workflow.allowed``);
- the permission-matrix and concurrency tests, which iterate over ``REGISTRY``.

A request that repeats a step already done (a double click, a resubmitted form, two identical
requests at the same moment) finds, under the lock, that the state has moved on. The transition's
``done`` callable then says what already happened ("Văn bản đã được vào sổ số 03 lúc 09:12") and
``AlreadyDone`` is raised instead of NotAllowed: nothing changes, the web layer answers with the
object's page and that notice (200 after the redirect, 409 for htmx), and one audit row records the
repetition, never a second step.

This module is core: it knows no feature. Features declare their tables and register them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from portal.errors import DomainError, NotAllowed, NotFound

T = TypeVar("T")


class AlreadyDone(DomainError):
    """The step this request asks for has already happened (by this person or another): nothing was
    changed. ``str(exc)`` says what happened and when; ``url`` is where the object can be seen."""

    def __init__(self, message: str, url: str | None = None, *, action: str = "") -> None:
        self.url = url
        self.action = action
        super().__init__(message)


Who = Callable[[Any, Any], bool]          # (user, obj) → may act
When = Callable[[Any], bool]               # (obj) → the object is in the right shape beyond its state
Done = Callable[[Any, Any], "str | None"]  # (user, obj) → what already happened, if this step did


@dataclass(frozen=True)
class Transition:
    action: str
    title: str
    frm: frozenset[Any]
    who: Who
    to: Any = None  # the next state; None: the state stays (progress notes, reminders)
    form: type | None = None
    when: When | None = None
    done: Done | None = None
    refusal: str | None = None  # what the person is told when ``who`` says no


def step(action: str, title: str, frm: Iterable[Any], who: Who, to: Any = None, **kw: Any) -> Transition:
    return Transition(action=action, title=title, frm=frozenset(frm), who=who, to=to, **kw)


@dataclass
class Workflow(Generic[T]):
    """One table. ``state`` reads an object's state; ``label`` names a state for messages."""

    name: str
    transitions: dict[str, Transition]
    state: Callable[[Any], Any] = field(default=lambda obj: obj.status)
    label: Callable[[Any], str] = field(default=lambda obj: str(getattr(obj, "status_label", obj.status)))

    def __post_init__(self) -> None:
        REGISTRY[self.name] = self

    def __getitem__(self, action: str) -> Transition:
        return self.transitions[action]

    def open(self, action: str, obj: T) -> bool:
        """The object is where this step starts, whoever asks."""
        t = self.transitions[action]
        return self.state(obj) in t.frm and (t.when is None or t.when(obj))

    def may(self, user: Any, action: str, obj: T) -> bool:
        return self.open(action, obj) and self.transitions[action].who(user, obj)

    def allowed(self, user: Any, obj: T) -> set[str]:
        """The actions the page offers: exactly those ``guard`` would let through."""
        return {action for action in self.transitions if self.may(user, action, obj)}

    def guard(self, user: Any, action: str, obj: T) -> Transition:
        """Call with ``obj`` loaded under ``lock``. Passes, or raises AlreadyDone (the step happened:
        a repeat) or NotAllowed (wrong state or wrong person)."""
        t = self.transitions[action]
        if not self.open(action, obj):
            already = t.done(user, obj) if t.done else None
            if already:
                raise AlreadyDone(already, action=f"{self.name}.{action}")
            raise NotAllowed(f"{self.name}.{action}",
                             f"Không thể “{t.title.lower()}” ở trạng thái “{self.label(obj)}”.")
        if not t.who(user, obj):
            raise NotAllowed(f"{self.name}.{action}", t.refusal or "Bạn không phải người được thực hiện bước này.")
        return t


REGISTRY: dict[str, Workflow[Any]] = {}


# --- the page's one main button (issue 18.3) ---------------------------------------------------------

@dataclass(frozen=True)
class Preference:
    """A feature's order of preference among the steps its pages offer: of the steps the person may
    take now, the first is the page's main button and the rest its menu. ``ask_first``: steps that
    cannot be undone, whose form opens only when asked for even as the main button."""

    order: tuple[str, ...]
    ask_first: frozenset[str] = frozenset()

    def ranked(self, allowed: Iterable[str]) -> list[str]:
        offered = set(allowed)
        return [action for action in self.order if action in offered]

    def primary(self, allowed: Iterable[str]) -> str | None:
        return next(iter(self.ranked(allowed)), None)


def preference(order: Sequence[str], actions: Collection[str], ask_first: Iterable[str] = ()) -> Preference:
    """Checked when the feature's module loads: ``order`` must name every step a page can offer
    exactly once, so a step added to a table without a rank fails at start-up instead of never
    being the main button."""
    missing, unknown = set(actions) - set(order), (set(order) | set(ask_first)) - set(actions)
    if missing or unknown or len(set(order)) != len(order):
        raise ValueError(f"order of preference: missing {sorted(missing)}, unknown {sorted(unknown)}, "
                         f"or a step named twice in {list(order)}")
    return Preference(tuple(order), frozenset(ask_first))


def lock(db: Session, model: type[T], ident: int) -> T | None:
    """The row, locked until the transaction ends: ``SELECT … FOR UPDATE`` on PostgreSQL (a second
    request for the same row waits here, then sees the first one's result). SQLite has no row locks;
    its transactions start with ``BEGIN IMMEDIATE``, so the second request waits for the whole first
    transaction instead. ``populate_existing`` re-reads a row the session already holds."""
    return db.get(model, ident, with_for_update=True, populate_existing=True)


def relock(db: Session, obj: T) -> T:
    """Lock an object already loaded (by a visibility check that read it without a lock) and re-read
    it, so the state checked next is the committed one."""
    state = db.get(type(obj), obj.id, with_for_update=True, populate_existing=True)  # type: ignore[attr-defined]
    if state is None:
        raise NotFound("Không tìm thấy.")
    return state
