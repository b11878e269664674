"""A throwaway database for a bench run: a file in the run's folder for SQLite, a fresh database on the local
PostgreSQL (dropped afterwards) otherwise. Shared by the bench scripts (they run with bench/ on the path)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES = os.environ.get("PORTAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def database(kind: str, tmp: str | os.PathLike[str]) -> tuple[str, Callable[[], None]]:
    """(url, drop)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp}/bench.db", lambda: None
    name = f"portal_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), drop
