"""Engine, the request-scoped session and the declarative base.

One transaction per request: services ``flush()`` at most; ``init_app`` commits once when the
response is below 500 and rolls back otherwise, so a change and its audit row land together.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g
from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored in UTC. SQLite keeps no zone, so values come back naive; this type
    makes both databases return aware UTC values and refuses naive ones on the way in (a naive
    local time silently stored as UTC would shift every deadline by seven hours)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime nhận giá trị có múi giờ (aware datetime).")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry their Vietnamese label: ``CLERK = "clerk", "Văn thư"``."""

    _label: str

    def __new__(cls, value: str, label: str = "") -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    @property
    def label(self) -> str:
        return self._label


def str_enum(cls: type[enum.Enum], length: int = 20) -> Enum:
    """Enums stored as their values in a plain string column (no native PostgreSQL enum, whose
    changes need their own migrations), identical on both databases."""
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


session = scoped_session(sessionmaker(expire_on_commit=False))


def _sqlite_setup(engine: Engine) -> None:
    """pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; we emit BEGIN
    ourselves. ``BEGIN IMMEDIATE`` takes the write lock at the start, so a transaction that reads
    a counter and then writes it can never fail half-way with SQLITE_BUSY (WAL snapshots cannot be
    upgraded) and two registrations never read the same counter value."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql"):
        # psycopg prepares a statement after five runs and PostgreSQL may then reuse one generic
        # plan that cannot see the search words ('%van%' vs '%quyet%'): plan for the values given
        # Parallel workers: each page runs small index walks that stop after one page; at 1,000,000
        # documents PostgreSQL chose parallel plans for them that read 10-40 times more rows and,
        # with 32 connections on two cores, only added processes (measured: a unit head's list
        # 195 → 69 ms without). Reports and registers are fast enough without them. JIT: its
        # compile time (~60 ms) was most of a list whose estimated cost crossed jit_above_cost.
        kwargs.setdefault("connect_args", {}).setdefault(
            "options", "-c plan_cache_mode=force_custom_plan -c max_parallel_workers_per_gather=0 -c jit=off")
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _sqlite_setup(engine)
    return engine


def keep_on_error() -> None:
    """Commit this request's transaction even though the answer is a 5xx: for an outage whose
    audit row must survive (a directory that does not answer), never for a half-done change."""
    g.keep_transaction = True


def init_app(app: Flask) -> Engine:
    engine = make_engine(app.config["DATABASE_URL"], pool_pre_ping=True)
    app.extensions["engine"] = engine
    session.configure(bind=engine)

    @app.after_request
    def _commit(response):  # type: ignore[no-untyped-def]
        # 4xx answers commit too: their handlers roll back any half-done change first and then
        # record the denial or failed sign-in, which must survive.
        if response.status_code < 500 or g.pop("keep_transaction", False):
            session.commit()
        else:
            session.rollback()
        return response

    @app.teardown_appcontext
    def _remove(exc: BaseException | None) -> None:
        if exc is not None:
            session.rollback()
        session.remove()

    return engine


def utcnow() -> datetime:
    return datetime.now(UTC)
