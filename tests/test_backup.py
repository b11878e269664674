"""Backups that restore (issue 15, part 3), on the database under test.

A live database with real commits: an office registers documents and issues a decision signed with
the development PKI; a clerk keeps registering in a thread while ``portal backup`` runs; the database
and storage are then "lost" (a new empty database and directory), ``portal restore`` rebuilds them
and runs the drill, and the office carries on: the next numbers follow the last ones in the set,
without gap or repeat. Refusals: a tampered part, a non-empty target, an encrypted set without (or
with another) key.
"""

from __future__ import annotations

import itertools
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import audit, create_app, storage
from portal.auth.models import Role, User
from portal.auth.services import Client
from portal.backup import BackupError, database, restore
from portal.db import session as db_session
from portal.documents.models import DocumentType, IncomingDocument, OutgoingDocument, Urgency
from portal.drafts import services as drafts
from portal.drafts.models import Draft
from portal.incoming import services as incoming
from portal.signatures import service as signatures
from portal.timeutil import local_today
from tests import concurrency
from tests.conftest import PASSWORD, TEST_SETTINGS, Factory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CLIENT = Client("203.0.113.9", "pytest")
SEQ = itertools.count(5000)


@dataclass
class Office:
    clerk: int
    officer: int
    head: int
    checker: int
    leader: int
    receiver: int
    decision: int


def _user(user_id: int) -> User:
    user = db_session.get_one(User, user_id)
    user.current_position = user.positions[0]
    return user


def _metadata(code: int) -> incoming.Metadata:
    return incoming.Metadata(type_name="Công văn", code_number=str(code), code_notation="UBND-VP",
                             issued_date=local_today() - timedelta(days=1), organ_name="Ủy ban nhân dân tỉnh Hà Nam",
                             subject=f"Về việc sao lưu dữ liệu số {code}", urgency=Urgency.NORMAL)


def _digitise(office: Office, code: int) -> int:
    scan = incoming.Upload("ban-quet.pdf", PDF + f"% ban quet {code}\n".encode())
    doc = incoming.digitise(_user(office.clerk), _metadata(code), scan)
    db_session.commit()
    assert doc.arrival_number is not None
    return doc.arrival_number


def _issue(office: Office, pdf: bytes) -> int:
    """A decision from draft to issued: signed with the leader's key, sealed by the organisation."""
    draft = drafts.create(_user(office.officer), drafts.DraftData(
        subject="Về việc sao lưu và khôi phục dữ liệu", document_type_id=office.decision, signer_id=office.leader,
        signer_title="Giám đốc"), drafts.Upload("du-thao.pdf", pdf),
        recipients=[drafts.RecipientSpec(organisation_id=office.receiver)])
    drafts.submit(_user(office.officer), draft)
    drafts.approve(_user(office.head), draft)
    drafts.format_ok(_user(office.checker), draft, list(drafts.FORMAT_CHECKLIST))
    assert drafts.sign_with_key(_user(office.leader), db_session.get_one(Draft, draft.id), PASSWORD, CLIENT)
    number = drafts.issue(_user(office.clerk), db_session.get_one(Draft, draft.id), None).outgoing.number
    db_session.commit()
    return number


def _settings(url: str, storage_dir: Path, pki_dir: Path) -> dict[str, object]:
    # the PKI lives outside the database and storage, like the audit key: both apps share it
    return {**TEST_SETTINGS, "DATABASE_URL": url, "STORAGE_DIR": str(storage_dir), "SIGNING_DEV_PKI": True,
            "PKI_DIR": str(pki_dir), "PKI_PASSPHRASE": "mat-khau-pki-sao-luu"}


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backup-pki")


