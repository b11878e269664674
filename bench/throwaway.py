"""A throwaway database for a bench run: a file in the run's folder for SQLite, a fresh database on the local
PostgreSQL (dropped afterwards) otherwise. Shared by the bench scripts (they run with bench/ on the path)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES = os.environ.get("PORTAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def database(kind: str, tmp: str | os.PathLike[str], keep: bool = False) -> tuple[str, Callable[[], None]]:
    """(url, drop). ``keep``: a SQLite file outside the run's folder, and a drop that keeps the database."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="portal_bench_") if keep else tmp
        return f"sqlite:///{folder}/bench.db", lambda: None
    name = f"portal_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        if keep:
            admin.dispose()
            return
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), drop


def loaded_user(username: str):  # type: ignore[no-untyped-def]
    """The person as the session loader builds them, detached so it outlives each request's session."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from portal.auth.models import Position, User
    from portal.db import session

    user = session.execute(select(User).where(User.username == username).options(
        selectinload(User.positions).selectinload(Position.roles),
        selectinload(User.positions).selectinload(Position.organisation),
        selectinload(User.positions).selectinload(Position.unit))).scalar_one()
    user.current_position = user.positions[0]
    session.remove()
    return user
