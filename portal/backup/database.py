"""The database side of a backup: one snapshot that the dump and the list of stored files share.

PostgreSQL: a REPEATABLE READ transaction exports its snapshot (``pg_export_snapshot()``), reads the
facts (audit head, schema revision, counts, the ``stored_files`` rows) and stays open while
``pg_dump --snapshot`` dumps exactly what it saw; writers carry on meanwhile. SQLite: the online
backup API copies the database at one instant (WAL readers do not block writers) and the facts are
read from that copy, so they cannot disagree with it either.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from portal.backup.parts import CHUNK, BackupError, file_chunks

# The rows a manifest counts and the drill compares after a restore.
COUNTED = ("organisations", "users", "incoming_documents", "outgoing_documents", "drafts", "stored_files",
           "audit_log", "register_counters")


@dataclass
class Facts:
    """What the snapshot holds, read inside it."""

    revision: str | None
    audit_seq: int
    audit_hash: str
    counts: dict[str, int]
    stored_files: list[str] = field(default_factory=list)


def read_facts(conn: Connection) -> Facts:
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    seq, last_hash = conn.execute(text("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")).one()
    tables = set(inspect(conn).get_table_names())
    counts = {name: int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())  # noqa: S608 (fixed names)
              for name in COUNTED if name in tables}
    files = list(conn.execute(text("SELECT sha256 FROM stored_files ORDER BY sha256")).scalars())
    return Facts(revision, int(seq), str(last_hash), counts, files)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore without the password (argv is visible to every user of the
    machine); the password goes in PGPASSWORD."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"Không tìm thấy chương trình {name} (cài gói postgresql-client cùng phiên bản máy chủ).")
    return path


def _failed(tool: str, errors: Any) -> BackupError:
    errors.seek(0)
    detail = errors.read().decode("utf-8", "replace").strip()[-2000:]
    return BackupError(f"{tool} thất bại: {detail or 'không rõ lỗi'}")


@contextmanager
def _pg_snapshot(engine: Engine, url: str) -> Iterator[tuple[Facts, Iterator[bytes]]]:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = read_facts(conn)
        conninfo, env = _libpq(url)
        yield facts, _run_dump([_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot_id}", "--no-password",
                                f"--dbname={conninfo}"], env)


def _run_dump(argv: list[str], env: dict[str, str]) -> Iterator[bytes]:
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, env=env)  # noqa: S603 (fixed argv)
        assert proc.stdout is not None
        with proc.stdout:
            while chunk := proc.stdout.read(CHUNK):
                yield chunk
        if proc.wait() != 0:
            raise _failed("pg_dump", errors)


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("Chỉ sao lưu được cơ sở dữ liệu SQLite nằm trong một tệp.")
    return Path(database)


@contextmanager
def _sqlite_snapshot(url: str, workdir: Path) -> Iterator[tuple[Facts, Iterator[bytes]]]:
    copy = workdir / ".database-copy.sqlite3"
    with closing(sqlite3.connect(sqlite_path(url))) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)  # all pages in one step: one consistent instant
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    reader = create_engine(f"sqlite:///{copy}", poolclass=NullPool)
    try:
        with reader.connect() as conn:
            facts = read_facts(conn)
    finally:
        reader.dispose()
    try:
        yield facts, file_chunks(copy)
    finally:
        copy.unlink(missing_ok=True)


@contextmanager
def snapshot(engine: Engine, url: str, workdir: Path) -> Iterator[tuple[Facts, Iterator[bytes]]]:
    """(facts, the dump's bytes); on PostgreSQL the snapshot stays open until the block ends, so
    the stored files listed in the facts can be copied while it still holds."""
    if engine.dialect.name == "postgresql":
        with _pg_snapshot(engine, url) as taken:
            yield taken
    else:
        with _sqlite_snapshot(url, workdir) as taken:
            yield taken


def dump_name(engine: Engine) -> str:
    return "database.pgdump" if engine.dialect.name == "postgresql" else "database.sqlite3"


def existing_tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(inspect(conn).get_table_names())


def load(engine: Engine, url: str, chunks: Iterable[bytes]) -> None:
    """Put the dump into the configured (empty) database."""
    if engine.dialect.name == "postgresql":
        _pg_restore(url, chunks)
        return
    target = sqlite_path(url)
    engine.dispose()
    staged = target.with_name(target.name + ".restoring")
    with staged.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    try:
        # into the existing (empty) file through the backup API, so its WAL state stays coherent
        with closing(sqlite3.connect(staged)) as source, closing(sqlite3.connect(target)) as dest:
            source.backup(dest)
    finally:
        staged.unlink(missing_ok=True)


def _pg_restore(url: str, chunks: Iterable[bytes]) -> None:
    conninfo, env = _libpq(url)
    argv = [_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-password", f"--dbname={conninfo}"]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,  # noqa: S603 (fixed argv)
                                stderr=errors, env=env)
        assert proc.stdin is not None
        try:
            with proc.stdin:
                for chunk in chunks:
                    proc.stdin.write(chunk)
        except BrokenPipeError:
            pass  # pg_restore stopped early; its exit status and message say why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.wait() != 0:
            raise _failed("pg_restore", errors)
