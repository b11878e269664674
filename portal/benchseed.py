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
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

from flask import current_app
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Engine, Table, func, insert, select, text

from portal import storage
from portal.auth import passwords
from portal.auth.models import Role
from portal.db import Base, session
from portal.documents import numbering
from portal.documents.models import DocumentType, IncomingDocument, OutgoingDocument
from portal.incoming.services import code_key
from portal.text import fold

PASSWORD = "Đo-Hiệu-Năng@2026"  # noqa: S105  (printed on purpose: throwaway accounts of a load-test database)
CLERK = "vanthu.bench"  # the clerk of the biggest organisation (Sở Nội vụ)
SEED = 20261121
YEARS = 5
CLERK_SHARE = 0.05  # the first organisation receives 5 % of all documents, the rest a Zipf-like spread
OUTGOING_SHARE = 0.2  # of --documents: issued by the organisations (each with its draft)
OPEN_DRAFT_SHARE = 0.03  # drafts still on their way, relative to the outgoing documents
CHUNK = 10_000
LOCAL = timedelta(hours=7)  # Asia/Ho_Chi_Minh, no daylight saving

# --- realistic Vietnamese content ---------------------------------------------------------------------

DEPARTMENTS = [
    ("Sở Nội vụ", "SNV"), ("Sở Tài chính", "STC"), ("Sở Kế hoạch và Đầu tư", "SKHĐT"), ("Sở Tư pháp", "STP"),
    ("Sở Xây dựng", "SXD"), ("Sở Giao thông vận tải", "SGTVT"), ("Sở Tài nguyên và Môi trường", "STNMT"),
    ("Sở Nông nghiệp và Phát triển nông thôn", "SNNPTNT"), ("Sở Y tế", "SYT"), ("Sở Giáo dục và Đào tạo", "SGDĐT"),
    ("Sở Công Thương", "SCT"), ("Sở Thông tin và Truyền thông", "STTTT"),
    ("Sở Lao động - Thương binh và Xã hội", "SLĐTBXH"), ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL"),
    ("Sở Khoa học và Công nghệ", "SKHCN"), ("Thanh tra tỉnh", "TTr"), ("Văn phòng Ủy ban nhân dân tỉnh", "VPUBND"),
    ("Ban Dân tộc", "BDT"),
]
PLACES = ["Phủ Lý", "Duy Tiên", "Kim Bảng", "Thanh Liêm", "Bình Lục", "Lý Nhân", "Châu Sơn", "Lam Hạ", "Tiên Tân",
          "Liêm Chính", "Thanh Châu", "Đồng Văn", "Hòa Mạc", "Ba Sao", "Quế", "Kiện Khê", "Tân Thanh", "Vĩnh Trụ",
          "Nhân Hậu", "Đạo Lý", "Bồ Đề", "An Nội", "Trịnh Xá", "Liêm Tuyết", "Thi Sơn", "Tượng Lĩnh", "Nguyễn Úy"]
DEPARTMENT_UNITS = [("Văn phòng", "VP"), ("Phòng Kế hoạch - Tài chính", "KHTC"), ("Phòng Quản lý chuyên ngành", "QLCN")]
COMMUNE_UNITS = [("Văn phòng - Thống kê", "VP"), ("Phòng Kinh tế", "KT"), ("Phòng Văn hóa - Xã hội", "VHXH")]
ISSUERS = [  # organ name, its short name in ký hiệu, weight
    ("Ủy ban nhân dân tỉnh Ninh Bình", "UBND", 30), ("Văn phòng Ủy ban nhân dân tỉnh Ninh Bình", "VPUBND", 10),
    ("Tỉnh ủy Ninh Bình", "TU", 5), ("Hội đồng nhân dân tỉnh Ninh Bình", "HĐND", 3), ("Bộ Nội vụ", "BNV", 4),
    ("Văn phòng Chính phủ", "VPCP", 4), ("Bộ Tài chính", "BTC", 3), ("Bộ Khoa học và Công nghệ", "BKHCN", 3),
    ("Sở Nội vụ tỉnh Ninh Bình", "SNV", 8), ("Sở Tài chính tỉnh Ninh Bình", "STC", 6),
    ("Sở Xây dựng tỉnh Ninh Bình", "SXD", 5), ("Sở Nông nghiệp và Môi trường tỉnh Ninh Bình", "SNNMT", 5),
    ("Ủy ban nhân dân phường Hoa Lư", "UBND", 3), ("Ủy ban nhân dân phường Phủ Lý", "UBND", 3),
    ("Ủy ban nhân dân phường Nam Định", "UBND", 3), ("Ủy ban nhân dân phường Duy Tiên", "UBND", 3),
    ("Công an tỉnh Ninh Bình", "CAT", 3), ("Bảo hiểm xã hội tỉnh Ninh Bình", "BHXH", 2),
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
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý"]
MEN = (["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Công"],
       ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn", "Thắng",
        "Tuấn", "Việt"])
