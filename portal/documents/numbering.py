"""Gap-free yearly numbers per register book (SPEC §4.3).

The counter row is locked in the caller's transaction and the numbered row is written in the
same one, so a failure rolls both back: no number is used, none is skipped. Two clerks saving at
once wait for each other on the lock; the unique (book, year, number) keys on the document
tables turn any remaining race into a loud error instead of a duplicate.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from portal.db import session
from portal.documents.models import RegisterBook, RegisterCounter


def _ensure_counter(book_id: int, year: int) -> None:
    """The first number of a year creates its counter; two first registrations racing on
    1 January must not both insert it, so the insert ignores a row that appeared meanwhile."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(RegisterCounter).values(book_id=book_id, year=year, last_number=0).on_conflict_do_nothing()
    )


def take_next(book: RegisterBook, year: int) -> int:
    _ensure_counter(book.id, year)
    # populate_existing: a counter loaded before the lock (earlier in this transaction, or in an
    # earlier one of a long-lived session) would otherwise keep its stale last_number
    counter = session.execute(
        select(RegisterCounter).where(RegisterCounter.book_id == book.id, RegisterCounter.year == year)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    counter.last_number += 1
    session.flush()
    return counter.last_number


def display(number: int | None) -> str:
    """Numbers below 10 take a leading zero: 01…09, 10, 125 (Phụ lục I II.3.c)."""
    return "" if number is None else f"{number:02d}"
