"""The demo province: tỉnh Ninh Bình of the two-level model, built through the services, idempotent,
a person in every role, every published account signs in, its books number 1..n like real ones, and
the header and the date line name the province its own row names."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import config, demo
from portal.audit import AuditEntry
from portal.auth.models import Position, PositionRole, Role, User
from portal.demo.documents import FOUNDED
from portal.documents.models import (
    Channel,
    DocumentType,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
    RegisterBook,
    RegisterCounter,
    Urgency,
)
from portal.errors import ValidationFailed
from portal.orgs import services as orgs
from portal.orgs.models import Organisation, OrgKind
from portal.signatures import service as signatures
from portal.signing import pdfsign
from portal.text import fold
from portal.timeutil import local_year

DEMO_MD = Path(__file__).resolve().parents[1] / "docs" / "DEMO.md"
README = Path(__file__).resolve().parents[1] / "README.md"
ORGANISATION_ROLES = {Role.CLERK, Role.OFFICER, Role.UNIT_HEAD, Role.AGENCY_LEADER, Role.FORMAT_CHECKER,
                      Role.ARCHIVIST, Role.SCHEDULE_EDITOR, Role.ORG_ADMIN}
# README, docs and the browser test publish these; they must not drift
FIXED_ACCOUNTS = [
    ("vanthu.vp", "VanThu@VP2026!", "Văn phòng Ủy ban nhân dân tỉnh", Role.CLERK),
    ("lanhdao.vp", "LanhDao@VP2026!", "Văn phòng Ủy ban nhân dân tỉnh", Role.AGENCY_LEADER),
    ("chuyenvien.vp", "ChuyenVien@VP2026!", "Văn phòng Ủy ban nhân dân tỉnh", Role.OFFICER),
    ("quantri.tinh", "QuanTri@Tinh2026!", "Văn phòng Ủy ban nhân dân tỉnh", Role.SYSTEM_ADMIN),
    ("vanthu.snv", "VanThu@SNV2026!", "Sở Nội vụ", Role.CLERK),
]
COUNTED = (Organisation, User, Position, PositionRole, DocumentType, RegisterBook, RegisterCounter,
           OutgoingDocument, IncomingDocument, AuditEntry)


@pytest.fixture
def seeded(db: Session) -> str:
    return demo.seed()


def _counts(db: Session) -> dict[str, int]:
    counts = {model.__name__: db.execute(select(func.count()).select_from(model)).scalar_one() for model in COUNTED}
    counts["numbers used"] = db.execute(select(func.coalesce(func.sum(RegisterCounter.last_number), 0))).scalar_one()
    return counts


def test_seed_builds_the_province_once(db):
    assert demo.database_is_empty()
    first = demo.seed()
    assert not demo.database_is_empty()
    assert first.startswith("Đã tạo dữ liệu mẫu tỉnh Ninh Bình")
    assert f"{len(demo.ACCOUNTS)} tài khoản" in first
    before = _counts(db)

    second = demo.seed()

    assert second == "Dữ liệu mẫu tỉnh Ninh Bình đã có đủ; không tạo thêm gì."
    assert _counts(db) == before
    assert 30 <= before["OutgoingDocument"] + before["IncomingDocument"] <= 50


def test_seed_demo_command(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Đã tạo dữ liệu mẫu" in result.output
    result = runner.invoke(args=["portal", "seed-demo", "--if-empty"])
    assert "bỏ qua" in result.output
    result = runner.invoke(args=["portal", "seed-demo"])
    assert "không tạo thêm gì" in result.output


def test_tree_and_identifiers(db, seeded):
    by_code = {o.organ_id: o for o in db.execute(select(Organisation)).scalars() if o.organ_id}
    root = by_code["H99"]
    assert (root.name, root.short_name, root.kind, root.legacy_organ_id, root.parent_id) == (
        "Ủy ban nhân dân tỉnh Ninh Bình", "UBND", OrgKind.PEOPLE_COMMITTEE, "000.00.00.H99", None)
    assert (by_code["H99.01"].short_name, by_code["H99.01"].legacy_organ_id) == ("VP", "000.00.01.H99")
    for spec in demo.ORGANISATIONS[1:]:
        org = by_code[spec.organ_id]
        assert org.parent_id == root.id
        assert org.is_issuing
        units = [u for u in org.children if u.kind == OrgKind.INTERNAL_UNIT]
        assert 2 <= len(units) <= 3
        assert all(not u.is_issuing and u.owner_id == org.id for u in units)
    for spec in demo.EXTERNALS:
        assert by_code[spec.organ_id].kind == OrgKind.EXTERNAL
        assert by_code[spec.organ_id].parent_id is None


def test_every_organisation_has_every_role(db, seeded):
    roles: dict[int, set[Role]] = defaultdict(set)
    for organisation_id, role in db.execute(select(Position.organisation_id, PositionRole.role).join(Position.roles)):
        roles[organisation_id].add(role)
    issuing = db.execute(select(Organisation).where(
        Organisation.is_issuing.is_(True), Organisation.kind != OrgKind.EXTERNAL)).scalars().all()
    assert len(issuing) == len(demo.ORGANISATIONS)
    for org in issuing:
        assert roles[org.id] >= ORGANISATION_ROLES, (org.name, ORGANISATION_ROLES - roles[org.id])
    everyone = set().union(*roles.values())
    assert {Role.SYSTEM_ADMIN, Role.OVERVIEW} <= everyone


def test_officers_and_unit_heads_sit_in_a_unit_of_their_organisation(db, seeded):
    positions = db.execute(select(Position).join(Position.roles).where(
        PositionRole.role.in_([Role.OFFICER, Role.UNIT_HEAD]))).scalars().unique().all()
    assert positions
    for position in positions:
        assert position.unit is not None, position.title
        assert position.unit.owner_id == position.organisation_id


@pytest.mark.parametrize(("username", "password", "organisation", "role"), FIXED_ACCOUNTS)
def test_published_accounts_sign_in(client, seeded, username, password, organisation, role):
    account = next(a for a in demo.ACCOUNTS if a.username == username)
    assert (account.password, account.organisation) == (password, organisation)
    assert role in account.roles

    resp = client.post("/auth/login", data={"username": username, "password": password})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    body = client.get("/").get_data(as_text=True)
    assert account.full_name in body
    assert organisation in body
    assert role.label in body


def test_every_demo_password_is_strong():
    assert len({a.username for a in demo.ACCOUNTS}) == len(demo.ACCOUNTS)
    assert len({a.password for a in demo.ACCOUNTS}) == len(demo.ACCOUNTS)
    for account in demo.ACCOUNTS:
        p = account.password
        assert len(p) >= 12, account.username
        for kind in (r"[A-Z]", r"[a-z]", r"\d", r"[^A-Za-z0-9]"):
            assert re.search(kind, p), (account.username, kind)
        assert re.fullmatch(r"[a-z0-9._-]+", account.username)


def test_docs_list_every_account():
    text = DEMO_MD.read_text(encoding="utf-8")
    assert "production" in text.lower() or "sản xuất" in text
    for account in demo.ACCOUNTS:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{account.username}` |")), "")
        assert f"`{account.password}`" in row, account.username
        assert account.full_name in row, account.username
        assert account.organisation in row, account.username


def _consecutive(rows: list[tuple[int, int, int, datetime]]) -> None:
    """Numbers per (book, year) are 1..n and follow the order of time."""
    by_book: dict[tuple[int, int], list[tuple[datetime, int]]] = defaultdict(list)
    for book_id, year, number, moment in rows:
        by_book[book_id, year].append((moment, number))
    assert by_book
    for key, entries in by_book.items():
        numbers = [n for _, n in sorted(entries)]
        assert numbers == list(range(1, len(entries) + 1)), key


def test_numbers_are_consecutive_per_book_and_year(db, seeded):
    _consecutive(db.execute(select(IncomingDocument.book_id, IncomingDocument.year, IncomingDocument.arrival_number,
                                   IncomingDocument.registered_at)
                            .where(IncomingDocument.arrival_number.is_not(None))).all())
    _consecutive(db.execute(select(OutgoingDocument.book_id, OutgoingDocument.year, OutgoingDocument.number,
                                   OutgoingDocument.issued_at)).all())
    for counter in db.execute(select(RegisterCounter)).scalars():
        used = db.execute(select(func.count()).select_from(IncomingDocument).where(
            IncomingDocument.book_id == counter.book_id, IncomingDocument.year == counter.year)).scalar_one()
        used += db.execute(select(func.count()).select_from(OutgoingDocument).where(
            OutgoingDocument.book_id == counter.book_id, OutgoingDocument.year == counter.year)).scalar_one()
        assert counter.last_number == used


def test_documents_look_real(db, seeded):
    outgoing = db.execute(select(OutgoingDocument)).scalars().all()
    incoming = db.execute(select(IncomingDocument)).scalars().all()
    this_year = local_year()
    assert {d.year for d in outgoing} == {this_year - 1, this_year}
    assert {d.urgency for d in outgoing} >= {Urgency.NORMAL, Urgency.URGENT, Urgency.EXPRESS}
    for doc in outgoing:
        assert doc.issued_at.tzinfo is not None
        assert local_year(doc.issued_at) == doc.year
        assert re.fullmatch(r"\d{2,}", doc.code_number or "")
        assert "CV" not in (doc.code_notation or "").split("-")
        assert doc.identifier == f"{doc.organisation.organ_id}-{doc.year}.{doc.code_number}/{doc.code_notation}"
        assert doc.signer_name
        assert doc.signer_position
        assert doc.subject_folded
    notations = {d.code_notation for d in outgoing}
    assert {"QĐ-UBND", "KH-UBND", "UBND-KT", "KH-SNV", "SNV-VP"} <= notations

    statuses = {d.status for d in incoming}
    assert statuses == {IncomingStatus.ARRIVED, IncomingStatus.REGISTERED}
    for doc in incoming:
        if doc.status == IncomingStatus.ARRIVED:
            assert (doc.book_id, doc.year, doc.arrival_number) == (None, None, None)
        else:
            assert doc.arrival_number
            assert doc.registered_by_id
            assert doc.registered_at >= doc.arrived_at
    linked = [d for d in incoming if d.source_outgoing_id]
    assert linked
    assert all(d.channel == Channel.INTERNAL for d in linked)
    for doc in linked:
        source = db.get(OutgoingDocument, doc.source_outgoing_id)
        assert source.organisation_id == doc.sender_organisation_id != doc.organisation_id
        assert (doc.code_number, doc.code_notation, doc.document_id) == (
            source.code_number, source.code_notation, source.document_id)
        assert doc.arrived_at >= source.issued_at
    assert any(d.channel == Channel.PAPER and d.has_paper for d in incoming)


def _texts(db: Session):
    for org in db.execute(select(Organisation)).scalars():
        yield org.name, org.short_name, org.address
    for user in db.execute(select(User)).scalars():
        yield user.full_name, user.username
    for position in db.execute(select(Position)).scalars():
        yield (position.title,)
    for doc_type in db.execute(select(DocumentType)).scalars():
        yield doc_type.name, doc_type.abbreviation
    for model in (OutgoingDocument, IncomingDocument):
        for doc in db.execute(select(model)).scalars():
            yield doc.subject, doc.organ_name, doc.type_name, doc.code_notation, doc.signer_name, doc.signer_position


def test_all_names_are_nfc(db, seeded):
    for values in _texts(db):
        for value in values:
            assert value is None or unicodedata.is_normalized("NFC", value), value
    for account in demo.ACCOUNTS:
        assert unicodedata.is_normalized("NFC", account.full_name + account.title + account.organisation)


# --- tỉnh Ninh Bình as it is since 1 July 2025 (SPEC §18) ------------------------------------------


def test_the_province_is_ninh_binh_without_districts(db, seeded):
    organisations = db.execute(select(Organisation)).scalars().all()
    root = next(o for o in organisations if o.parent_id is None and o.kind != OrgKind.EXTERNAL)
    assert root.name == "Ủy ban nhân dân tỉnh Ninh Bình"
    for org in organisations:
        folded = fold(f"{org.name} {org.address or ''} {org.email or ''}")
        # no Hà Nam, no district level (huyện, thị xã) any more
        assert not re.search(r"\b(ha ?nam|huyen|thi xa)\b", folded), org.name
    # two levels: every issuing body of the province hangs directly under the province
    issuing = [o for o in organisations if o.is_issuing and o.kind != OrgKind.EXTERNAL and o.id != root.id]
    assert issuing
    assert all(o.parent_id == root.id for o in issuing)
    communes = {o.name for o in issuing if o.kind == OrgKind.COMMUNE}
    assert {"Ủy ban nhân dân phường Hoa Lư", "Ủy ban nhân dân phường Phủ Lý",
            "Ủy ban nhân dân phường Nam Định"} <= communes
    names = {o.name for o in issuing}
    assert {"Văn phòng Ủy ban nhân dân tỉnh", "Sở Nội vụ", "Sở Tài chính", "Sở Khoa học và Công nghệ"} <= names
    assert not any("Thông tin và Truyền thông" in name for name in names)  # merged into the Sở KH&CN


def test_no_demo_text_names_ha_nam(db, seeded):
    for values in _texts(db):
        for value in values:
            assert value is None or "ha nam" not in fold(value), value
    for user in db.execute(select(User)).scalars():
        assert user.email.endswith("@ninhbinh.example"), user.email


def test_nothing_is_dated_before_the_province_existed(db, seeded):
    """Last year's documents start on 1 July 2025, the day the merged province and its bodies began."""
    for doc in db.execute(select(OutgoingDocument)).scalars():
        assert doc.issued_date >= FOUNDED, doc.subject
    for doc in db.execute(select(IncomingDocument)).scalars():
        assert doc.arrived_at.date() >= FOUNDED, doc.subject


