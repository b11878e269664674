"""Việc của tôi (issue 18 item 1): server time of the home page (the inbox and the dashboard) and of the lists
whose badges and tabs read the inbox's counters, for a clerk and a unit head, one request at a time.

    .venv/bin/python bench/inbox.py [--documents 1000000] [--organisations 200] [--database postgresql|sqlite]
        [--requests 200] [--warmups 5] [--keep] [--url URL] [--explain]

Fills a throwaway database (bench/throwaway.py: a PostgreSQL database created and dropped on 127.0.0.1:5432 /
PORTAL_TEST_POSTGRES_URL, or a SQLite file) with ``portal.benchseed.fill`` (what ``flask portal bench-seed``
writes: incoming and outgoing documents, drafts, the inbox rebuilt after the bulk load), then signs in as the
clerk of the biggest organisation (``benchseed.CLERK``) and as the unit head with the most work items, and
times R sequential requests of each page through ``app.test_client()`` after a few warm-ups, counting the
SQL statements of each request (engine events around ``cursor.execute``). Then the pieces alone:
``inbox.queries.counts``, ``inbox.queries.page`` and the year's figures (``main.services.summary``), and the
nightly ``inbox.maintain.verify`` / ``rebuild`` over the whole database. Prints tables and one JSON line;
``--keep`` keeps the database and prints its URL, ``--url`` measures an already filled one, ``--explain``
prints EXPLAIN (ANALYZE, BUFFERS) of each page's slowest statement (PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import throwaway
from flask import Flask
from markupsafe import escape
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from statements import Statements

from portal import benchseed, create_app, migrate
from portal.auth.models import Position, PositionRole, Role, User
from portal.db import session
from portal.documents.models import IncomingDocument, OutgoingDocument
from portal.inbox import maintain
from portal.inbox import queries as inbox
from portal.inbox.models import WorkCount, WorkItem
from portal.inbox.registry import UNIT, USER
from portal.main import services
from portal.orgs.models import Organisation
from portal.timeutil import local_year

PASSWORD = benchseed.PASSWORD
SETTINGS = {"TESTING": True, "SECRET_KEY": "bench-secret", "AUDIT_KEY": "bench", "WTF_CSRF_ENABLED": False,
            "ARGON2_MEMORY_KIB": 1024, "ARGON2_TIME_COST": 1, "ARGON2_PARALLELISM": 1, "RATELIMIT_ENABLED": False}
AIM_MS = 30.0
PAGES = [("/", "Việc của tôi + tổng quan", None), ("/?loai=incoming", "Việc của tôi: văn bản đến", "incoming"),
         ("/van-ban-den/", "danh sách văn bản đến", None), ("/du-thao/", "danh sách dự thảo", None)]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": _ms(statistics.median(ordered)), "p95_ms": _ms(p95), "max_ms": _ms(ordered[-1])}


# --- who is measured ------------------------------------------------------------------------------------------

def _unit_head() -> tuple[str, int]:
    """The unit head whose own and unit's items are the most (from the counters: a few rows per owner)."""
    per_owner = {(kind, owner): int(n) for kind, owner, n in session.execute(
        select(WorkCount.owner_kind, WorkCount.owner_id, func.sum(WorkCount.n))
        .where(WorkCount.owner_kind.in_([USER, UNIT])).group_by(WorkCount.owner_kind, WorkCount.owner_id))}
    heads = session.execute(select(User.username, Position.user_id, Position.unit_id)
                            .join(Position, Position.user_id == User.id)
                            .join(PositionRole, PositionRole.position_id == Position.id)
                            .where(PositionRole.role == Role.UNIT_HEAD, User.username.like("%.bench%")))
    ranked = sorted(((per_owner.get((USER, uid), 0) + per_owner.get((UNIT, unit), 0), name)
                     for name, uid, unit in heads), reverse=True)
    if not ranked:
        raise SystemExit("LỖI: không có trưởng đơn vị nào (cơ sở dữ liệu không do benchseed tạo?)")
    return ranked[0][1], ranked[0][0]


# --- measuring ---------------------------------------------------------------------------------------------------

def _check(url: str, status: int, body: str, expected: list[inbox.Row] | None) -> None:
    if status != 200:
        raise SystemExit(f"LỖI: {url}: HTTP {status}\n{body[:500]}")
    if expected is not None:
        mark = str(escape(expected[0].title)) if expected else "Không có việc nào đang chờ bạn."
        if mark not in body:
            raise SystemExit(f"LỖI: {url}: trang không chứa việc đầu tiên mong đợi ({mark[:80]})")


