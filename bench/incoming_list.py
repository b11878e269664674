"""Incoming list and search: server time of the pages a clerk of a big organisation opens.

    .venv/bin/python bench/incoming_list.py [--documents 200000] [--organisations 200]
        [--database postgresql|sqlite] [--requests 200] [--keep] [--url URL] [--custom-plans]

Fills a throwaway database (bench/throwaway.py: SQLite file, or a PostgreSQL database created and dropped on
127.0.0.1:5432 / PORTAL_TEST_POSTGRES_URL) with a province, its organisations and their people and
a skewed spread of incoming documents over five years (bulk Core inserts on SQLite; COPY with the
secondary indexes dropped and rebuilt on PostgreSQL), then signs in as the clerk of the biggest
organisation and times each list URL through ``app.test_client()``. Until the list route
``GET /van-ban-den/`` exists it times the same ``queries.page()`` + ``queries.count()`` calls
directly. Prints a table and one JSON line; ``--keep`` keeps the database and prints its URL,
``--url`` measures an already filled one.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import throwaway
from flask import Flask
from markupsafe import escape
from sqlalchemy import Engine, event, func, select
from sqlalchemy.engine import make_url
from statements import Statements

from portal import benchseed, create_app, migrate
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.incoming import queries
from portal.orgs.models import Organisation

CLERK, PASSWORD = benchseed.CLERK, benchseed.PASSWORD

SETTINGS = {"TESTING": True, "SECRET_KEY": "bench-secret", "AUDIT_KEY": "bench", "WTF_CSRF_ENABLED": False,
            "ARGON2_MEMORY_KIB": 1024, "ARGON2_TIME_COST": 1, "ARGON2_PARALLELISM": 1, "RATELIMIT_ENABLED": False}


# --- filling -----------------------------------------------------------------------------------------

def fill(app: Flask, n_docs: int, n_orgs: int) -> dict[str, Any]:
    """The province of ``portal.benchseed`` with incoming documents only, as this bench has always
    measured (``flask portal bench-seed`` adds outgoing documents and drafts)."""
    with app.app_context():
        report = benchseed.fill(n_docs, n_orgs, outgoing_share=0.0)
        session.remove()
    return {"fill_s": round(report.seconds, 1), "fill_docs_per_s": round(n_docs / report.seconds),
            "assignments": report.rows.get("incoming_assignments", 0), **report.timings}


# --- measuring ----------------------------------------------------------------------------------------

CASES: list[tuple[str, dict[str, str], dict[str, str]]] = [
    ("danh sách tất cả", {"ds": "tat-ca"}, {}),
    ("trang sau (sau=)", {"ds": "tat-ca", "sau": "<cursor>"}, {}),
    ("htmx rows", {"ds": "tat-ca"}, {"HX-Request": "true"}),
    ("chờ tiếp nhận", {"ds": "cho-tiep-nhan"}, {}),
    ("tìm không dấu", {"ds": "tat-ca", "q": "quyet dinh ve cong tac van thu"}, {}),
    ("tìm số/ký hiệu", {"ds": "tat-ca", "q": "15/QĐ-UBND"}, {}),
    ("lọc khẩn + năm 2025", {"ds": "tat-ca", "khan": "1", "tu": "01/01/2025", "den": "31/12/2025"}, {}),
]


def _filters(params: dict[str, str]) -> queries.Filters:
    """The query args as the list view reads them (the subset the bench uses)."""
    def day(value: str | None) -> date | None:
        return datetime.strptime(value, "%d/%m/%Y").date() if value else None  # noqa: DTZ007  (a calendar day)

    return queries.Filters(q=params.get("q", ""), date_from=day(params.get("tu")), date_to=day(params.get("den")),
                           urgent=params.get("khan") == "1")


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return round(statistics.median(ordered) * 1000, 2), round(p95 * 1000, 2)




def measure(app: Flask, requests: int) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    engine: Engine = app.extensions["engine"]
    counter = Statements(engine)
    http = any(rule.rule == "/van-ban-den/" and "GET" in (rule.methods or ()) for rule in app.url_map.iter_rules())
    with app.app_context():
        user = throwaway.loaded_user(CLERK)
        org_docs = session.execute(select(func.count()).select_from(IncomingDocument).where(
            IncomingDocument.organisation_id == user.organisation.id)).scalar_one()
        # what each URL must show: its first row, computed by the same queries the page uses
        expected: dict[str, queries.Page] = {}
        cursor = None
        for label, params, _headers in CASES:
            if "sau" in params:
                params["sau"] = cursor or ""
            expected[label] = queries.page(user, queries.QUEUES[params["ds"]], _filters(params), params.get("sau"))
            if not expected[label].rows:
                raise SystemExit(f"LỖI: {label}: truy vấn không trả về dòng nào ({params}); "
                                 "quá ít văn bản? tăng --documents")
            cursor = cursor or expected[label].next_cursor
            session.remove()
    client = app.test_client()
    if http:
        resp = client.post("/auth/login", data={"username": CLERK, "password": PASSWORD})
        if resp.status_code != 303:
            raise SystemExit(f"LỖI: đăng nhập trả về {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
        first = client.get("/van-ban-den/?" + urlencode(CASES[0][1]))
        found = re.search(r"sau=(\d{30})", first.get_data(as_text=True))
        if found:
            next(c for c in CASES if "sau" in c[1])[1]["sau"] = found.group(1)
            cursor_from = "liên kết sau= trên trang"
        else:
            cursor_from = "queries.page() (trang không có liên kết sau=)"
    else:
        cursor_from = "queries.page()"
    results = []
    for label, params, headers in CASES:
        samples: list[float] = []
        sql_samples: list[float] = []
        statements = 0
        for i in range(requests + 5):
            counter.reset()
            if http:
                started = time.perf_counter()
                resp = client.get("/van-ban-den/?" + urlencode(params), headers=headers)
                elapsed = time.perf_counter() - started
                if i == 0:
                    _check(label, resp.status_code, resp.get_data(as_text=True), expected[label])
            else:
                with app.test_request_context():
                    started = time.perf_counter()
                    queue, filters = queries.QUEUES[params["ds"]], _filters(params)
                    page = queries.page(user, queue, filters, params.get("sau"))
                    queries.count(user, queue, filters)
                    elapsed = time.perf_counter() - started
                    session.remove()
                if not page.rows:
                    raise SystemExit(f"LỖI: {label}: không có dòng nào")
            if i >= 5:  # the first five warm caches and connections
                samples.append(elapsed)
                sql_samples.append(counter.seconds)
                statements = counter.count
        median, p95 = _stats(samples)
        sql_median, sql_p95 = _stats(sql_samples)
        results.append({"url": label, "query": urlencode(params), "median_ms": median, "p95_ms": p95,
                        "sql_median_ms": sql_median, "sql_p95_ms": sql_p95, "sql": statements,
                        "rows": len(expected[label].rows)})
    counter.close()
    return ("http" if http else "queries"), results, {"clerk_org_documents": org_docs, "cursor_from": cursor_from,
                                                      "clerk_organisation": user.organisation.name}


def _check(label: str, status: int, body: str, page: queries.Page) -> None:
    row = page.rows[0]
    if status != 200:
        raise SystemExit(f"LỖI: {label}: HTTP {status}\n{body[:500]}")
    if f"/van-ban-den/{row.id}" not in body and str(escape(row.subject)) not in body:
        raise SystemExit(f"LỖI: {label}: trang không chứa dòng đầu tiên mong đợi (id {row.id}, “{row.subject}”)")


# --- main -----------------------------------------------------------------------------------------------

def _custom_plans(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cur:
        cur.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_connection.commit()


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200_000)
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per URL (after 5 warm-ups)")
    parser.add_argument("--keep", action="store_true", help="keep the database and print its URL")
    parser.add_argument("--url", help="measure this already filled database (made with --keep); no filling")
    parser.add_argument("--custom-plans", action="store_true",
                        help="PostgreSQL: SET plan_cache_mode = force_custom_plan on each connection (psycopg "
                             "prepares a statement after 5 runs and the server may then reuse a generic plan)")
    args = parser.parse_args()
    if args.url:
        args.database = make_url(args.url).get_backend_name()
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = (args.url, lambda: None) if args.url else throwaway.database(args.database, tmp, args.keep)
        try:
            migrate.upgrade(url)
            app = create_app({**SETTINGS, "DATABASE_URL": url, "STORAGE_DIR": tmp})
            if args.custom_plans and args.database == "postgresql":
                event.listen(app.extensions["engine"], "connect", _custom_plans)
                app.extensions["engine"].dispose()  # no pooled connection without the setting
            filled: dict[str, Any] = {}
            if not args.url:
                filled = fill(app, args.documents, args.organisations)
            with app.app_context():
                args.documents = session.execute(select(func.count()).select_from(IncomingDocument)).scalar_one()
                args.organisations = session.execute(select(func.count()).select_from(Organisation).where(
                    Organisation.is_issuing.is_(True), Organisation.parent_id.is_not(None))).scalar_one()
                session.remove()
            mode, results, about = measure(app, args.requests)
            app.extensions["engine"].dispose()
        finally:
            drop()
    print(f"Cơ sở dữ liệu          {args.database}{' (giữ lại: ' + url + ')' if args.keep else ''}")
    print(f"Văn bản đến             {_n(args.documents)} ({args.organisations} cơ quan)")
    if filled:
        print(f"Nạp dữ liệu             {filled['fill_s']} s, {_n(filled['fill_docs_per_s'])} văn bản/giây "
              f"(+ {_n(filled['assignments'])} dòng phân công)")
    print(f"Văn thư của             {about['clerk_organisation']} ({_n(about['clerk_org_documents'])} văn bản)")
    print(f"Đo qua                  {'HTTP (test_client)' if mode == 'http' else 'queries.page() + count()'}, "
          f"{args.requests} lần mỗi URL; con trỏ trang sau: {about['cursor_from']}"
          f"{'; plan_cache_mode = force_custom_plan' if args.custom_plans else ''}")
    print()
    print(f"{'URL':<24}{'trung vị ms':>12}{'p95 ms':>10}{'SQL trung vị':>14}{'SQL p95':>9}{'SQL/lần':>9}{'dòng':>6}")
    for r in results:
        print(f"{r['url']:<24}{r['median_ms']:>12}{r['p95_ms']:>10}{r['sql_median_ms']:>14}{r['sql_p95_ms']:>9}"
              f"{r['sql']:>9}{r['rows']:>6}")
    figures = {"bench": "incoming_list", "database": args.database, "documents": args.documents,
               "organisations": args.organisations, "mode": mode, "custom_plans": args.custom_plans,
               "requests": args.requests, **filled, **about, "results": results}
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
