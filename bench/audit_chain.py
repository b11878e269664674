"""Audit chain throughput: how fast rows are appended (each locks the chain head) and verified.

    .venv/bin/python bench/audit_chain.py --rows 20000 [--database postgresql]

Prints a table and one JSON line. Uses a throwaway database (SQLite file, or a PostgreSQL
database created and dropped on 127.0.0.1:5432 / PORTAL_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from throwaway import database

from portal import audit, create_app, migrate
from portal.db import session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--per-transaction", type=int, default=1,
                        help="rows per commit (1 = one state change per request, the realistic case)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = database(args.database, tmp)
        try:
            migrate.upgrade(url)
            app = create_app({"TESTING": True, "DATABASE_URL": url, "STORAGE_DIR": tmp, "AUDIT_KEY": "bench"})
            with app.app_context():
                start = time.perf_counter()
                for i in range(args.rows):
                    audit.record(None, "bench.append", object_type="bench", object_id=i, actor_name="bench",
                                 details={"i": i, "trích_yếu": "Về việc triển khai công tác văn thư"})
                    if (i + 1) % args.per_transaction == 0:
                        session.commit()
                session.commit()
                append_s = time.perf_counter() - start
                start = time.perf_counter()
                result = audit.verify(session(), "bench")
                verify_s = time.perf_counter() - start
                session.remove()
            app.extensions["engine"].dispose()
        finally:
            drop()
    figures = {
        "bench": "audit_chain", "database": args.database, "rows": args.rows,
        "per_transaction": args.per_transaction,
        "append_rows_per_s": round(args.rows / append_s, 1), "verify_rows_per_s": round(args.rows / verify_s, 1),
        "verify_ok": result.ok,
    }
    print(f"Cơ sở dữ liệu          {args.database}")
    print(f"Số bản ghi              {args.rows} ({args.per_transaction} mỗi giao dịch)")
    print(f"Ghi thêm                {figures['append_rows_per_s']:>10} bản ghi/giây")
    print(f"Kiểm tra chuỗi          {figures['verify_rows_per_s']:>10} bản ghi/giây ({result.message()})")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