def pages(app: Flask, counter: Statements, username: str, requests: int, warmups: int) -> list[dict[str, Any]]:
    with app.app_context():
        user = throwaway.loaded_user(username)
        expected = {url: inbox.page(session(), user, source) for url, _label, source in PAGES if "van-ban" not in url
                    and "du-thao" not in url}
        session.remove()
    client = app.test_client()
    resp = client.post("/auth/login", data={"username": username, "password": PASSWORD})
    if resp.status_code != 303:
        raise SystemExit(f"LỖI: {username}: đăng nhập trả về {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
    results = []
    for url, label, _source in PAGES:
        samples, sql, counts = [], [], []
        counter.by_text = defaultdict(list)
        for i in range(requests + warmups):
            counter.reset()
            started = time.perf_counter()
            resp = client.get(url)
            elapsed = time.perf_counter() - started
            if i == 0:
                _check(url, resp.status_code, resp.get_data(as_text=True), expected.get(url))
            if i >= warmups:
                samples.append(elapsed)
                sql.append(counter.seconds)
                counts.append(counter.count)
        top = max(counter.by_text.items(), key=lambda kv: sum(kv[1]))  # the most time over the page's requests
        results.append({"user": username, "url": url, "page": label, **_stats(samples),
                        "sql_median_ms": _ms(statistics.median(sql)), "sql": statistics.median_high(counts),
                        "sql_min": min(counts), "sql_max": max(counts),
                        "slowest_statement_ms": _ms(sum(top[1]) / (requests + warmups)), "slowest_statement": top[0]})
    client.post("/auth/logout")
    return results


def pieces(app: Flask, counter: Statements, username: str, requests: int, warmups: int) -> list[dict[str, Any]]:
    """The inbox's reads alone, each in a fresh session as a request gets one."""
    with app.app_context():
        user = throwaway.loaded_user(username)
    year = local_year()
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("inbox.queries.counts", lambda: inbox.counts(session(), user)),
        ("inbox.queries.page", lambda: inbox.page(session(), user)),
        ("main.services.summary", lambda: services.summary(user, year, inbox.Counts())),
    ]
    results = []
    for name, call in calls:
        samples, counts = [], []
        with app.app_context():
            for i in range(requests + warmups):
                counter.reset()
                started = time.perf_counter()
                out = call()
                elapsed = time.perf_counter() - started
                session.remove()
                if i >= warmups:
                    samples.append(elapsed)
                    counts.append(counter.count)
        size = (sum(out.queues.values()) if isinstance(out, inbox.Counts) else len(out) if isinstance(out, list)
                else out.incoming_this_year + out.outgoing_this_year)
        results.append({"user": username, "piece": name, **_stats(samples), "sql": statistics.median_high(counts),
                        "size": size})
    return results


def whole(app: Flask) -> dict[str, Any]:
    """The nightly job over the full database: verify (compare only), then rebuild (fix; must find nothing)."""
    with app.app_context():
        started = time.perf_counter()
        checked = maintain.verify(session())
        session.rollback()
        verify_s = time.perf_counter() - started
        started = time.perf_counter()
        fixed = maintain.rebuild(session())
        session.commit()
        rebuild_s = time.perf_counter() - started
        items = session.execute(select(func.count()).select_from(WorkItem)).scalar_one()
        counters = session.execute(select(func.count()).select_from(WorkCount)).scalar_one()
        session.remove()
    return {"verify_s": round(verify_s, 1), "verify_differences": checked.items + checked.counts,
            "rebuild_s": round(rebuild_s, 1), "rebuild_fixed": fixed.items + fixed.counts,
            "work_items": items, "work_counts": counters}


def explain(engine: Engine, counter: Statements, results: list[dict[str, Any]]) -> None:
    if engine.dialect.name != "postgresql":
        print("--explain: chỉ với PostgreSQL")
        return
    for r in results:
        _took, statement, parameters = counter.slowest[r["slowest_statement"]]
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(row[0] for row in cur.fetchall())
            raw.rollback()
        finally:
            raw.close()
        print(f"\n--- {r['user']} {r['url']}: câu tốn nhất ({r['slowest_statement_ms']} ms mỗi yêu cầu)\n"
              f"{' '.join(statement.split())[:600]}\n{plan}")


# --- main ---------------------------------------------------------------------------------------------------------