def test_a_database_of_another_province_is_refused(db):
    orgs.create(None, orgs.OrgData(name="Ủy ban nhân dân tỉnh Hà Nam", short_name="UBND",
                                   kind=OrgKind.PEOPLE_COMMITTEE, is_issuing=True, organ_id="H35"))
    with pytest.raises(ValidationFailed, match="Cơ sở dữ liệu đã có tỉnh khác"):
        demo.seed()


def _published(path: Path) -> dict[str, str]:
    """Tên đăng nhập → mật khẩu from every table row "| `user` | `password` | …" of a document."""
    rows = re.findall(r"^\| `([a-z0-9._-]+)` \| `([^`]+)` \|", path.read_text(encoding="utf-8"), re.MULTILINE)
    return dict(rows)


def test_every_account_in_demo_md_signs_in_with_its_password(app, db, seeded):
    published = _published(DEMO_MD)
    assert set(published) == {a.username for a in demo.ACCOUNTS}
    for username, password in published.items():
        client = app.test_client()
        resp = client.post("/auth/login", data={"username": username, "password": password})
        assert resp.status_code == 303, (username, resp.get_data(as_text=True)[:300])
        assert "/auth/login" not in resp.headers["Location"], username
        full_name = next(a.full_name for a in demo.ACCOUNTS if a.username == username)
        assert full_name in client.get("/").get_data(as_text=True), username


