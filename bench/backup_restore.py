"""How long `portal backup` and `portal restore` (with its drill) take, and how big the set is.

    # the demo, on a fresh SQLite file
    PORTAL_ENV=development PORTAL_DATABASE_URL=sqlite:////tmp/demo.db PORTAL_STORAGE_DIR=/tmp/demo-storage \\
        .venv/bin/flask --app wsgi portal db-upgrade && ... portal seed-demo
    .venv/bin/python bench/backup_restore.py --url sqlite:////tmp/demo.db --storage /tmp/demo-storage

    # 100,000 documents on PostgreSQL (docs/PERFORMANCE.md: bench-seed)
    .venv/bin/python bench/backup_restore.py --url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench \\
        --storage /tmp/bench-storage [--key SECRET]

The restore goes into a new empty database (PostgreSQL: created next to the source and dropped
afterwards; SQLite: a new file) and a new storage directory; the source is only read. The audit key
must be the one the data was written with (PORTAL_AUDIT_KEY; development's default otherwise).
Prints the figures and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import backup, create_app
from portal.db import session


def _empty_database(url: str, workdir: Path) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return f"sqlite:///{workdir / 'restored.db'}"
    name = f"portal_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        admin.dispose()


def _app(url: str, storage: Path, key: str):  # type: ignore[no-untyped-def]
    overrides = {"DATABASE_URL": url, "STORAGE_DIR": str(storage), "BACKUP_KEY": key}
    return create_app({"ENV": "development", **overrides})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the source database")
    parser.add_argument("--storage", required=True, help="the source STORAGE_DIR")
    parser.add_argument("--key", default="", help="PORTAL_BACKUP_KEY for an encrypted set")
    parser.add_argument("--workdir", default=None, help="where the set and the restored storage go")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="qlvb-backup-bench-"))
    target_url = _empty_database(args.url, workdir)
    try:
        source = _app(args.url, Path(args.storage), args.key)
        with source.app_context():
            started = time.perf_counter()
            taken = backup.create(workdir / "set")
            backup_s = time.perf_counter() - started
            session.remove()
        source.extensions["engine"].dispose()
        target = _app(target_url, workdir / "restored-storage", args.key)
        with target.app_context():
            started = time.perf_counter()
            restored = backup.restore(workdir / "set")
            restore_s = time.perf_counter() - started
            session.remove()
        target.extensions["engine"].dispose()
    finally:
        _drop(target_url)
    print(restored.report.text())
    figures = {"dialect": taken.dialect, "documents": taken.counts.get("incoming_documents", 0)
               + taken.counts.get("outgoing_documents", 0), "audit_rows": taken.counts.get("audit_log", 0),
               "files": len(taken.objects), "set_bytes": taken.size(), "encrypted": taken.encrypted,
               "backup_s": round(backup_s, 2), "restore_and_drill_s": round(restore_s, 2),
               "drill_ok": restored.report.ok}
    print(f"{figures['documents']:,} văn bản, {figures['files']} tệp: sao lưu {backup_s:.1f} s, "
          f"{taken.size() / 1e6:.1f} MB; khôi phục + diễn tập {restore_s:.1f} s")
    print(json.dumps(figures))
    if not args.workdir:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