WOMEN = (["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Kim"],
         ["Anh", "Chi", "Dung", "Giang", "Hà", "Hằng", "Hương", "Lan", "Linh", "Mai", "Oanh", "Phương", "Thảo",
          "Trang", "Yến"])
DIRECTIVES = ["Giao {unit} chủ trì, tham mưu xử lý.", "Giao {unit} nghiên cứu, đề xuất; báo cáo trước hạn.",
              "Giao {unit} chủ trì phối hợp các đơn vị liên quan triển khai thực hiện."]

# (username prefix, title, roles, unit index or None) of the people of every organisation
STAFF: list[tuple[str, str, tuple[Role, ...], int | None]] = [
    ("vanthu", "Văn thư", (Role.CLERK,), 0),
    ("lanhdao", "{head}", (Role.AGENCY_LEADER,), None),
    ("pholanhdao", "Phó {head}", (Role.AGENCY_LEADER,), None),
    ("chanhvanphong", "Chánh Văn phòng", (Role.UNIT_HEAD, Role.FORMAT_CHECKER), 0),
    ("chuyenvienvp", "Chuyên viên", (Role.OFFICER, Role.SCHEDULE_EDITOR), 0),
    ("truongphong", "Trưởng phòng", (Role.UNIT_HEAD,), 1),
    ("chuyenvien", "Chuyên viên", (Role.OFFICER,), 1),
    ("chuyenvienb", "Chuyên viên chính", (Role.OFFICER,), 1),
    ("truongphongb", "Trưởng phòng", (Role.UNIT_HEAD,), 2),
    ("chuyenvienc", "Chuyên viên", (Role.OFFICER,), 2),
    ("luutru", "Lưu trữ viên", (Role.ARCHIVIST,), 0),
    ("quantri", "Quản trị hệ thống cơ quan", (Role.ORG_ADMIN,), 0),
]
CLERK_I, LEADER_I, DEPUTY_I, VP_HEAD_I = 0, 1, 2, 3
UNIT_HEADS = (3, 5, 8)  # index in STAFF of the head of unit 0, 1, 2
UNIT_OFFICERS = ((4,), (6, 7), (9,))

STATUSES = ("01", "03", "03p", "04", "05", "06")
STATUS_BANDS = (  # age in days below which, weights of STATUSES: recent documents are still open
    (3, (20, 10, 15, 25, 20, 10)),
    (30, (0, 2, 4, 20, 30, 44)),
    (180, (0, 0, 0.5, 2.5, 7, 90)),
    (float("inf"), (0, 0, 0, 0.3, 0.7, 99)),
)
OPEN_DRAFT_STATUSES = ("soan_thao", "cho_duyet", "cho_the_thuc", "cho_ky", "da_ky")
DRAFT_CHAIN = (  # action, status afterwards: the way of an issued draft (SPEC §6)
    ("create", "soan_thao"), ("submit", "cho_duyet"), ("approve", "cho_the_thuc"), ("format_ok", "cho_ky"),
    ("sign", "da_ky"), ("issue", "da_phat_hanh"),
)

