"""The kind registry: what a job row's ``kind`` runs. A feature registers its kinds when its module
is imported (``create_app`` imports every blueprint, so the web workers and the consumer know the
same kinds)::

    @jobs.kind("registers.book", max_attempts=3, on_failed=book_failed)
    def make_book(report_job_id: int) -> None: ...

A handler gets the row's JSON arguments as keyword arguments and runs inside an application
context with the scoped ``session``; what it commits stays even if a later attempt runs again, so
handlers must be idempotent (a job runs at least once, and again after a consumer dies).
``on_failed(job)`` runs in its own transaction when the last attempt failed or was lost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.jobs.models import Job


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Callable[..., Any]
    max_attempts: int = 3
    on_failed: Callable[[Job], None] | None = None


KINDS: dict[str, Kind] = {}


def kind(name: str, *, max_attempts: int = 3,
         on_failed: Callable[[Job], None] | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        if name in KINDS and KINDS[name].handler is not handler:
            raise ValueError(f"job kind {name!r} is registered twice")
        KINDS[name] = Kind(name, handler, max_attempts, on_failed)
        return handler
    return register


def get(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise LookupError(f"unknown job kind {name!r}") from None
