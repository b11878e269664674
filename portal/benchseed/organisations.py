"""The plan's ids, chosen up front, and its small tables: the organisation tree, the people
(users, positions, roles) and the register books, with the counters the books end with."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from portal.auth.models import Role
from portal.benchseed.content import (
    COMMUNE_UNITS,
    DEPARTMENT_UNITS,
    DEPARTMENTS,
    PLACES,
    STAFF,
    YEARS,
    person_name,
)
from portal.text import fold

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
class PlanBase:
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