@pytest.fixture(scope="module")
def source(fresh_database_url: Callable[[], str], tmp_path_factory: pytest.TempPathFactory,
           pki_dir: Path) -> Iterator[tuple[Flask, Office]]:
    """The portal in use: an office, three registered documents and one issued decision, committed."""
    from tests.signing_fixtures import build_draft_pdf

    url = fresh_database_url()
    previous = db_session.session_factory.kw.get("bind")
    concurrency.migrate.upgrade(url)
    app = create_app(_settings(url, tmp_path_factory.mktemp("backup-storage"), pki_dir))
    db_session.configure(bind=previous)
    with concurrency.bound_to(app), app.app_context():
        factory = Factory(db_session())
        factory.seq = SEQ
        org = factory.organisation(name="Sở Thông tin Sao Lưu", short_name="STTSL")
        unit = factory.unit(org)
        receiver = factory.organisation()
        people = {
            "clerk": factory.person(Role.CLERK, organisation=org, title="Văn thư"),
            "officer": factory.person(Role.OFFICER, organisation=org, unit=unit),
            "head": factory.person(Role.UNIT_HEAD, organisation=org, unit=unit, title="Trưởng phòng"),
            "checker": factory.person(Role.FORMAT_CHECKER, organisation=org),
            "leader": factory.person(Role.AGENCY_LEADER, organisation=org, title="Giám đốc",
                                     full_name="Trương Quốc Hùng"),
        }
        decision = DocumentType(name="Quyết định", abbreviation="QĐ")
        db_session.add(decision)
        db_session.commit()
        signatures.init_demo_pki()
        db_session.commit()
        office = Office(**{k: u.id for k, u in people.items()}, receiver=receiver.id, decision=decision.id)
        assert [_digitise(office, n) for n in range(1, 4)] == [1, 2, 3]
        assert _issue(office, build_draft_pdf()) == 1
        app.config["TEST_DRAFT_PDF"] = build_draft_pdf()
    yield app, office
    app.extensions["engine"].dispose()


def _empty_target(fresh_database_url: Callable[[], str], tmp_path: Path, pki_dir: Path, name: str) -> Flask:
    """What is left after a disaster: a new empty database and an empty storage directory."""
    previous = db_session.session_factory.kw.get("bind")
    app = create_app(_settings(fresh_database_url(), tmp_path / f"{name}-storage", pki_dir))
    db_session.configure(bind=previous)
    return app


def _cli(app: Flask, *args: str) -> tuple[int, str]:
    with concurrency.bound_to(app), app.app_context():
        result = app.test_cli_runner().invoke(args=["portal", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _backup_while_registering(app: Flask, office: Office, dest: Path) -> list[int]:
    """``portal backup`` while a clerk keeps registering; returns the numbers the clerk got."""
    numbers: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    started = threading.Event()

    def clerk() -> None:
        code = itertools.count(100)
        with app.app_context():
            try:
                while not stop.is_set() or len(numbers) < 6:
                    numbers.append(_digitise(office, next(code)))
                    if len(numbers) >= 2:
                        started.set()
            except BaseException as exc:
                errors.append(exc)
                started.set()

    with concurrency.bound_to(app):
        worker = threading.Thread(target=clerk, name="clerk-during-backup")
        worker.start()
        assert started.wait(60)
        code, output = _cli(app, "backup", str(dest))
        during = len(numbers)
        stop.set()
        worker.join(60)
    assert not errors
    assert not worker.is_alive()
    assert code == 0, output
    assert "Đã sao lưu" in output
    assert during >= 2
    return numbers


def test_backup_destroy_restore_drill_and_carry_on(source, fresh_database_url, tmp_path, pki_dir):
    app, office = source
    numbers = _backup_while_registering(app, office, tmp_path / "set")
    assert numbers == list(range(4, 4 + len(numbers)))  # the source itself stayed gap-free

    target = _empty_target(fresh_database_url, tmp_path, pki_dir, "target")
    code, output = _cli(target, "restore", str(tmp_path / "set"))
    assert code == 0, output
    assert "Diễn tập khôi phục: ĐẠT." in output
    assert "[ĐẠT] Chữ ký số trên văn bản đã phát hành" in output
    assert "1 tệp có chữ ký hợp lệ" in output

    with concurrency.bound_to(target), target.app_context():
        in_set = db_session.scalar(select(func.max(IncomingDocument.arrival_number)))
        assert in_set is not None
        assert 3 <= in_set < 4 + len(numbers)  # the snapshot fell somewhere in the run
        assert _digitise(office, 900) == in_set + 1
        assert _issue(office, app.config["TEST_DRAFT_PDF"]) == 2
        arrivals = db_session.execute(select(IncomingDocument.arrival_number)
                                      .where(IncomingDocument.arrival_number.is_not(None))).scalars().all()
        assert sorted(arrivals) == list(range(1, in_set + 2))
        assert sorted(db_session.execute(select(OutgoingDocument.number)).scalars()) == [1, 2]
        assert all(storage.read(sha) for sha in db_session.execute(select(storage.StoredFile.sha256)).scalars())
        assert audit.verify(db_session(), target.config["AUDIT_KEY"]).ok
        last = db_session.execute(select(audit.AuditEntry)
                                  .where(audit.AuditEntry.action == "backup.restored")).scalar_one()
        assert last.details_dict["drill"]["Bộ đếm số văn bản"] == "đạt"
    target.extensions["engine"].dispose()


@pytest.fixture(scope="module")
def plain_set(source, tmp_path_factory) -> Path:
    app, _ = source
    dest = tmp_path_factory.mktemp("plain") / "set"
    code, output = _cli(app, "backup", str(dest))
    assert code == 0, output
    return dest


def _restore_into(target: Flask, src: Path) -> None:
    with concurrency.bound_to(target), target.app_context():
        try:
            restore(src)
        finally:
            target.extensions["engine"].dispose()


def test_a_tampered_part_is_refused_before_anything_is_restored(plain_set, fresh_database_url, tmp_path, pki_dir):
    tampered = tmp_path / "tampered"
    shutil.copytree(plain_set, tampered)
    part = next(p for p in (tampered / "objects").rglob("*") if p.is_file())
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))
    target = _empty_target(fresh_database_url, tmp_path, pki_dir, "tampered")
    with pytest.raises(BackupError, match="không khớp mã băm SHA-256 ghi trong manifest"):
        _restore_into(target, tampered)
    with concurrency.bound_to(target), target.app_context():
        assert database.existing_tables(target.extensions["engine"]) == []  # nothing restored
        assert not (Path(target.config["STORAGE_DIR"]) / "objects").exists()
    target.extensions["engine"].dispose()


