"""The demo province (``flask --app wsgi portal seed-demo``): a fictional tỉnh Ninh Bình as it is since
1 July 2025 (SPEC §18), under the two-level model: the Ủy ban nhân dân tỉnh at the root, its Văn
phòng, three sở and three phường directly under it (no district level), their phòng, a person in every
role, the NĐ 30 document types, one incoming and one outgoing book per organisation, a few dozen
documents over this year and the last, and this week's published schedule of the Văn phòng.

- ``organisations``: the tree and the ministries that write to it;
- ``people``: the accounts docs/DEMO.md publishes;
- ``catalogue``: document types, books and what is issued and received;
- ``documents``: numbering them as clerks would; ``schedule``: the week.

Organisations and people go through the services an administrator uses (``orgs.services.create``,
``accounts.create_person``), so the demo obeys the same validation and lands in the audit chain.

Running it again creates nothing: organisations are recognised by mã định danh, units by parent
and abbreviation, people by username, types by name, books by organisation and name, and
documents by owner and trích yếu. ``seed`` only flushes; the CLI commits.

The demo passwords are published in docs/DEMO.md: never load them into a production database.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from portal import audit
from portal.db import session
from portal.demo.documents import seed_books, seed_document_types, seed_incoming, seed_outgoing
from portal.demo.organisations import EXTERNALS, ORGANISATIONS, PROVINCE, seed_organisations
from portal.demo.people import ACCOUNTS, DemoAccount, seed_people
from portal.demo.schedule import seed_schedule
from portal.orgs.models import Organisation

__all__ = ["ACCOUNTS", "EXTERNALS", "ORGANISATIONS", "PROVINCE", "DemoAccount", "database_is_empty", "seed"]


def database_is_empty() -> bool:
    """No organisation yet: a fresh installation (``seed-demo --if-empty``)."""
    return session.execute(select(Organisation.id).limit(1)).first() is None


def seed() -> str:
    """Build whatever of the demo province is missing and say what was created, in Vietnamese."""
    created: Counter[str] = Counter()
    nodes = seed_organisations(created)
    seed_people(nodes, created)
    types = seed_document_types(created)
    books = seed_books(nodes, created)
    outgoing = seed_outgoing(nodes, types, books, created)
    seed_incoming(nodes, books, outgoing, created)
    seed_schedule(nodes, created)
    if created:
        audit.record(None, "demo.seed", object_type="demo", actor_name="seed-demo", details=dict(created))
    return _report(created)


def _report(created: Counter[str]) -> str:
    if not created:
        return "Dữ liệu mẫu tỉnh Ninh Bình đã có đủ; không tạo thêm gì."
    parts = [f"{created[key]} {label}" for key, label in (
        ("organisations", "cơ quan"), ("units", "phòng, ban"), ("people", "tài khoản"),
        ("document_types", "loại văn bản"), ("books", "sổ văn bản"), ("outgoing", "văn bản đi"),
        ("incoming", "văn bản đến"), ("schedule_entries", "mục lịch công tác")) if created[key]]
    return "Đã tạo dữ liệu mẫu tỉnh Ninh Bình: " + "; ".join(parts) + "."