COLUMNS: dict[str, list[str]] = {
    "incoming_documents": [
        "id", "organisation_id", "status", "channel", "book_id", "year", "arrival_number", "arrived_at",
        "registered_at", "registered_by_id", "has_paper", "document_type_id", "organ_name_folded", "code_key",
        "arrival_date", "presented_to_id", "presented_at", "completed_at", "sort_key", "type_name", "code_number",
        "code_notation", "issued_date", "organ_name", "subject", "subject_folded", "language", "page_amount",
        "signer_position", "signer_name", "urgency", "secrecy", "due_date", "created_at", "main_file_sha256",
        "signature_verdict", "result_text"],
    "incoming_assignments": [
        "id", "document_id", "parent_id", "level", "assignee_user_id", "assignee_unit_id", "role", "deadline",
        "directive", "assigned_by_id", "assigned_at", "state", "finished_at", "sort_key"],
    "incoming_files": [
        "id", "document_id", "sha256", "filename", "size", "role", "uploaded_by_id", "uploaded_at", "view_count",
        "download_count", "signature_verdict"],
    "incoming_events": [
        "id", "document_id", "at", "actor_id", "actor_name", "action", "status", "status_changed", "text",
        "assignment_id"],
    "outgoing_documents": [
        "id", "organisation_id", "unit_id", "status", "book_id", "year", "number", "document_type_id", "issued_at",
        "issued_by_id", "document_id", "identifier", "issued_amount", "recipients_text", "file_sha256", "type_name",
        "code_number", "code_notation", "issued_date", "organ_name", "subject", "subject_folded", "language",
        "page_amount", "signer_position", "signer_name", "urgency", "secrecy", "due_date", "main_file_sha256",
        "created_at"],
    "drafts": [
        "id", "organisation_id", "unit_id", "drafter_id", "status", "holder_id", "document_type_id", "type_name",
        "subject", "subject_folded", "urgency", "secrecy", "signer_id", "authority", "signer_title", "due_date",
        "current_version", "frozen_sha256", "signed_sha256", "signed_at", "signed_by_id", "outgoing_id",
        "created_at", "updated_at"],
    "draft_versions": ["id", "draft_id", "number", "sha256", "filename", "size", "note", "uploaded_by_id",
                       "uploaded_at"],
    "draft_events": ["id", "draft_id", "at", "actor_id", "actor_name", "action", "status", "version_number", "text"],
}
STREAMED = tuple(COLUMNS)  # in foreign-key order
ID_TABLES = ("organisations", "users", "positions", "position_roles", "document_types", "register_books",
             *STREAMED)


def _skew(k: int) -> list[float]:
    """Zipf-like sizes: a few departments are big, most communes small."""
    raw = [1 / (rank + 1) ** 0.9 for rank in range(k)]
    total = sum(raw)
    return [w / total for w in raw]


def _fold_cache() -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def cached(value: str) -> str:
        folded = cache.get(value)
        if folded is None:
            folded = cache[value] = fold(value)
        return folded

    return cached


def person_name(uid: int) -> str:
    middle, given = WOMEN if uid % 3 == 1 else MEN
    return f"{FAMILY[uid * 7 % len(FAMILY)]} {middle[uid % len(middle)]} {given[uid * 5 % len(given)]}"