def test_an_edited_manifest_is_refused(plain_set, fresh_database_url, tmp_path, pki_dir):
    edited = tmp_path / "edited"
    shutil.copytree(plain_set, edited)
    manifest = edited / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"seq": ', '"seq": 1'), encoding="utf-8")
    target = _empty_target(fresh_database_url, tmp_path, pki_dir, "edited")
    with pytest.raises(BackupError, match=r"manifest\.json đã bị sửa"):
        _restore_into(target, edited)


def test_restore_into_a_database_in_use_is_refused(source, plain_set):
    app, _ = source
    code, output = _cli(app, "restore", str(plain_set))
    assert code == 1
    assert "Cơ sở dữ liệu đích không trống" in output


def test_backup_into_a_non_empty_directory_is_refused(source, plain_set):
    app, _ = source
    code, output = _cli(app, "backup", str(plain_set))
    assert code == 1
    assert "không trống: mỗi bản sao lưu cần một thư mục mới" in output


def test_an_encrypted_set_restores_only_with_its_key(source, fresh_database_url, tmp_path, pki_dir):
    app, _ = source
    app.config["BACKUP_KEY"] = "khoa-sao-luu-rat-dai-va-ngau-nhien-2026"
    try:
        code, output = _cli(app, "backup", str(tmp_path / "enc"))
    finally:
        app.config["BACKUP_KEY"] = ""
    assert code == 0, output
    assert "đã mã hóa" in output
    parts = [p for p in (tmp_path / "enc").rglob("*") if p.is_file() and p.name != "manifest.json"]
    assert parts
    assert all(p.name.endswith(".enc") for p in parts)
    assert not any(PDF[:8] in p.read_bytes() for p in parts)  # no stored file in the clear
    assert "khoa-sao-luu" not in (tmp_path / "enc" / "manifest.json").read_text(encoding="utf-8")

    without = _empty_target(fresh_database_url, tmp_path, pki_dir, "without")
    with pytest.raises(BackupError, match="Bản sao lưu được mã hóa: đặt PORTAL_BACKUP_KEY"):
        _restore_into(without, tmp_path / "enc")
    without.config["BACKUP_KEY"] = "mot-khoa-khac"
    with pytest.raises(BackupError, match="không phải khóa của bản sao lưu này"):
        _restore_into(without, tmp_path / "enc")

    with_key = _empty_target(fresh_database_url, tmp_path, pki_dir, "with-key")
    with_key.config["BACKUP_KEY"] = "khoa-sao-luu-rat-dai-va-ngau-nhien-2026"
    code, output = _cli(with_key, "restore", str(tmp_path / "enc"))
    assert code == 0, output
    assert "Diễn tập khôi phục: ĐẠT." in output
    with_key.extensions["engine"].dispose()


def test_each_backup_appends_the_audit_head_to_the_anchor_file(source, tmp_path):
    app, _ = source
    anchors = tmp_path / "anchors" / "audit-anchors.jsonl"
    app.config["AUDIT_ANCHOR_FILE"] = str(anchors)
    try:
        code, output = _cli(app, "backup", str(tmp_path / "anchored"))
    finally:
        app.config["AUDIT_ANCHOR_FILE"] = ""
    assert code == 0, output
    line = json.loads(anchors.read_text(encoding="utf-8").splitlines()[-1])
    manifest = json.loads((tmp_path / "anchored" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit_anchor"] == {k: line[k] for k in ("seq", "hash", "at")}
    assert line["seq"] >= manifest["audit_head"]["seq"]  # taken after the snapshot, never behind it
