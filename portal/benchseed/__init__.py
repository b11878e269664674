"""A province's worth of realistic data for load tests (issue 7, SPEC §16): organisations in a
tree, people in every role, incoming documents with their assignments, deadlines (some overdue),
history and files, outgoing documents with the drafts they came from, over several years.

Bulk, never one ORM object at a time: ids are chosen here, so every row is written without
reading anything back. PostgreSQL gets one ``COPY`` stream per big table (each on its own
connection, foreign-key triggers off with ``session_replication_role``, the secondary and
trigram indexes dropped and rebuilt from their own definitions), then ``VACUUM ANALYZE``;
SQLite gets Core ``executemany`` in chunks, then ``ANALYZE``. Deterministic for a given seed.

Every generated person has the same password (``PASSWORD``): it is hashed once with the
application's argon2 settings and the hash reused. The derived columns are computed exactly as
``portal.incoming.services`` computes them (``sort_key``, ``code_key``, ``*_folded``), and the
register counters hold the last number each book used in each year. Used by ``flask portal
bench-seed`` and ``bench/incoming_list.py``. Needs an application context.

The package: ``content`` (constants, Vietnamese names and subjects, the sample PDF),
``organisations`` (the plan's ids and small tables), ``incoming`` and ``outgoing`` (the rows of
the big tables, drafts with the outgoing documents), ``writer`` (COPY / executemany); the fill
itself is here.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Engine, func, insert, select, text

from portal import storage
from portal.auth import passwords
from portal.benchseed.content import (
    CHUNK,
    CLERK,
    CLERK_SHARE,
    OPEN_DRAFT_SHARE,
    OUTGOING_SHARE,
    PASSWORD,
    SEED,
    TYPES,
    YEARS,
    person_name,
    sample_pdf,
)
from portal.benchseed.incoming import IncomingRows
from portal.benchseed.organisations import Org
from portal.benchseed.outgoing import OutgoingRows
from portal.benchseed.writer import (
    COLUMNS,
    ID_TABLES,
    STREAMED,
    _CopySink,
    _InsertSink,
    _rebuild_indexes,
    _secondary_indexes,
    _table,
)
from portal.db import session
from portal.documents.models import DocumentType, IncomingDocument, OutgoingDocument
from portal.inbox.maintain import rebuild

__all__ = [
    "CHUNK", "CLERK", "CLERK_SHARE", "COLUMNS", "ID_TABLES", "OPEN_DRAFT_SHARE", "OUTGOING_SHARE", "PASSWORD",
    "SEED", "STREAMED", "YEARS", "Org", "Plan", "Report", "fill", "has_documents", "person_name", "sample_pdf",
]


class Plan(IncomingRows, OutgoingRows):
    """The whole plan: its ids and small tables (``PlanBase``), the incoming rows and the
    outgoing rows with their drafts."""


# --- the whole fill ----------------------------------------------------------------------------------

@dataclass
class Report:
    seconds: float
    documents: int
    rows: dict[str, int]
    timings: dict[str, float]
    clerk: str
    usernames: list[str]

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def has_documents() -> bool:
    return any(session.execute(select(m.id).limit(1)).first() for m in (IncomingDocument, OutgoingDocument))


def _bases(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(select(func.coalesce(func.max(_table(t).c.id), 0))).scalar_one() + 1
                for t in ID_TABLES}


def _document_types(engine: Engine, base: int) -> list[int]:
    """The types the documents use: existing rows reused by name, missing ones added."""
    with engine.begin() as conn:
        existing = dict(conn.execute(select(DocumentType.name, DocumentType.id)).all())
        missing = [{"id": base + k, "name": name, "abbreviation": abbr, "is_normative": False, "active": True}
                   for k, (name, abbr, _w, _s) in enumerate(TYPES) if name not in existing]
        if missing:
            conn.execute(insert(DocumentType), missing)
    existing.update({row["name"]: row["id"] for row in missing})
    return [existing[name] for name, *_rest in TYPES]


def _sample_files(count: int = 4) -> list[tuple[str, int]]:
    """A few small PDFs stored once through portal.storage (so downloads verify their hash) and
    referenced by every generated row."""
    stored = [storage.save(sample_pdf(k + 1), f"van-ban-mau-{k + 1}.pdf") for k in range(count)]
    session.commit()
    return [(f.sha256, f.size) for f in stored]


def fill(n_documents: int, n_organisations: int, *, outgoing_share: float = OUTGOING_SHARE, seed: int = SEED,
         say: Callable[[str], None] = lambda _m: None) -> Report:
    """Write the province: ``n_documents`` documents, of which ``outgoing_share`` issued by the
    organisations (the rest incoming), over ``n_organisations`` organisations."""
    if n_organisations < 1:
        raise ValueError("n_organisations >= 1")
    engine: Engine = current_app.extensions["engine"]
    started = time.perf_counter()
    timings: dict[str, float] = {}
    base = _bases(engine)
    tag = "" if base["users"] == 1 else str(base["organisations"])
    n_out = round(n_documents * outgoing_share)
    plan = Plan(n_documents - n_out, n_out, n_organisations, random.Random(seed), base, tag)  # noqa: S311  (test data)
    plan.files = _sample_files()
    plan.type_ids = _document_types(engine, base["document_types"])
    password_hash = passwords.hash_password(PASSWORD)  # once: argon2 costs ~0.1 s per hash
    users, positions, roles = plan.people(password_hash)
    small = [("organisations", plan.organisations()), ("users", users), ("positions", positions),
             ("position_roles", roles), ("register_books", plan.books())]
    with engine.begin() as conn:
        for table, rows in small:
            conn.execute(insert(_table(table)), rows)
            plan.rows[table] = len(rows)
    timings["people_s"] = time.perf_counter() - started
    say(f"{len(plan.orgs)} cơ quan, {len(users)} người dùng ({timings['people_s']:.1f} s)")

    postgres = engine.dialect.name == "postgresql"
    indexes = _secondary_indexes(engine) if postgres else []
    if postgres:
        with engine.begin() as conn:
            for name, _definition in indexes:
                conn.execute(text(f'DROP INDEX "{name}"'))
    step = time.perf_counter()
    sink = _CopySink(engine) if postgres else _InsertSink(engine)
    try:
        for k, (table, row) in enumerate(itertools.chain(plan.incoming(), plan.outgoing())):
            sink.write(table, row)
            if k % 2_000_000 == 0 and k:
                say(f"  {k:,} dòng … {time.perf_counter() - step:.0f} s".replace(",", "."))
    except BaseException:
        sink.abort()
        raise
    sink.close()
    timings["load_s"] = time.perf_counter() - step
    say(f"Đã nạp {sum(plan.rows.get(t, 0) for t in STREAMED):,} dòng ({timings['load_s']:.1f} s)".replace(",", "."))
    step = time.perf_counter()
    if indexes:
        _rebuild_indexes(engine, indexes)
    timings["indexes_s"] = time.perf_counter() - step
    if indexes:
        say(f"Dựng lại {len(indexes)} chỉ mục ({timings['indexes_s']:.1f} s)")
    with engine.begin() as conn:
        counters = plan.register_counters()
        if counters:
            conn.execute(insert(_table("register_counters")), counters)
        plan.rows["register_counters"] = len(counters)
        if postgres:
            for table in ID_TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                  f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    step = time.perf_counter()
    inbox = rebuild(session())  # the loads bypass the ORM: the inbox's items and counters are made here
    session.commit()
    plan.rows["work_items"] = inbox.items
    timings["inbox_s"] = time.perf_counter() - step
    say(f"Hộp việc: {inbox.items:,} việc ({timings['inbox_s']:.1f} s)".replace(",", "."))
    step = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # VACUUM too on PostgreSQL: the visibility map a settled database has (index-only scans),
        # and no autovacuum of the fresh tables competing with the first measurements
        conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    timings["analyze_s"] = time.perf_counter() - step
    logins = [u["username"] for u in users]
    return Report(seconds=time.perf_counter() - started, documents=n_documents, rows=dict(plan.rows),
                  timings={k: round(v, 1) for k, v in timings.items()},
                  clerk=plan._login("vanthu", 0), usernames=logins)
