"""A full disk, leftovers and stray objects (issue 13 item 3): the uploader gets a Vietnamese 507 with
nothing half-written; ``portal storage-clean`` removes old temporary files; ``portal storage-verify``
reports objects no row names; text files are served with one charset parameter.

The full disk is a real one where the machine allows it: a 256 KB tmpfs the test mounts (root on these
machines). Elsewhere ENOSPC is injected where the kernel would raise it.
"""

from __future__ import annotations

import errno
import io
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal import create_app, storage
from portal.db import session as db_session
from portal.documents.models import IncomingDocument
from portal.incoming import services
from portal.storage import StoredFile
from tests.conftest import TEST_SETTINGS
from tests.incoming_fixtures import PDF, metadata

DISK = 256 * 1024
FULL_TEXT = "Hết dung lượng lưu trữ"


def _count(db, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def small_disk(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """STORAGE_DIR on a 256 KB tmpfs; if mounting is not allowed here, a directory whose writes fail
    with ENOSPC once 256 KB have been written (the same errno the kernel gives)."""
    root = tmp_path / "full"
    root.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(root)],
                             capture_output=True, check=False).returncode == 0
    if not mounted:
        real_fdopen = os.fdopen

        class FillingFile(io.FileIO):
            written = 0

            def write(self, data):  # type: ignore[no-untyped-def]
                FillingFile.written += len(data)
                if FillingFile.written > DISK:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return super().write(data)

        def fdopen(fd, mode="r", *args, **kw):  # type: ignore[no-untyped-def]
            return FillingFile(fd, "wb", closefd=True) if "w" in mode else real_fdopen(fd, mode, *args, **kw)
        monkeypatch.setattr(storage.os, "fdopen", fdopen)
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(root / "storage"))
    yield root / "storage"
    if mounted:
        subprocess.run(["umount", str(root)], check=False)


def big_pdf(size: int = 400 * 1024) -> bytes:
    """Larger than the disk, smaller than what Werkzeug spools to a temporary file of its own (500 KB)."""
    return PDF + b"%" + b"0" * size


def test_save_on_a_full_disk_raises_storage_full_and_leaves_nothing(db, small_disk):
    before = _count(db, StoredFile)
    with pytest.raises(storage.StorageFull) as caught:
        storage.save(big_pdf(), "qua-lon.pdf")
    assert FULL_TEXT in str(caught.value)
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.__cause__.errno == errno.ENOSPC
    assert _files(small_disk) == []  # no temporary file, no object
    assert _count(db, StoredFile) == before
    # once there is room again, the same file is stored normally
    row = storage.save(PDF, "nho.pdf")
    assert storage.read(row.sha256) == PDF


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT], ids=["ENOSPC", "EDQUOT"])
def test_a_full_disk_or_quota_at_fsync_is_storage_full_too(db, store_dir, monkeypatch, code):
    def full(_fd: int) -> None:
        raise OSError(code, os.strerror(code))
    monkeypatch.setattr(storage.os, "fsync", full)
    with pytest.raises(storage.StorageFull):
        storage.save(PDF, "qd.pdf")
    assert _files(store_dir) == []


def test_other_os_errors_are_not_called_a_full_disk(db, store_dir, monkeypatch):
    def broken(_fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(storage.os, "fsync", broken)
    with pytest.raises(OSError, match=os.strerror(errno.EIO)) as caught:
        storage.save(PDF, "qd.pdf")
    assert not isinstance(caught.value, storage.StorageFull)
    assert caught.value.errno == errno.EIO


@pytest.fixture
def store_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    return tmp_path / "storage"


def test_a_full_disk_is_not_a_user_error():
    """Views show StorageError next to the field with 422; a full disk must not be caught there."""
    assert not issubclass(storage.StorageFull, storage.StorageError)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_paper_intake_on_a_full_disk_answers_507_in_vietnamese_with_nothing_created(
        db, office, login, client, small_disk, htmx):
    _org, _unit, p = office
    login(p["clerk"])
    documents, rows = _count(db, IncomingDocument), _count(db, StoredFile)
    form = {"type_name": "Quyết định", "code_number": "15", "code_notation": "QĐ-UBND",
            "issued_date": "01/12/2026", "organ_name": "Ủy ban nhân dân tỉnh Ninh Bình",
            "subject": "Quyết định về công tác văn thư năm 2026", "urgency": "0", "secrecy": "0",
            "language": "Tiếng Việt", "scan": (io.BytesIO(big_pdf()), "scan.pdf")}
    headers = {"HX-Request": "true", "HX-Target": "main"} if htmx else {}
    resp = client.post("/van-ban-den/moi", data=form, content_type="multipart/form-data", headers=headers)
    assert resp.status_code == 507, resp.get_data(as_text=True)[-3000:]
    body = resp.get_data(as_text=True)
    assert FULL_TEXT in body
    assert "Traceback" not in body
    db.expire_all()
    assert _count(db, IncomingDocument) == documents
    assert _count(db, StoredFile) == rows
    assert _files(small_disk) == []


# --- the database's own disk ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def probe_app(app: Flask, database_url: str) -> Iterator[Flask]:
    other = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "STORAGE_DIR": app.config["STORAGE_DIR"]})
    db_session.configure(bind=app.extensions["engine"])
    probe = Blueprint("disk_probe", __name__)

    @probe.get("/_probe/db-full")
    def db_full() -> str:
        raise OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full"))

    @probe.get("/_probe/db-other")
    def db_other() -> str:
        raise OperationalError("SELECT …", {}, sqlite3.OperationalError("no such table: x"))

    other.register_blueprint(probe)
    yield other
    other.extensions["engine"].dispose()