def test_readme_publishes_the_demo_passwords():
    published = _published(README)
    accounts = {a.username: a.password for a in demo.ACCOUNTS}
    assert len(published) >= 5
    for username, password in published.items():
        assert accounts.get(username) == password, username


# --- the province's name comes from its row, the settings only override it ---------------------------


def _brand(client) -> str:
    body = client.get("/auth/login").get_data(as_text=True)
    return re.search(r'<span class="brand-province">([^<]*)</span>', body).group(1)


def test_no_default_names_a_province():
    assert config.DEFAULTS["PROVINCE_NAME"] == ""
    assert config.DEFAULTS["PLACE_NAME"] == ""


def test_the_header_shows_the_province_of_the_root_row(app, client, db, seeded, monkeypatch):
    monkeypatch.setitem(app.config, "PROVINCE_NAME", "")
    assert _brand(client) == "Tỉnh Ninh Bình"
    assert "dùng chung của Tỉnh Ninh Bình." in client.get("/auth/login").get_data(as_text=True)

    root = db.execute(select(Organisation).where(Organisation.organ_id == demo.PROVINCE.organ_id)).scalar_one()
    root.name = "Ủy ban nhân dân tỉnh Thử Nghiệm"
    db.flush()
    assert _brand(client) == "Tỉnh Thử Nghiệm"

    monkeypatch.setitem(app.config, "PROVINCE_NAME", "Tỉnh Ghi Đè")
    assert _brand(client) == "Tỉnh Ghi Đè"


