"""Incoming list and search: server time of the pages a clerk of a big organisation opens.

    .venv/bin/python bench/incoming_list.py [--documents 200000] [--organisations 200]
        [--database postgresql|sqlite] [--requests 200] [--keep] [--url URL] [--custom-plans]

Fills a throwaway database (SQLite file, or a PostgreSQL database created and dropped on
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
import itertools
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from markupsafe import escape
from sqlalchemy import Engine, create_engine, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import selectinload

from portal import create_app, migrate
from portal.auth import passwords
from portal.auth.models import Position, PositionRole, Role, User
from portal.db import session
from portal.documents.models import DocumentType, IncomingDocument, RegisterBook, RegisterCounter
from portal.incoming import queries
from portal.incoming.models import Assignment
from portal.incoming.services import code_key
from portal.orgs.models import Organisation
from portal.text import fold

POSTGRES = os.environ.get("PORTAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CLERK = "vanthu.bench"
PASSWORD = "Đo-Hiệu-Năng@2026"  # noqa: S105  (a throwaway account in a throwaway database)
CHUNK = 10_000
YEARS = 5
CLERK_SHARE = 0.05  # the signed-in clerk's organisation receives 5 % of all documents
SEED = 20261121

SETTINGS = {"TESTING": True, "SECRET_KEY": "bench-secret", "AUDIT_KEY": "bench", "WTF_CSRF_ENABLED": False,
            "ARGON2_MEMORY_KIB": 1024, "ARGON2_TIME_COST": 1, "ARGON2_PARALLELISM": 1, "RATELIMIT_ENABLED": False}


# --- the throwaway database ------------------------------------------------------------------------

def database(kind: str, tmp: str, keep: bool) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="portal_bench_") if keep else tmp
        return f"sqlite:///{folder}/bench.db", lambda: None
    name = f"portal_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), drop


# --- realistic Vietnamese content --------------------------------------------------------------------

DEPARTMENTS = [
    ("Sở Nội vụ", "SNV"), ("Sở Tài chính", "STC"), ("Sở Kế hoạch và Đầu tư", "SKHDT"), ("Sở Tư pháp", "STP"),
    ("Sở Xây dựng", "SXD"), ("Sở Giao thông vận tải", "SGTVT"), ("Sở Tài nguyên và Môi trường", "STNMT"),
    ("Sở Nông nghiệp và Phát triển nông thôn", "SNNPTNT"), ("Sở Y tế", "SYT"), ("Sở Giáo dục và Đào tạo", "SGDDT"),
    ("Sở Công Thương", "SCT"), ("Sở Thông tin và Truyền thông", "STTTT"), ("Sở Lao động - Thương binh và Xã hội",
    "SLDTBXH"), ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL"), ("Sở Khoa học và Công nghệ", "SKHCN"),
    ("Thanh tra tỉnh", "TTT"), ("Văn phòng Ủy ban nhân dân tỉnh", "VPUBND"), ("Ban Dân tộc", "BDT"),
]
PLACES = ["Phủ Lý", "Duy Tiên", "Kim Bảng", "Thanh Liêm", "Bình Lục", "Lý Nhân", "Châu Sơn", "Lam Hạ", "Tiên Tân",
          "Liêm Chính", "Thanh Châu", "Đồng Văn", "Hòa Mạc", "Ba Sao", "Quế", "Kiện Khê", "Tân Thanh", "Vĩnh Trụ",
          "Nhân Hậu", "Đạo Lý", "Bồ Đề", "An Nội", "Trịnh Xá", "Liêm Tuyết", "Thi Sơn", "Tượng Lĩnh", "Nguyễn Úy"]
ISSUERS = [  # organ name, its short name in ký hiệu, weight
    ("Ủy ban nhân dân tỉnh Hà Nam", "UBND", 30), ("Văn phòng Ủy ban nhân dân tỉnh Hà Nam", "VPUBND", 10),
    ("Tỉnh ủy Hà Nam", "TU", 5), ("Hội đồng nhân dân tỉnh Hà Nam", "HĐND", 3), ("Bộ Nội vụ", "BNV", 4),
    ("Văn phòng Chính phủ", "VPCP", 4), ("Bộ Tài chính", "BTC", 3), ("Bộ Thông tin và Truyền thông", "BTTTT", 3),
    ("Sở Nội vụ tỉnh Hà Nam", "SNV", 8), ("Sở Tài chính tỉnh Hà Nam", "STC", 6),
    ("Sở Kế hoạch và Đầu tư tỉnh Hà Nam", "SKHĐT", 5), ("Sở Tài nguyên và Môi trường tỉnh Hà Nam", "STNMT", 5),
    ("Ủy ban nhân dân huyện Kim Bảng", "UBND", 3), ("Ủy ban nhân dân huyện Thanh Liêm", "UBND", 3),
    ("Ủy ban nhân dân thị xã Duy Tiên", "UBND", 3), ("Ủy ban nhân dân thành phố Phủ Lý", "UBND", 3),
    ("Công an tỉnh Hà Nam", "CAT", 3), ("Bảo hiểm xã hội tỉnh Hà Nam", "BHXH", 2),
]
TYPES = [  # name, abbreviation (None: công văn), weight, subject openings
    ("Công văn", None, 40, ["Về việc", "V/v triển khai", "Về việc báo cáo", "Về việc tăng cường"]),
    ("Quyết định", "QĐ", 20, ["Quyết định về", "Quyết định ban hành Quy chế", "Quyết định phê duyệt Kế hoạch"]),
    ("Kế hoạch", "KH", 10, ["Kế hoạch thực hiện", "Kế hoạch triển khai", "Kế hoạch kiểm tra"]),
    ("Thông báo", "TB", 8, ["Thông báo kết luận của Chủ tịch Ủy ban nhân dân tỉnh về", "Thông báo về"]),
    ("Báo cáo", "BC", 8, ["Báo cáo kết quả", "Báo cáo tình hình"]),
    ("Giấy mời", "GM", 8, ["Giấy mời dự hội nghị về", "Giấy mời họp về"]),
    ("Tờ trình", "TTr", 3, ["Tờ trình về việc"]),
    ("Chỉ thị", "CT", 3, ["Chỉ thị về"]),
]
TOPICS = [
    "công tác văn thư, lưu trữ", "cải cách hành chính", "chuyển đổi số", "phòng, chống thiên tai và tìm kiếm cứu nạn",
    "phòng cháy, chữa cháy", "bảo đảm an toàn thông tin mạng", "tổ chức Tết Nguyên đán", "quản lý đầu tư công",
    "xây dựng nông thôn mới", "thi đua, khen thưởng", "tuyển dụng công chức", "đánh giá, xếp loại cán bộ, công chức",
    "phòng, chống dịch bệnh", "bồi thường, hỗ trợ, tái định cư", "quản lý đất đai", "giải quyết khiếu nại, tố cáo",
    "thu ngân sách nhà nước", "cấp giấy chứng nhận quyền sử dụng đất", "bảo đảm trật tự an toàn giao thông",
    "bảo vệ môi trường", "giáo dục và đào tạo", "y tế cơ sở", "bảo hiểm xã hội, bảo hiểm y tế",
    "cải cách thủ tục hành chính", "dịch vụ công trực tuyến", "tiếp công dân", "quốc phòng, an ninh",
    "phòng, chống tham nhũng, tiêu cực", "sắp xếp đơn vị hành chính cấp xã", "thực hành tiết kiệm, chống lãng phí",
    "công tác dân tộc, tôn giáo", "quản lý chất lượng hàng hóa", "phát triển du lịch", "ứng dụng công nghệ thông tin",
]
ENDINGS = ["", "", " năm {year}", " trên địa bàn tỉnh", " giai đoạn 2021 - 2025", " quý {quarter} năm {year}"]
CHANNELS = ["truc", "lgsp", "noi_bo", "giay", "email"]
CHANNEL_WEIGHTS = [35, 30, 20, 12, 3]
SIGNERS = [("Chủ tịch", "Nguyễn Văn An"), ("Phó Chủ tịch", "Trần Thị Bình"), ("Giám đốc", "Lê Minh Cường"),
           ("Phó Giám đốc", "Phạm Thu Hà"), ("Chánh Văn phòng", "Hoàng Quốc Khánh")]


def _fold_cache() -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def cached(value: str) -> str:
        folded = cache.get(value)
        if folded is None:
            folded = cache[value] = fold(value)
        return folded

    return cached


# --- filling -----------------------------------------------------------------------------------------

class Fill:
    """Ids are chosen here, so documents, assignments and counters are written without reading back."""

    def __init__(self, n_docs: int, n_orgs: int, rng: random.Random) -> None:
        self.n_docs, self.n_orgs, self.rng = n_docs, n_orgs, rng
        self.now = datetime.now(UTC)
        self.province = 1
        self.org_ids = [2 + 2 * i for i in range(n_orgs)]  # each organisation, then its Văn phòng unit
        self.unit_of = {o: o + 1 for o in self.org_ids}
        # people: clerk, agency leader, unit head, officer of each organisation
        self.clerk_of = {o: 1 + 4 * i for i, o in enumerate(self.org_ids)}
        self.leader_of = {o: 2 + 4 * i for i, o in enumerate(self.org_ids)}
        self.head_of = {o: 3 + 4 * i for i, o in enumerate(self.org_ids)}
        self.officer_of = {o: 4 + 4 * i for i, o in enumerate(self.org_ids)}
        self.book_of = {o: i + 1 for i, o in enumerate(self.org_ids)}
        self.counters: dict[tuple[int, int], int] = {}
        self.assignments = 0

    def organisations(self) -> list[dict[str, Any]]:
        rows = [self._org(self.province, None, 1, "/1/", 0, "people_committee", True, "Ủy ban nhân dân tỉnh Hà Nam",
                          "UBND", "H40")]
        for i, org in enumerate(self.org_ids):
            if i < len(DEPARTMENTS):
                name, short, kind = *DEPARTMENTS[i], "department"
            else:
                place = PLACES[i % len(PLACES)]
                name, short, kind = f"Ủy ban nhân dân xã {place} {i // len(PLACES) + 1}", "UBND", "commune"
            rows.append(self._org(org, 1, org, f"/1/{org}/", 1, kind, True, name, short, f"H40.{i + 1:02d}"))
            unit = self.unit_of[org]
            rows.append(self._org(unit, org, org, f"/1/{org}/{unit}/", 2, "internal_unit", False, "Văn phòng",
                                  "VP", None))
        return rows

    def _org(self, id_: int, parent: int | None, owner: int, path: str, depth: int, kind: str, issuing: bool,
             name: str, short: str, organ_id: str | None) -> dict[str, Any]:
        return {"id": id_, "parent_id": parent, "owner_id": owner, "path": path, "depth": depth, "kind": kind,
                "is_issuing": issuing, "name": name, "name_folded": fold(name), "short_name": short,
                "organ_id": organ_id, "created_at": self.now}

    def people(self, password_hash: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        users, positions, roles = [], [], []
        given = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lâm", "Minh", "Ngọc", "Phương", "Quân"]
        family = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
        for i, org in enumerate(self.org_ids):
            for uid, login, title, role, unit in (
                (self.clerk_of[org], CLERK if i == 0 else f"vanthu{i}", "Văn thư", Role.CLERK, None),
                (self.leader_of[org], f"lanhdao{i}", "Giám đốc", Role.AGENCY_LEADER, None),
                (self.head_of[org], f"truongphong{i}", "Chánh Văn phòng", Role.UNIT_HEAD, self.unit_of[org]),
                (self.officer_of[org], f"chuyenvien{i}", "Chuyên viên", Role.OFFICER, self.unit_of[org]),
            ):
                full = f"{family[uid % len(family)]} Văn {given[uid % len(given)]}"
                users.append({"id": uid, "username": login, "full_name": full, "full_name_folded": fold(full),
                              "status": "active", "source": "local", "password_hash": password_hash,
                              "password_changed_at": self.now, "must_change_password": False,
                              "created_at": self.now})
                positions.append({"id": uid, "user_id": uid, "organisation_id": org, "unit_id": unit, "title": title,
                                  "is_primary": True})
                roles.append({"id": uid, "position_id": uid, "role": role.value})
        return users, positions, roles

    def document_types(self) -> list[dict[str, Any]]:
        return [{"id": i + 1, "name": name, "abbreviation": abbr, "is_normative": False, "active": True}
                for i, (name, abbr, _w, _s) in enumerate(TYPES)]

    def books(self) -> list[dict[str, Any]]:
        return [{"id": self.book_of[o], "organisation_id": o, "direction": "in", "name": "Sổ văn bản đến",
                 "is_secret": False, "notation_template": "{so}/{loai}-{co_quan}", "active": True}
                for o in self.org_ids]

    def register_counters(self) -> list[dict[str, Any]]:
        return [{"book_id": self.book_of[o], "year": y, "last_number": n}
                for (o, y), n in sorted(self.counters.items())]

    def documents(self) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """Documents in arrival order (ids grow with time, as in production), each with its
        assignments; the clerk's organisation gets CLERK_SHARE, a few others are big too. The
        random choices are drawn in bulk: one call per row and field would double the fill time."""
        rng, n = self.rng, self.n_docs
        rnd = rng.random
        now_ts = self.now.timestamp()
        start = now_ts - 365 * YEARS * 86400
        stamps = sorted(start + rnd() * (now_ts - start - 60) for _ in range(n))
        big = self.org_ids[0]
        weights = [CLERK_SHARE] + [(1 - CLERK_SHARE) * w for w in _skew(self.n_orgs - 1)]
        orgs = rng.choices(self.org_ids, weights=weights, k=n)
        # a clerk always has some documents waiting to be accepted: the newest 25 of theirs
        waiting = set(itertools.islice((i for i in range(n - 1, -1, -1) if orgs[i] == big), 25))
        exact_done = False
        folded = _fold_cache()
        types = rng.choices(range(len(TYPES)), weights=[t[2] for t in TYPES], k=n)
        issuers = rng.choices(ISSUERS, weights=[i[2] for i in ISSUERS], k=n)
        urgencies = rng.choices((0, 1, 2, 3), weights=(95, 3, 1.5, 0.5), k=n)
        channels = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS, k=n)
        bands = [iter(rng.choices(STATUSES, weights=w, k=n if i == len(STATUS_BANDS) - 1 else n // 4 + 100))
                 for i, (_days, w) in enumerate(STATUS_BANDS)]
        units = ["VP", "KT", "TH", "NC"]
        assignment_id = itertools.count(1)
        for i, ts in enumerate(stamps):
            doc_id, org = i + 1, orgs[i]
            arrived = datetime.fromtimestamp(round(ts, 6), UTC)
            local = arrived + timedelta(hours=7)  # Asia/Ho_Chi_Minh, no daylight saving
            year, arrival_date = local.year, local.date()
            age = (now_ts - ts) / 86400
            band = next(b for b, (days, _w) in enumerate(STATUS_BANDS) if age < days)
            status = "01" if i in waiting else next(bands[band], "06")
            t = types[i]
            organ, organ_short, _w = issuers[i]
            number = str(1 + int(rnd() * 3000))
            type_name, abbr, _w, openings = TYPES[t]
            notation = f"{abbr}-{organ_short}" if abbr else f"{organ_short}-{units[int(rnd() * 4)]}"
            ending = ENDINGS[int(rnd() * len(ENDINGS))].format(year=year, quarter=(local.month - 1) // 3 + 1)
            subject = f"{openings[int(rnd() * len(openings))]} {TOPICS[int(rnd() * len(TOPICS))]}{ending}"
            if not exact_done and org == big and i > n // 2:  # what the bench searches for exists, whatever N
                t, number, notation, organ, exact_done = 1, "15", "QĐ-UBND", "Ủy ban nhân dân tỉnh Hà Nam", True
                type_name, abbr, _w, openings = TYPES[t]
                subject = f"Quyết định về công tác văn thư, lưu trữ năm {year}"
            urgency = urgencies[i]
            closed = status in ("02", "06", "15")
            urgent = 1 if urgency >= 1 and not closed else 0
            numbered = status != "01" and not (status == "03" and rnd() < 0.4)
            arrival_number = None
            if numbered:
                key = (org, year)
                arrival_number = self.counters[key] = self.counters.get(key, 0) + 1
            registered_at = arrived + timedelta(minutes=5 + int(rnd() * 600)) if status != "01" else None
            presented = status in ("03p", "04", "05", "06")
            due = arrival_date + timedelta(days=7 + int(rnd() * 24)) if rnd() < 0.3 else None
            completed = arrived + timedelta(days=1 + int(rnd() * 20)) if status == "06" else None
            signer = SIGNERS[int(rnd() * len(SIGNERS))]
            doc = {
                "id": doc_id, "organisation_id": org, "status": status, "channel": channels[i],
                "book_id": self.book_of[org] if numbered else None, "year": year if numbered else None,
                "arrival_number": arrival_number, "arrived_at": arrived, "registered_at": registered_at,
                "registered_by_id": self.clerk_of[org] if registered_at else None, "has_paper": False,
                "document_type_id": t + 1, "organ_name_folded": folded(organ),
                "code_key": code_key(number, notation), "arrival_date": arrival_date,
                "presented_to_id": self.leader_of[org] if presented else None,
                "presented_at": registered_at + timedelta(minutes=30) if presented and registered_at else None,
                "completed_at": completed,
                "sort_key": f"{urgent}{int(arrived.timestamp() * 1_000_000):017d}{doc_id:012d}",
                "type_name": type_name, "code_number": number, "code_notation": notation,
                "issued_date": arrival_date - timedelta(days=int(rnd() * 6)), "organ_name": organ,
                "subject": subject, "subject_folded": folded(subject), "language": "Tiếng Việt",
                "page_amount": 1 + int(rnd() * 12), "signer_position": signer[0], "signer_name": signer[1],
                "urgency": urgency, "secrecy": 0, "due_date": due, "created_at": arrived,
            }
            rows: list[dict[str, Any]] = []
            if status in ("04", "05", "06"):
                state = {"04": "moi", "05": "dang_xu_ly", "06": "hoan_thanh"}[status]
                assigned_at = arrived + timedelta(hours=1 + int(rnd() * 48))
                lead = next(assignment_id)
                rows.append(self._assignment(lead, doc_id, None, 1, None, self.unit_of[org], due,
                                             self.leader_of[org], assigned_at, state, completed))
                if status != "06" or rnd() < 0.2:
                    rows.append(self._assignment(next(assignment_id), doc_id, lead, 2, self.officer_of[org], None,
                                                 due, self.head_of[org], assigned_at + timedelta(hours=2), state,
                                                 completed))
            self.assignments += len(rows)
            yield doc, rows

    @staticmethod
    def _assignment(id_: int, doc: int, parent: int | None, level: int, user: int | None, unit: int | None,
                    deadline: date | None, by: int, at: datetime, state: str,
                    finished: datetime | None) -> dict[str, Any]:
        return {"id": id_, "document_id": doc, "parent_id": parent, "level": level, "assignee_user_id": user,
                "assignee_unit_id": unit, "role": "chu_tri", "deadline": deadline,
                "directive": "Giao Văn phòng chủ trì, tham mưu xử lý." if level == 1 else None,
                "assigned_by_id": by, "assigned_at": at, "state": state, "finished_at": finished}


def _skew(k: int) -> list[float]:
    """Zipf-like sizes: a few departments are big, most communes small."""
    raw = [1 / (rank + 1) ** 0.9 for rank in range(k)]
    total = sum(raw)
    return [w / total for w in raw]


STATUSES = ("01", "03", "03p", "04", "05", "06")
STATUS_BANDS = (  # age in days below which, weights of STATUSES: recent documents are still open
    (3, (20, 10, 15, 25, 20, 10)),
    (30, (0, 2, 4, 20, 30, 44)),
    (180, (0, 0, 0.5, 2.5, 7, 90)),
    (float("inf"), (0, 0, 0, 0.3, 0.7, 99)),
)


def fill(app: Flask, url: str, n_docs: int, n_orgs: int) -> dict[str, Any]:
    engine: Engine = app.extensions["engine"]
    plan = Fill(n_docs, n_orgs, random.Random(SEED))
    with app.app_context():
        password_hash = passwords.hash_password(PASSWORD)
    start = time.perf_counter()
    users, positions, roles = plan.people(password_hash)
    with engine.begin() as conn:
        for table, rows in ((Organisation, plan.organisations()), (User, users), (Position, positions),
                            (PositionRole, roles), (DocumentType, plan.document_types()),
                            (RegisterBook, plan.books())):
            conn.execute(insert(table), rows)
    timings: dict[str, float] = {}
    if engine.dialect.name == "postgresql":
        _load_postgresql(engine, plan, timings)
    else:
        _load_sqlite(engine, plan, timings)
    with engine.begin() as conn:
        if plan.counters:
            conn.execute(insert(RegisterCounter), plan.register_counters())
        if engine.dialect.name == "postgresql":
            for table in ("organisations", "users", "positions", "position_roles", "document_types",
                          "register_books", "incoming_documents", "incoming_assignments"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                  f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # VACUUM too on PostgreSQL: the visibility map a settled database has, and no autovacuum
        # of the freshly loaded tables competing with the measurement
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    timings["vacuum_analyze_s"] = time.perf_counter() - started
    total = time.perf_counter() - start
    return {"fill_s": round(total, 1), "fill_docs_per_s": round(n_docs / total), "assignments": plan.assignments,
            **{k: round(v, 1) for k, v in timings.items()}}


def _load_sqlite(engine: Engine, plan: Fill, timings: dict[str, float]) -> None:
    started = time.perf_counter()
    docs: list[dict[str, Any]] = []
    assignments: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for doc, rows in plan.documents():
            docs.append(doc)
            assignments.extend(rows)
            if len(docs) >= CHUNK:  # documents first: assignments point at them
                conn.execute(insert(IncomingDocument), docs)
                docs.clear()
                if assignments:
                    conn.execute(insert(Assignment), assignments)
                    assignments.clear()
        if docs:
            conn.execute(insert(IncomingDocument), docs)
        if assignments:
            conn.execute(insert(Assignment), assignments)
    timings["load_s"] = time.perf_counter() - started


DOC_COLUMNS = ["id", "organisation_id", "status", "channel", "book_id", "year", "arrival_number", "arrived_at",
               "registered_at", "registered_by_id", "has_paper", "document_type_id", "organ_name_folded", "code_key",
               "arrival_date", "presented_to_id", "presented_at", "completed_at", "sort_key", "type_name",
               "code_number", "code_notation", "issued_date", "organ_name", "subject", "subject_folded", "language",
               "page_amount", "signer_position", "signer_name", "urgency", "secrecy", "due_date", "created_at"]
ASSIGNMENT_COLUMNS = ["id", "document_id", "parent_id", "level", "assignee_user_id", "assignee_unit_id", "role",
                      "deadline", "directive", "assigned_by_id", "assigned_at", "state", "finished_at"]
LOADED_TABLES = ("incoming_documents", "incoming_assignments")


def _load_postgresql(engine: Engine, plan: Fill, timings: dict[str, float]) -> None:
    """COPY into the two big tables with their secondary indexes dropped (rebuilt afterwards, as
    the migrations define them) and foreign-key triggers off: the rows are consistent by
    construction, and the constraints stay declared."""
    with engine.connect() as conn:
        indexes = conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('incoming_documents', "
            "'incoming_assignments') AND indexname NOT IN (SELECT conname FROM pg_constraint)")).all()
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for name, _definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SET session_replication_role = replica")  # no FK trigger per row (superuser)
        doc_copy = f"COPY incoming_documents ({', '.join(DOC_COLUMNS)}) FROM STDIN"
        assignments: list[tuple[Any, ...]] = []
        with cur.copy(doc_copy) as copy:
            for doc, rows in plan.documents():
                copy.write_row([doc[c] for c in DOC_COLUMNS])
                assignments.extend(tuple(r[c] for c in ASSIGNMENT_COLUMNS) for r in rows)
        with cur.copy(f"COPY incoming_assignments ({', '.join(ASSIGNMENT_COLUMNS)}) FROM STDIN") as copy:
            for row in assignments:
                copy.write_row(row)
        cur.execute("SET session_replication_role = DEFAULT")
        raw.commit()
        timings["load_s"] = time.perf_counter() - started
        started = time.perf_counter()
        cur.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cur.execute(definition)
        raw.commit()
        timings["indexes_s"] = time.perf_counter() - started
    finally:
        raw.close()


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


def _signed_in_clerk() -> User:
    """The clerk as the session loader builds them, detached so it outlives each request's session."""
    user = session.execute(select(User).where(User.username == CLERK).options(
        selectinload(User.positions).selectinload(Position.roles),
        selectinload(User.positions).selectinload(Position.organisation),
        selectinload(User.positions).selectinload(Position.unit))).scalar_one()
    user.current_position = user.positions[0]
    session.remove()
    return user


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return round(statistics.median(ordered) * 1000, 2), round(p95 * 1000, 2)


class StatementCounter:
    """Statements per request and the time spent in them (database + driver)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.seconds = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, *_args: Any) -> None:
        self.count += 1
        self.seconds += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def measure(app: Flask, requests: int) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    engine: Engine = app.extensions["engine"]
    counter = StatementCounter(engine)
    http = any(rule.rule == "/van-ban-den/" and "GET" in (rule.methods or ()) for rule in app.url_map.iter_rules())
    with app.app_context():
        user = _signed_in_clerk()
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
        url, drop = (args.url, lambda: None) if args.url else database(args.database, tmp, args.keep)
        try:
            migrate.upgrade(url)
            app = create_app({**SETTINGS, "DATABASE_URL": url, "STORAGE_DIR": tmp})
            if args.custom_plans and args.database == "postgresql":
                event.listen(app.extensions["engine"], "connect", _custom_plans)
                app.extensions["engine"].dispose()  # no pooled connection without the setting
            filled: dict[str, Any] = {}
            if not args.url:
                filled = fill(app, url, args.documents, args.organisations)
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