def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page and user")
    parser.add_argument("--warmups", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database and print its URL")
    parser.add_argument("--url", help="measure this already filled database (made with --keep); no filling")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each page's slowest statement")
    args = parser.parse_args()
    if args.url:
        args.database = make_url(args.url).get_backend_name()
    load_before = os.getloadavg()
    filled: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = (args.url, lambda: None) if args.url else throwaway.database(args.database, tmp, args.keep)
        try:
            migrate.upgrade(url)
            app = create_app({**SETTINGS, "DATABASE_URL": url, "STORAGE_DIR": tmp})
            if not args.url:
                with app.app_context():
                    report = benchseed.fill(args.documents, args.organisations,
                                            say=lambda m: print(m, file=sys.stderr, flush=True))
                    session.remove()
                filled = {"fill_s": round(report.seconds, 1), **report.timings}
            with app.app_context():
                incoming = session.execute(select(func.count()).select_from(IncomingDocument)).scalar_one()
                outgoing = session.execute(select(func.count()).select_from(OutgoingDocument)).scalar_one()
                head, head_items = _unit_head()
                args.organisations = session.execute(select(func.count()).select_from(Organisation).where(
                    Organisation.is_issuing.is_(True), Organisation.parent_id.is_not(None))).scalar_one()
                session.remove()
            engine: Engine = app.extensions["engine"]
            counter = Statements(engine)
            load_measuring = os.getloadavg()
            results, parts = [], []
            for who in (benchseed.CLERK, head):
                results += pages(app, counter, who, args.requests, args.warmups)
                parts += pieces(app, counter, who, args.requests, args.warmups)
            if args.explain:
                explain(engine, counter, results)
            counter.close()
            nightly = whole(app)
            engine.dispose()
        finally:
            drop()
    load_after = os.getloadavg()
    print(f"Cơ sở dữ liệu      {args.database}{' (giữ lại: ' + url + ')' if args.keep else ''}")
    print(f"Văn bản            {_n(incoming + outgoing)} ({_n(incoming)} đến, {_n(outgoing)} đi)"
          + (f"; nạp {filled['fill_s']} s, trong đó dựng hộp việc {filled.get('inbox_s')} s" if filled else ""))
    print(f"Người đo           văn thư {benchseed.CLERK}; trưởng đơn vị {head} ({_n(head_items)} việc của mình và "
          f"đơn vị); {args.requests} lần mỗi trang sau {args.warmups} lần khởi động")
    print(f"Tải máy (1/5/15')  trước {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f}, "
          f"lúc đo {load_measuring[0]:.1f}, sau {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}")
    print()
    print(f"{'người':<19}{'trang':<17}{'trung vị':>9}{'p95':>8}{'max':>8}{'SQL ms':>8}{'câu SQL':>8}"
          f"{'câu tốn nhất':>13}  p95 < {AIM_MS:.0f}")
    for r in results:
        spread = "" if r["sql_min"] == r["sql_max"] else f" ({r['sql_min']}–{r['sql_max']})"
        aim = "đạt" if r["p95_ms"] < AIM_MS else "KHÔNG ĐẠT"
        print(f"{r['user']:<19}{r['url']:<17}{r['median_ms']:>9}{r['p95_ms']:>8}{r['max_ms']:>8}"
              f"{r['sql_median_ms']:>8}{r['sql']:>8}{r['slowest_statement_ms']:>13}{spread}  {aim}")
    print()
    print(f"{'người':<19}{'phần':<23}{'trung vị':>9}{'p95':>8}{'max':>8}{'câu SQL':>8}{'cỡ':>9}")
    for p in parts:
        print(f"{p['user']:<19}{p['piece']:<23}{p['median_ms']:>9}{p['p95_ms']:>8}{p['max_ms']:>8}{p['sql']:>8}"
              f"{_n(p['size']):>9}")
    print()
    print(f"Toàn bộ hộp việc   verify {nightly['verify_s']} s ({nightly['verify_differences']} sai lệch), rebuild "
          f"{nightly['rebuild_s']} s ({nightly['rebuild_fixed']} phải sửa); {_n(nightly['work_items'])} việc, "
          f"{_n(nightly['work_counts'])} bộ đếm")
    for r in results:
        r["slowest_statement"] = re.sub(r"\s+", " ", r["slowest_statement"])[:200]
    figures = {"bench": "inbox", "database": args.database, "documents": incoming + outgoing, "incoming": incoming,
               "outgoing": outgoing, "organisations": args.organisations, "requests": args.requests, **filled,
               "clerk": benchseed.CLERK, "unit_head": head, "unit_head_items": head_items,
               "load": {"before": [round(x, 2) for x in load_before], "measuring": round(load_measuring[0], 2),
                        "after": [round(x, 2) for x in load_after]},
               "pages": results, "pieces": parts, "nightly": nightly}
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