def test_a_database_without_a_province_shows_none(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "PROVINCE_NAME", "")
    assert _brand(client) == ""
    assert "dùng chung." in client.get("/auth/login").get_data(as_text=True)


@pytest.fixture
def stamped(monkeypatch) -> dict[str, str]:
    """``seal_for``'s date line, without keys: pdfsign.issue records what it was given."""
    given: dict[str, str] = {}
    monkeypatch.setattr(signatures, "_certificate", lambda **_: None)
    monkeypatch.setattr(signatures, "_key_signer", lambda *_: None)
    monkeypatch.setattr(signatures, "_image", lambda **_: None)
    monkeypatch.setattr(pdfsign, "default_issue_boxes", lambda _pdf: (None, None))
    monkeypatch.setattr(pdfsign, "default_signer_box", lambda _pdf: None)
    monkeypatch.setattr(pdfsign, "issue", lambda _pdf, _signer, **kw: given.update(kw) or b"")
    monkeypatch.setattr(signatures, "verified", lambda pdf, _field: pdf)  # nothing was really signed
    return given


def test_the_date_line_names_the_province_of_the_root_row(app, db, seeded, stamped, monkeypatch):
    monkeypatch.setitem(app.config, "PROVINCE_NAME", "")
    monkeypatch.setitem(app.config, "PLACE_NAME", "")
    office = db.execute(select(Organisation).where(Organisation.organ_id == "H99.02")).scalar_one()

    signatures.seal_for(office)(b"%PDF", "05/SNV-VP", date(2026, 12, 7))
    assert stamped["date_text"] == "Ninh Bình, ngày 07 tháng 12 năm 2026"

    root = db.execute(select(Organisation).where(Organisation.organ_id == demo.PROVINCE.organ_id)).scalar_one()
    root.name = "Ủy ban nhân dân thành phố Thử Nghiệm"
    db.flush()
    signatures.seal_for(office)(b"%PDF", "06/SNV-VP", date(2026, 12, 8))
    assert stamped["date_text"] == "Thử Nghiệm, ngày 08 tháng 12 năm 2026"

    monkeypatch.setitem(app.config, "PLACE_NAME", "Hoa Lư")
    signatures.seal_for(office)(b"%PDF", "07/SNV-VP", date(2026, 12, 9))
    assert stamped["date_text"] == "Hoa Lư, ngày 09 tháng 12 năm 2026"


def test_every_demo_incoming_document_has_a_page_to_show(db, seeded):
    """The viewer beside the actions needs a document: each demo arrival carries its one-page PDF, with its
    own number and trích yếu in the text."""
    from pypdf import PdfReader

    from portal import storage
    from portal.documents.models import IncomingDocument
    from portal.incoming.models import FileRole, IncomingFile

    docs = db.execute(select(IncomingDocument)).scalars().all()
    assert docs
    for doc in docs:
        [main] = db.execute(select(IncomingFile).where(IncomingFile.document_id == doc.id,
                                                       IncomingFile.role == FileRole.MAIN)).scalars().all()
        assert doc.main_file_sha256 == main.sha256
        reader = PdfReader(BytesIO(storage.read(main.sha256)))
        text = " ".join(reader.pages[0].extract_text().split())
        assert f"Số: {doc.code_number}/{doc.code_notation}" in text
        assert doc.subject.split()[0] in text