def test_a_full_database_disk_answers_507_and_other_database_errors_stay_errors(probe_app):
    client = probe_app.test_client()
    resp = client.get("/_probe/db-full")
    assert resp.status_code == 507
    assert FULL_TEXT in resp.get_data(as_text=True)
    with pytest.raises(OperationalError, match="no such table"):  # testing propagates; production: the 500 page
        client.get("/_probe/db-other")


# --- storage-clean -------------------------------------------------------------------------------------

def test_storage_clean_removes_only_temporary_files_older_than_a_day(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    kept_object = storage.save(PDF, "qd.pdf")
    db.commit()
    tmp_dir = tmp_path / "storage" / "tmp"
    old, young = tmp_dir / "upload-old", tmp_dir / "upload-young"
    old.write_bytes(b"x" * 10)
    young.write_bytes(b"y" * 10)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))

    result = app.test_cli_runner().invoke(args=["portal", "storage-clean"])

    assert result.exit_code == 0, result.output
    assert not old.exists()
    assert young.exists()  # may be an upload in progress
    assert "Đã xóa 1 tệp tạm." in result.output
    assert storage.object_path(kept_object.sha256).is_file()  # objects are never touched


def test_storage_clean_refuses_an_age_under_an_hour(app):
    result = app.test_cli_runner().invoke(args=["portal", "storage-clean", "--hours", "0"])
    assert result.exit_code != 0


# --- storage-verify reports orphans --------------------------------------------------------------------

def test_storage_verify_reports_objects_no_row_names(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    named = storage.save(PDF, "qd.pdf")
    db.commit()
    stray_sha = "ab" * 32
    stray = storage.object_path(stray_sha)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"left by a failed request")
    junk = tmp_path / "storage" / "objects" / "ghi-chu.txt"
    junk.write_bytes(b"put here by hand")

    result = app.test_cli_runner().invoke(args=["portal", "storage-verify"])

    assert result.exit_code == 1
    assert stray_sha in result.output
    assert "ghi-chu.txt" in result.output
    assert "Tệp mồ côi" in result.output
    assert named.sha256 not in result.output
    assert "tệp mồ côi: 2" in result.output

    stray.unlink()
    junk.unlink()
    result = app.test_cli_runner().invoke(args=["portal", "storage-verify"])
    assert result.exit_code == 0, result.output
    assert "Mọi tệp đều toàn vẹn." in result.output


def test_orphans_are_found_across_batches(app, db, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    rows = [storage.save(PDF + bytes([k]), f"v{k}.pdf") for k in range(5)]
    db.commit()
    strays = {f"{k:02x}" * 32 for k in range(200, 203)}
    for sha in strays:
        path = storage.object_path(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    found = {p.name for p in storage.orphans(batch=2)}
    assert found == strays
    assert not found & {r.sha256 for r in rows}


# --- one charset -----------------------------------------------------------------------------------------

def test_a_text_file_is_served_with_one_charset_parameter(db, office, login, client):
    _org, _unit, p = office
    doc = services.digitise(p["clerk"], metadata(), services.Upload("scan.pdf", PDF),
                            [services.Upload("ghi-chu.txt", "Ghi chú: họp lúc 8 giờ".encode())])
    db.commit()
    text_file = next(f for f in services.files_of(doc) if f.filename.endswith(".txt"))
    login(p["clerk"])
    resp = client.get(f"/van-ban-den/{doc.id}/tep/{text_file.id}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.get_data(as_text=True) == "Ghi chú: họp lúc 8 giờ"