def sample_pdf(n: int) -> bytes:
    """A one-page PDF (a few kilobytes) standing in for a scanned or signed document."""
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    pdf.setTitle(f"Van ban mau {n}")
    pdf.drawString(72, 760, f"UY BAN NHAN DAN TINH NINH BINH - van ban mau so {n}")
    for line in range(8 * n):
        pdf.drawString(72, 730 - 14 * (line % 45), f"Noi dung dong {line + 1}: {fold(TOPICS[line % len(TOPICS)])}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- the plan: every row, with ids chosen up front -----------------------------------------------------

@dataclass
class Org:
    id: int
    index: int
    name: str
    short: str
    organ_id: str
    units: list[tuple[int, str, str]]  # id, name, short name
    staff: list[int]  # user ids, in STAFF order
    in_book: int
    out_book: int


@dataclass
class Plan:
    """What ``fill`` writes. ``base`` holds the first free id of each table (1 on an empty
    database), ``tag`` keeps usernames and organ ids unique when filling a database again."""

    n_incoming: int
    n_outgoing: int
    n_orgs: int
    rng: random.Random
    base: dict[str, int]
    tag: str = ""
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    files: list[tuple[str, int]] = field(default_factory=list)  # sha256, size of the stored sample PDFs
    type_ids: list[int] = field(default_factory=list)
    counters: dict[tuple[int, int], int] = field(default_factory=dict)  # (book, year) -> last number
    rows: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        b = self.base
        self.province = b["organisations"]
        self.names: dict[int, str] = {}
        self.orgs: list[Org] = []
        for i in range(self.n_orgs):
            oid = self.province + 1 + 4 * i
            if i < len(DEPARTMENTS):
                name, short = DEPARTMENTS[i]
                units = DEPARTMENT_UNITS
            else:
                place = PLACES[i % len(PLACES)]
                name, short, units = f"Ủy ban nhân dân xã {place} {i // len(PLACES) + 1}", "UBND", COMMUNE_UNITS
            staff = [b["users"] + 2 + len(STAFF) * i + k for k in range(len(STAFF))]
            self.orgs.append(Org(oid, i, name, short, f"{self._root_organ()}.{i + 1:02d}",
                                 [(oid + 1 + u, n, s) for u, (n, s) in enumerate(units)], staff,
                                 b["register_books"] + 2 * i, b["register_books"] + 2 * i + 1))

    def _root_organ(self) -> str:
        return f"H40{'.B' + self.tag if self.tag else ''}"

    def _login(self, prefix: str, i: int) -> str:
        return f"{prefix}{'.bench' if i == 0 else i}{'.' + self.tag if self.tag else ''}"

    # --- small tables ---------------------------------------------------------------------------

    def organisations(self) -> list[dict[str, Any]]:
        rows = [self._org(self.province, None, self.province, f"/{self.province}/", 0, "people_committee", True,
                          "Ủy ban nhân dân tỉnh Ninh Bình", "UBND", self._root_organ())]
        for org in self.orgs:
            kind = "department" if org.index < len(DEPARTMENTS) else "commune"
            path = f"/{self.province}/{org.id}/"
            rows.append(self._org(org.id, self.province, org.id, path, 1, kind, True, org.name, org.short,
                                  org.organ_id))
            for uid, name, short in org.units:
                rows.append(self._org(uid, org.id, org.id, f"{path}{uid}/", 2, "internal_unit", False, name, short,
                                      None))
        return rows

    def _org(self, id_: int, parent: int | None, owner: int, path: str, depth: int, kind: str, issuing: bool,
             name: str, short: str, organ_id: str | None) -> dict[str, Any]:
        return {"id": id_, "parent_id": parent, "owner_id": owner, "path": path, "depth": depth, "kind": kind,
                "is_issuing": issuing, "name": name, "name_folded": fold(name), "short_name": short,
                "organ_id": organ_id, "created_at": self.now - timedelta(days=365 * YEARS + 30)}

    def people(self, password_hash: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        users: list[dict[str, Any]] = []
        positions: list[dict[str, Any]] = []
        roles: list[dict[str, Any]] = []
        role_id = itertools.count(self.base["position_roles"])
        pos_base = self.base["positions"] - self.base["users"]

        def add(uid: int, login: str, title: str, granted: tuple[Role, ...], org: int, unit: int | None) -> None:
            full = self.names[uid] = person_name(uid)
            users.append({"id": uid, "username": login, "full_name": full, "full_name_folded": fold(full),
                          "email": f"{login}@ninhbinh.gov.vn", "status": "active", "source": "local",
                          "password_hash": password_hash, "password_changed_at": self.now,
                          "must_change_password": False, "created_at": self.now})
            positions.append({"id": uid + pos_base, "user_id": uid, "organisation_id": org, "unit_id": unit,
                              "title": title, "is_primary": True})
            roles.extend({"id": next(role_id), "position_id": uid + pos_base, "role": r.value} for r in granted)

        first = self.base["users"]
        add(first, self._login("quantrihethong", 0), "Quản trị hệ thống", (Role.SYSTEM_ADMIN,), self.province, None)
        add(first + 1, self._login("theodoi", 0), "Chuyên viên theo dõi toàn tỉnh", (Role.OVERVIEW,), self.province,
            None)
        for org in self.orgs:
            head = "Giám đốc" if org.index < len(DEPARTMENTS) else "Chủ tịch"
            for uid, (prefix, title, granted, unit) in zip(org.staff, STAFF, strict=True):
                add(uid, self._login(prefix, org.index), title.format(head=head), granted, org.id,
                    None if unit is None else org.units[unit][0])
        return users, positions, roles

    def books(self) -> list[dict[str, Any]]:
        rows = []
        for org in self.orgs:
            rows.append({"id": org.in_book, "organisation_id": org.id, "direction": "in", "name": "Sổ văn bản đến",
                         "is_secret": False, "notation_template": "{so}", "active": True})
            rows.append({"id": org.out_book, "organisation_id": org.id, "direction": "out", "name": "Sổ văn bản đi",
                         "is_secret": False, "notation_template": "{so}/{loai}-{co_quan}", "active": True})
        return rows

    def register_counters(self) -> list[dict[str, Any]]:
        return [{"book_id": book, "year": year, "last_number": last}
                for (book, year), last in sorted(self.counters.items())]

    def _next_number(self, book: int, year: int) -> int:
        value = self.counters[(book, year)] = self.counters.get((book, year), 0) + 1
        return value

    def _count(self, table: str, k: int = 1) -> None:
        self.rows[table] = self.rows.get(table, 0) + k

    # --- incoming ---------------------------------------------------------------------------------

    def incoming(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """Documents in arrival order (ids grow with time, as in production), each followed by its
        assignments, files and history. The random choices are drawn in bulk: one call per row and
        field would double the time."""
        rng, n, now = self.rng, self.n_incoming, self.now
        if n == 0:
            return
        rnd = rng.random
        now_ts = now.timestamp()
        start = now_ts - 365 * YEARS * 86400
        stamps = sorted(start + rnd() * (now_ts - start - 60) for _ in range(n))
        big = self.orgs[0]
        weights = [CLERK_SHARE] + [(1 - CLERK_SHARE) * w for w in _skew(self.n_orgs - 1)]
        orgs = rng.choices(self.orgs, weights=weights, k=n) if self.n_orgs > 1 else [big] * n
        # a clerk always has some documents waiting to be accepted: the newest 25 of theirs
        waiting = set(itertools.islice((i for i in range(n - 1, -1, -1) if orgs[i] is big), 25))
        exact_done = False
        folded = _fold_cache()
        types = rng.choices(range(len(TYPES)), weights=[t[2] for t in TYPES], k=n)
        issuers = rng.choices(ISSUERS, weights=[i[2] for i in ISSUERS], k=n)
        urgencies = rng.choices((0, 1, 2, 3), weights=(95, 3, 1.5, 0.5), k=n)
        channels = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS, k=n)
        bands = [iter(rng.choices(STATUSES, weights=w, k=n if i == len(STATUS_BANDS) - 1 else n // 4 + 100))
                 for i, (_days, w) in enumerate(STATUS_BANDS)]
        notation_units = ["VP", "KT", "TH", "NC"]
        b = self.base
        doc_ids = itertools.count(b["incoming_documents"])
        assignment_ids = itertools.count(b["incoming_assignments"])
        file_ids = itertools.count(b["incoming_files"])
        event_ids = itertools.count(b["incoming_events"])
        names = self.names
        files = self.files
        latest = now - timedelta(minutes=1)

        def later(t: datetime, max_minutes: float) -> datetime:
            return min(t + timedelta(minutes=1 + rnd() * max_minutes), latest)

        for i, ts in enumerate(stamps):
            doc_id, org = next(doc_ids), orgs[i]
            arrived = datetime.fromtimestamp(round(ts, 6), UTC)
            local = arrived + LOCAL
            year, arrival_date = local.year, local.date()
            age = (now_ts - ts) / 86400
            band = next(k for k, (days, _w) in enumerate(STATUS_BANDS) if age < days)
            status = "01" if i in waiting else next(bands[band], "06")
            t = types[i]
            organ, organ_short, _w = issuers[i]
            number = str(1 + int(rnd() * 3000))
            type_name, abbr, _w, openings = TYPES[t]
            notation = f"{abbr}-{organ_short}" if abbr else f"{organ_short}-{notation_units[int(rnd() * 4)]}"
            ending = ENDINGS[int(rnd() * len(ENDINGS))].format(year=year, quarter=(local.month - 1) // 3 + 1)
            subject = f"{openings[int(rnd() * len(openings))]} {TOPICS[int(rnd() * len(TOPICS))]}{ending}"
            if not exact_done and org is big and i > n // 2:  # what the benchmarks search for exists, whatever N
                t, number, notation, organ, exact_done = 1, "15", "QĐ-UBND", "Ủy ban nhân dân tỉnh Ninh Bình", True
                type_name, abbr, _w, openings = TYPES[t]
                subject = f"Quyết định về công tác văn thư, lưu trữ năm {year}"
            channel = channels[i]
            paper = channel == "giay"
            if paper and status == "01":
                channel, paper = "noi_bo", False  # paper is registered when it is scanned: never waiting
            urgency = urgencies[i]
            closed = status == "06"
            urgent = 1 if urgency >= 1 and not closed else 0
            numbered = status != "01" and (paper or not (status == "03" and rnd() < 0.4))
            arrival_number = self._next_number(org.in_book, year) if numbered else None
            staff = org.staff
            clerk, leader = staff[CLERK_I], staff[LEADER_I if rnd() < 0.7 else DEPUTY_I]
            registered_at = later(arrived, 600) if status != "01" else None
            presented = status in ("03p", "04", "05", "06")
            presented_at = later(registered_at, 60) if presented and registered_at else None
            due = arrival_date + timedelta(days=7 + int(rnd() * 24)) if rnd() < 0.3 else None
            assigned_at = later(presented_at, 48 * 60) if presented_at and status != "03p" else None
            completed = later(assigned_at, 20 * 1440) if status == "06" and assigned_at else None
            signer = SIGNERS[int(rnd() * len(SIGNERS))]
            main_sha, main_size = files[int(rnd() * len(files))]
            verdict = "Hợp lệ" if channel in ("truc", "lgsp") else None
            key = f"{urgent}{int(arrived.timestamp() * 1_000_000):017d}{doc_id:012d}"
            self._count("incoming_documents")
            yield "incoming_documents", (
                doc_id, org.id, status, channel, org.in_book if numbered else None, year if numbered else None,
                arrival_number, arrived, registered_at, clerk if registered_at else None, paper, self.type_ids[t],
                folded(organ), code_key(number, notation), arrival_date, leader if presented else None, presented_at,
                completed, key, type_name, number,
                notation, arrival_date - timedelta(days=int(rnd() * 6)), organ, subject, folded(subject),
                "Tiếng Việt", 1 + int(rnd() * 12), signer[0], signer[1], urgency, 0, due, arrived, main_sha, verdict,
                "Đã tham mưu văn bản trả lời, báo cáo lãnh đạo." if closed else None)
            filename = f"{number.zfill(2)}-{notation}.pdf"
            self._count("incoming_files")
            yield "incoming_files", (next(file_ids), doc_id, main_sha, filename, main_size, "main",
                                     clerk if paper else None, arrived, 0, 0, verdict)
            if rnd() < 0.15:
                sha, size = files[int(rnd() * len(files))]
                self._count("incoming_files")
                yield "incoming_files", (next(file_ids), doc_id, sha, "Phụ lục kèm theo.pdf", size, "attachment",
                                         clerk if paper else None, arrived, 0, 0, verdict)
            # history: what the services write at each step
            events: list[tuple[datetime, int | None, str, str, str, str | None, int | None]] = []
            number_text = f"Số đến {numbering.display(arrival_number)}" if arrival_number else None
            if paper:
                events.append((registered_at, clerk, names[clerk], "digitise", "03", number_text, None))
            else:
                events.append((arrived, None, organ, "arrive", "01", None, None))
                if registered_at:
                    events.append((registered_at, clerk, names[clerk], "register" if numbered else "accept", "03",
                                   number_text, None))
            if presented_at:
                events.append((presented_at, clerk, names[clerk], "present", "03p", f"Trình {names[leader]}", None))
            if assigned_at:
                unit_index = int(rnd() * 3)
                unit_id, unit_name, _s = org.units[unit_index]
                state = {"04": "moi", "05": "dang_xu_ly", "06": "hoan_thanh"}[status]
                deadline = due or (arrival_date + timedelta(days=15) if rnd() < 0.4 else None)
                directive = DIRECTIVES[int(rnd() * len(DIRECTIVES))].format(unit=unit_name)
                lead = next(assignment_ids)
                rows = [(lead, doc_id, None, 1, None, unit_id, "chu_tri", deadline, directive, leader, assigned_at,
                         state, completed, key)]
                assignees = [unit_name]
                if rnd() < 0.25:
                    other_id, other_name, _s = org.units[(unit_index + 1) % 3]
                    rows.append((next(assignment_ids), doc_id, None, 1, None, other_id, "phoi_hop", deadline, None,
                                 leader, assigned_at, "hoan_thanh" if closed else "moi", completed, key))
                    assignees.append(f"{other_name} (phối hợp)")
                events.append((assigned_at, leader, names[leader], "direct", "04",
                               directive + "\n" + "; ".join(assignees), lead))
                head = staff[UNIT_HEADS[unit_index]]
                worker = head
                if status != "04" or rnd() < 0.5:
                    officers = UNIT_OFFICERS[unit_index]
                    worker = staff[officers[int(rnd() * len(officers))]]
                    at = later(assigned_at, 240)
                    rows.append((next(assignment_ids), doc_id, lead, 2, worker, None, "chu_tri", deadline,
                                 "Đồng chí nghiên cứu, tham mưu xử lý.", head, at, state, completed, key))
                    events.append((at, head, names[head], "unit_direct", "04",
                                   f"Đồng chí nghiên cứu, tham mưu xử lý.\n{names[worker]}", lead))
                self._count("incoming_assignments", len(rows))
                for row in rows:
                    yield "incoming_assignments", row
                if status in ("05", "06"):
                    at = later(assigned_at, 3 * 1440)
                    if completed:
                        at = min(at, completed)
                    events.append((at, worker, names[worker], "progress", "05",
                                   "Đã dự thảo văn bản trả lời, đang xin ý kiến đơn vị phối hợp.", None))
                if completed:
                    events.append((completed, worker, names[worker], "finish", "06",
                                   "Đã hoàn thành, báo cáo lãnh đạo kết quả xử lý.", None))
            self._count("incoming_events", len(events))
            for at, actor, actor_name, action, ev_status, ev_text, assignment in events:
                yield "incoming_events", (next(event_ids), doc_id, at, actor, actor_name, action, ev_status,
                                          action not in ("unit_direct",), ev_text, assignment)

    # --- outgoing ---------------------------------------------------------------------------------

    def outgoing(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """Issued documents in issuing order, each with the draft it came from (its versions and
        the way through review, format check and signing), then a few drafts still under way."""
        rng, n, now = self.rng, self.n_outgoing, self.now
        if n == 0:
            return
        rnd = rng.random
        now_ts = now.timestamp()
        start = now_ts - 365 * YEARS * 86400
        stamps = sorted(start + rnd() * (now_ts - start - 3600) for _ in range(n))
        weights = [CLERK_SHARE] + [(1 - CLERK_SHARE) * w for w in _skew(self.n_orgs - 1)]
        orgs = rng.choices(self.orgs, weights=weights, k=n) if self.n_orgs > 1 else [self.orgs[0]] * n
        types = rng.choices(range(len(TYPES)), weights=[t[2] for t in TYPES], k=n)
        urgencies = rng.choices((0, 1, 2, 3), weights=(96, 2.5, 1, 0.5), k=n)
        folded = _fold_cache()
        b = self.base
        out_ids = itertools.count(b["outgoing_documents"])
        draft_ids = itertools.count(b["drafts"])
        version_ids = itertools.count(b["draft_versions"])
        event_ids = itertools.count(b["draft_events"])
        names, files = self.names, self.files
        n_open = int(n * OPEN_DRAFT_SHARE)
        for i in range(n + n_open):
            issued = i < n
            org = orgs[i % n]
            t = types[i % n]
            type_name, abbr, _w, openings = TYPES[t]
            staff = org.staff
            unit_index = int(rnd() * 3)
            unit_id, _unit_name, unit_short = org.units[unit_index]
            officers = UNIT_OFFICERS[unit_index]
            drafter = staff[officers[int(rnd() * len(officers))]]
            head = staff[UNIT_HEADS[unit_index]]
            deputy = rnd() < 0.6
            signer = staff[DEPUTY_I if deputy else LEADER_I]
            clerk = staff[CLERK_I]
            # open drafts are recent: "issued_at" is then only when their last step happened
            issued_at = datetime.fromtimestamp(round(stamps[i], 6), UTC) if issued else now - timedelta(days=rnd() * 20)
            local = issued_at + LOCAL
            year = local.year
            ending = ENDINGS[int(rnd() * len(ENDINGS))].format(year=year, quarter=(local.month - 1) // 3 + 1)
            subject = f"{openings[int(rnd() * len(openings))]} {TOPICS[int(rnd() * len(TOPICS))]}{ending}"
            created = issued_at - timedelta(days=1 + rnd() * 9)
            sha, size = files[int(rnd() * len(files))]
            urgency = urgencies[i % n]
            due = local.date() + timedelta(days=10 + int(rnd() * 20)) if rnd() < 0.1 else None
            signer_title = ("Phó " if deputy else "") + ("Giám đốc" if org.index < len(DEPARTMENTS) else "Chủ tịch")
            authority = "KT." if deputy else ""
            draft_id = next(draft_ids)
            out_id = None
            steps = len(DRAFT_CHAIN)
            if issued:
                out_id = next(out_ids)
                number = self._next_number(org.out_book, year)
                notation = f"{abbr}-{org.short}" if abbr else f"{org.short}-{unit_short}"
                shown = numbering.display(number)
                issued_on = local.date()
                self._count("outgoing_documents")
                yield "outgoing_documents", (
                    out_id, org.id, unit_id, "issued", org.out_book, year, number, self.type_ids[t], issued_at, clerk,
                    f"{org.organ_id},{issued_on:%Y/%m/%d},{shown}/{notation}",
                    f"{org.organ_id}-{year}.{shown}/{notation}"[:120], 1 + int(rnd() * 5),
                    f"Như trên; Lưu: VT, {unit_short}.", sha, type_name, shown, notation, issued_on, org.name, subject,
                    folded(subject), "Tiếng Việt", 1 + int(rnd() * 8), signer_title, names[signer][:50], urgency, 0,
                    due, sha, issued_at)
                status, holder = "da_phat_hanh", None
                chain_text = {"issue": f"Số {shown}/{notation}, ngày {issued_on:%d/%m/%Y}; gửi 0 nơi nhận"}
            else:
                steps = 1 + int(rnd() * (len(OPEN_DRAFT_STATUSES)))
                status = DRAFT_CHAIN[steps - 1][1]
                holder = {"soan_thao": drafter, "cho_duyet": head, "cho_ky": signer}.get(status)
                chain_text = {}
            signed = steps >= 5
            self._count("drafts")
            yield "drafts", (
                draft_id, org.id, unit_id, drafter, status, holder, self.type_ids[t], type_name, subject,
                folded(subject), urgency, 0, signer, authority, signer_title, due, 1, sha if steps >= 4 else None,
                sha if signed else None, issued_at - timedelta(hours=2) if signed else None,
                signer if signed else None, out_id, created, issued_at if issued else created)
            self._count("draft_versions")
            yield "draft_versions", (next(version_ids), draft_id, 1, sha, "Dự thảo.pdf", size, None, drafter, created)
            span = (issued_at - created) / steps
            actors = {"create": drafter, "submit": drafter, "approve": head, "format_ok": staff[VP_HEAD_I],
                      "sign": signer, "issue": clerk}
            texts = {"create": "Phiên bản 1: Dự thảo.pdf", "submit": f"Trình {names[head]}", **chain_text}
            self._count("draft_events", steps)
            for k, (action, after) in enumerate(DRAFT_CHAIN[:steps]):
                actor = actors[action]
                yield "draft_events", (next(event_ids), draft_id, created + span * k, actor, names[actor], action,
                                       after, 1, texts.get(action))


# --- writing ---------------------------------------------------------------------------------------

class _InsertSink:
    """SQLite (and any other database): Core executemany in chunks, tables in foreign-key order."""

    def __init__(self, engine: Engine) -> None:
        self.conn = engine.connect()
        self.trans = self.conn.begin()
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in STREAMED}
        self.pending = 0

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        self.buffers[table].append(row)
        self.pending += 1
        if self.pending >= 4 * CHUNK:
            self.flush()

    def flush(self) -> None:
        for table in STREAMED:
            rows = self.buffers[table]
            if rows:
                columns = COLUMNS[table]
                self.conn.execute(insert(_table(table)), [dict(zip(columns, r, strict=True)) for r in rows])
                rows.clear()
        self.pending = 0

    def close(self) -> None:
        self.flush()
        self.trans.commit()
        self.conn.close()

    def abort(self) -> None:
        self.trans.rollback()
        self.conn.close()


class _CopySink:
    """PostgreSQL: one COPY per table, each on its own connection so they stream side by side;
    foreign-key triggers off (``session_replication_role``: a superuser, as on the bench
    servers) since the rows are consistent by construction."""

    def __init__(self, engine: Engine) -> None:
        self.connections: list[Any] = []
        self.contexts: list[Any] = []  # cursor.copy() is a generator context: keep it referenced
        self.copies: dict[str, Any] = {}
        try:
            for table in STREAMED:
                raw = engine.raw_connection()
                self.connections.append(raw)
                cur = raw.cursor()
                cur.execute("SET session_replication_role = replica")
                # the queued writer sends from a thread: the generator goes on while the server parses
                context = cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN",
                                   writer=QueuedLibpqWriter(cur))
                self.contexts.append(context)
                self.copies[table] = context.__enter__()
        except BaseException:
            self.abort()
            raise

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        self.copies[table].write_row(row)

    def close(self) -> None:
        try:
            for context in self.contexts:
                context.__exit__(None, None, None)
            self.contexts, self.copies = [], {}
            for raw in self.connections:
                raw.commit()
        finally:
            self.abort()

    def abort(self) -> None:
        """Closing a connection in the middle of COPY rolls its transaction back."""
        for raw in self.connections:
            raw.close()
        self.connections, self.contexts, self.copies = [], [], {}


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _secondary_indexes(engine: Engine) -> list[tuple[str, str]]:
    """The streamed tables' indexes that are not constraints, with their definitions."""
    query = text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                 "AND tablename = ANY(:tables) AND indexname NOT IN (SELECT conname FROM pg_constraint)")
    with engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(query, {"tables": list(STREAMED)}).all()]


def _rebuild_indexes(engine: Engine, indexes: list[tuple[str, str]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cur.execute(definition)
        raw.commit()
    finally:
        raw.close()


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
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # VACUUM too on PostgreSQL: the visibility map a settled database has (index-only scans),
        # and no autovacuum of the fresh tables competing with the first measurements
        conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    timings["analyze_s"] = time.perf_counter() - step
    logins = [u["username"] for u in users]
    return Report(seconds=time.perf_counter() - started, documents=n_documents, rows=dict(plan.rows),
                  timings={k: round(v, 1) for k, v in timings.items()},
                  clerk=plan._login("vanthu", 0), usernames=logins)
