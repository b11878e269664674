"""Content-addressed storage (SPEC §3.7, §13.6): accepted formats, signatures, the size limit,
atomic writes, deduplication, path safety, integrity on read, the scrub command and the 500 page.

Every test gets its own empty ``STORAGE_DIR``, so "nothing was left behind" can be said exactly.
"""

from __future__ import annotations

import hashlib
import io
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import audit, create_app, storage
from portal.audit import AuditEntry
from portal.db import session as db_session
from portal.storage import StoredFile
from tests.conftest import TEST_SETTINGS

MB = 1024 * 1024


# --- minimal but real files of every accepted format ---------------------------------------------

def _zip(members: dict[str, bytes]) -> bytes:
    """An OOXML or ODF package; ODF wants "mimetype" first and stored, so insertion order is kept."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 21, 0, 0, 0)), data, compress_type=method)
    return buf.getvalue()


def _docx() -> bytes:
    return _zip({
        "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                               b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                               b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                               b'officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                       b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                       b'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                       b'</Relationships>',
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats'
                             '.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Công văn số 1</w:t></w:r></w:p>'
                             '</w:body></w:document>'.encode(),
    })


def _xlsx() -> bytes:
    return _zip({
        "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                               b'package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="'
                               b'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                           b'spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>',
        "xl/worksheets/sheet1.xml": b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                                    b'openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>',
    })


def _odf(kind: str) -> bytes:
    body = "office:text" if kind == "text" else "office:spreadsheet"
    return _zip({
        "mimetype": f"application/vnd.oasis.opendocument.{kind}".encode(),
        "META-INF/manifest.xml": b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:'
                                 b'oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
        "content.xml": f'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:'
                       f'tc:opendocument:xmlns:office:1.0"><office:body><{body}/></office:body>'
                       f'</office:document-content>'.encode(),
    })


def _ole() -> bytes:
    """A Compound File Binary header (Word 97-2003 and Excel 97-2003 share it), 512 bytes."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
    return header.ljust(512, b"\x00")


def _pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) \
        + chunk(b"IEND", b"")


# The well-known smallest valid baseline JPEG: a 1×1 grey pixel, arithmetic-coded.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010101004800480000ffdb004300030202020203020202030303030406040404040408060605060908"
    "0a0a090809090a0c0f0c0a0b0e0b09090d110d0e0f101011100a0c12131210130f101010ffc9000b080001000101011100ffcc00"
    "0600101005ffda0008010100003f00d2cf20ffd9")

SAMPLES: dict[str, bytes] = {
    "txt": "Ủy ban nhân dân tỉnh\nCông văn số 12/UBND-VP\n".encode(),
    "csv": "Số,Trích yếu\n1,Về việc tổ chức hội nghị\n".encode(),
    "rtf": b"{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}C\\u244?ng v\\u259?n s\\u7889? 1\\par}",
    "doc": _ole(),
    "docx": _docx(),
    "odt": _odf("text"),
    "xls": _ole() + b"\x01",  # a different object from the .doc sample
    "xlsx": _xlsx(),
    "ods": _odf("spreadsheet"),
    "pdf": _pdf(),
    "jpg": JPEG,
    "jpeg": JPEG + b"\x00",  # bytes after EOI are tolerated by readers; gives a distinct object
    "png": _png(),
}


# --- helpers ---------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def store(app: Flask, db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "storage"
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(root))
    return root


def _files(root: Path, sub: str) -> list[Path]:
    return sorted(p for p in (root / sub).rglob("*") if p.is_file())


def _row_count(db: Session) -> int:
    return db.execute(select(func.count()).select_from(StoredFile)).scalar_one()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _assert_nothing_kept(store: Path, db: Session, rows_before: int) -> None:
    assert _files(store, "objects") == []
    assert _files(store, "tmp") == []
    assert _row_count(db) == rows_before


# --- accepted formats ------------------------------------------------------------------------------

def test_every_sample_really_has_its_format():
    """Guards the fixtures themselves: a broken sample would make the acceptance tests hollow."""
    assert set(SAMPLES) == set(storage.KINDS)
    for ext in ("docx", "xlsx", "odt", "ods"):
        assert zipfile.ZipFile(io.BytesIO(SAMPLES[ext])).testzip() is None
    assert zipfile.ZipFile(io.BytesIO(SAMPLES["odt"])).namelist()[0] == "mimetype"
    assert SAMPLES["pdf"].rstrip().endswith(b"%%EOF")
    assert JPEG.endswith(b"\xff\xd9")


@pytest.mark.parametrize("ext", sorted(SAMPLES))
def test_each_allowed_format_is_stored_under_its_hash(db, store, ext):
    data = SAMPLES[ext]
    row = storage.save(data, f"Văn bản mẫu.{ext}")
    sha = _sha(data)
    assert row.sha256 == sha
    assert row.size == len(data)
    assert row.extension == ext
    assert row.content_type == storage.KINDS[ext].content_type
    assert db.get(StoredFile, sha) is row
    path = store / "objects" / sha[:2] / sha[2:4] / sha
    assert _files(store, "objects") == [path]
    assert path.read_bytes() == data
    assert _files(store, "tmp") == []
    assert storage.read(sha) == data


def test_extension_is_case_insensitive_and_a_stream_works(db):
    row = storage.save(io.BytesIO(SAMPLES["pdf"]), "QUYET-DINH.PDF")
    assert row.extension == "pdf"
    assert storage.read(row.sha256) == SAMPLES["pdf"]


def test_text_cut_inside_a_multibyte_character_at_the_sample_edge_is_still_text(db):
    """Only the first 8 KiB are examined; a Vietnamese letter straddling that edge is not binary."""
    data = b"a" * 8191 + "ế và tiếp tục".encode()
    assert storage.save(data, "dai.txt").size == len(data)


# --- rejected content ------------------------------------------------------------------------------

@pytest.mark.parametrize(("filename", "data"), [
    ("quyet-dinh.pdf", SAMPLES["png"]),
    ("anh.png", SAMPLES["pdf"]),
    ("anh.jpg", SAMPLES["png"]),
    ("cong-van.docx", _zip({"[Content_Types].xml": b"<Types/>", "content.xml": b"<x/>"})),  # no word/document.xml
    ("cong-van.docx", SAMPLES["xlsx"]),
    ("bang.xlsx", SAMPLES["docx"]),
    ("van-ban.odt", SAMPLES["ods"]),
    ("bang.ods", SAMPLES["odt"]),
    ("van-ban.odt", SAMPLES["docx"]),  # a zip without the ODF mimetype
    ("cong-van.doc", SAMPLES["docx"]),
    ("bang.xls", SAMPLES["pdf"]),
    ("cong-van.rtf", b"Just text pretending to be RTF"),
    ("ghi-chu.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),  # a Windows executable
    ("ghi-chu.txt", b"\xff\xfe"),  # UTF-16 byte order mark: never UTF-8, however short
    ("du-lieu.csv", b"S\xf4,T\xean\n1,H\xe0 N\xe9i\n"),  # legacy Windows-1258, not UTF-8
    ("cong-van.docx", b"PK\x03\x04 not really a zip"),
])
def test_content_that_does_not_match_its_extension_is_refused(db, store, filename, data):
    before = _row_count(db)
    with pytest.raises(storage.UnsupportedFileType) as exc:
        storage.save(data, filename)
    ext = filename.rsplit(".", 1)[1]
    assert f"Nội dung tệp không phải {storage.KINDS[ext].label}" in str(exc.value)
    _assert_nothing_kept(store, db, before)


@pytest.mark.parametrize("filename", ["setup.exe", "script.js", "trang.html", "nen.zip", "README", "anh.gif",
                                      "van-ban.pdf.exe", "tai-lieu.", "bao-cao.pdf "])
def test_disallowed_extensions_are_refused_in_vietnamese(db, store, filename):
    before = _row_count(db)
    with pytest.raises(storage.UnsupportedFileType) as exc:
        storage.save(SAMPLES["pdf"], filename)
    message = str(exc.value)
    assert "không được chấp nhận" in message
    assert "Chỉ nhận: .txt, .rtf, .doc, .docx, .odt, .csv, .xls, .xlsx, .ods, .pdf, .jpg, .jpeg, .png" in message
    _assert_nothing_kept(store, db, before)


def test_an_empty_file_is_refused(db, store):
    with pytest.raises(storage.UnsupportedFileType, match="Tệp rỗng"):
        storage.save(b"", "trong.txt")
    _assert_nothing_kept(store, db, 0)


def test_a_zip_bomb_posing_as_odf_is_refused_without_being_inflated(db, store):
    """A "mimetype" member that inflates to 100 MB from a ~100 KB upload must not be read whole:
    only the few bytes the comparison needs are inflated."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("mimetype", "w") as member:
        member.write(b"application/vnd.oasis.opendocument.text")
        for _ in range(100):
            member.write(b" " * MB)
    assert len(bomb.getvalue()) < MB
    tracemalloc.start()
    try:
        with pytest.raises(storage.UnsupportedFileType):
            storage.save(bomb.getvalue(), "bom.odt")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * MB
    _assert_nothing_kept(store, db, 0)


# --- size limit ------------------------------------------------------------------------------------

def test_default_limit_is_50_mb(app):
    assert app.config["MAX_UPLOAD_MB"] == 50
    assert storage.max_bytes() == 50 * MB


def test_a_file_over_the_limit_is_refused_with_the_limit_in_mb(app, db, store, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    before = _row_count(db)
    with pytest.raises(storage.FileTooLarge) as exc:
        storage.save(io.BytesIO(b"a" * (MB + 1)), "lon.txt")
    assert str(exc.value) == "Tệp vượt quá giới hạn 1 MB."
    _assert_nothing_kept(store, db, before)


def test_a_file_of_exactly_the_limit_is_accepted(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    assert storage.save(b"a" * MB, "vua.txt").size == MB


def test_the_limit_follows_configuration(app, db, store, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 3)
    assert storage.save(b"b" * (2 * MB + 5), "hai.txt").size == 2 * MB + 5
    with pytest.raises(storage.FileTooLarge, match="3 MB"):
        storage.save(b"c" * (3 * MB + 1), "ba.txt")


# --- atomic writes ---------------------------------------------------------------------------------

class DroppedUpload:
    """An upload whose connection dies after ``good`` chunks; while data flows it checks that
    nothing is visible under objects/ yet and that the bytes go to a temporary file."""

    def __init__(self, store: Path, good: int) -> None:
        self.store = store
        self.good = good
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        if self.reads:
            assert _files(self.store, "objects") == []
            assert len(_files(self.store, "tmp")) == 1
        if self.reads == self.good:
            raise OSError("Kết nối bị ngắt giữa chừng")
        self.reads += 1
        return b"x" * storage.CHUNK


def test_an_upload_that_dies_mid_write_leaves_nothing(db, store):
    before = _row_count(db)
    upload = DroppedUpload(store, good=3)
    with pytest.raises(OSError, match="ngắt giữa chừng"):
        storage.save(upload, "dang-do.txt")  # type: ignore[arg-type]
    assert upload.reads == 3
    _assert_nothing_kept(store, db, before)


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_crash_at_rename_or_fsync_leaves_no_object(db, store, monkeypatch, failing):
    """A rename that never happens, or data that never reached the disk: no object may carry the
    hash, and the temporary file is cleaned up."""
    def crash(*_args: object) -> None:
        raise OSError(f"mô phỏng sự cố {failing}")
    monkeypatch.setattr(storage.os, failing, crash)
    before = _row_count(db)
    with pytest.raises(OSError, match="mô phỏng sự cố"):
        storage.save(SAMPLES["pdf"], "qd.pdf")
    _assert_nothing_kept(store, db, before)


def test_the_object_is_renamed_into_place_from_the_tmp_directory(db, store, monkeypatch):
    renames: list[tuple[Path, Path]] = []
    real_replace = storage.os.replace

    def spy(src: object, dst: object) -> None:
        renames.append((Path(str(src)), Path(str(dst))))
        real_replace(src, dst)
    monkeypatch.setattr(storage.os, "replace", spy)
    row = storage.save(SAMPLES["png"], "anh.png")
    [(src, dst)] = renames
    assert src.parent == store / "tmp"
    assert dst == storage.object_path(row.sha256)


# --- deduplication ---------------------------------------------------------------------------------

def test_identical_content_is_stored_once(db, store):
    before = _row_count(db)
    first = storage.save(SAMPLES["pdf"], "ban-goc.pdf")
    second = storage.save(io.BytesIO(SAMPLES["pdf"]), "ban-sao (1).pdf")
    assert second is first
    assert _row_count(db) == before + 1
    assert _files(store, "objects") == [storage.object_path(first.sha256)]
    assert _files(store, "tmp") == []


# --- path safety -----------------------------------------------------------------------------------

@pytest.mark.parametrize("filename", ["../../etc/passwd.pdf", "a/b\\c.pdf", "/etc/passwd.pdf",
                                      "..\\..\\Windows\\win.pdf", "C:\\temp\\x.pdf", "bad\x00name.pdf",
                                      "objects/aa/bb/../../../escape.pdf"])
def test_the_user_filename_never_reaches_the_file_system(db, store, tmp_path, filename):
    before = {p for p in tmp_path.parent.rglob("*")}
    row = storage.save(SAMPLES["pdf"], filename)
    sha = _sha(SAMPLES["pdf"])
    assert row.sha256 == sha
    assert _files(store, "objects") == [store / "objects" / sha[:2] / sha[2:4] / sha]
    created = {p for p in tmp_path.parent.rglob("*")} - before
    assert {p for p in created if p.is_file()} == {store / "objects" / sha[:2] / sha[2:4] / sha}
    assert all(p == store or store in p.parents for p in created)
    assert {p.name for p in created} == {"storage", "objects", "tmp", sha[:2], sha[2:4], sha}


@pytest.mark.parametrize("bad", [
    "", "abc", "A" * 64, "a" * 63, "a" * 65, "g" * 64, "../" + "a" * 61, "a" * 64 + "\n", "a" * 64 + "/",
    " " + "a" * 63, "a" * 32 + "/" + "a" * 31, "ａ" * 64,
])
def test_object_path_accepts_only_64_lowercase_hex_digits(bad):
    with pytest.raises(storage.StorageError, match="Mã tệp không hợp lệ"):
        storage.object_path(bad)
    with pytest.raises(storage.StorageError, match="Mã tệp không hợp lệ"):
        storage.read(bad)


def test_object_path_is_derived_from_the_hash_only(store):
    sha = _sha(b"x")
    assert storage.object_path(sha) == store / "objects" / sha[:2] / sha[2:4] / sha


# --- integrity on read -----------------------------------------------------------------------------

def test_a_changed_object_raises_an_integrity_error(db, store):
    row = storage.save(SAMPLES["pdf"], "qd.pdf")
    path = storage.object_path(row.sha256)
    tampered = SAMPLES["pdf"].replace(b"595 842", b"612 792")
    path.write_bytes(tampered)
    with pytest.raises(storage.IntegrityError) as exc:
        storage.read(row.sha256)
    assert exc.value.sha256 == row.sha256
    assert exc.value.actual == _sha(tampered)
    message = str(exc.value)
    assert row.sha256[:12] in message
    assert "đã bị thay đổi sau khi lưu" in message
    assert "không cung cấp tệp này" in message


def test_a_missing_object_raises_an_integrity_error(db):
    row = storage.save(SAMPLES["png"], "anh.png")
    storage.object_path(row.sha256).unlink()
    with pytest.raises(storage.IntegrityError, match="không còn trên đĩa") as exc:
        storage.read(row.sha256)
    assert exc.value.actual is None


def test_an_unknown_hash_is_a_missing_object(db):
    with pytest.raises(storage.IntegrityError, match="không còn trên đĩa"):
        storage.read(_sha(b"never stored"))


# --- `portal storage-verify` -----------------------------------------------------------------------

def _integrity_rows(db: Session, sha: str) -> list[AuditEntry]:
    return list(db.execute(
        select(AuditEntry).where(AuditEntry.action == "storage.integrity_error", AuditEntry.object_id == sha)
        .order_by(AuditEntry.seq)
    ).scalars())


def test_storage_verify_passes_when_every_object_is_intact(app, db):
    storage.save(SAMPLES["pdf"], "qd.pdf")
    storage.save(SAMPLES["docx"], "cv.docx")
    db.commit()
    result = app.test_cli_runner().invoke(args=["portal", "storage-verify"])
    assert result.exit_code == 0, result.output
    assert "Mọi tệp đều toàn vẹn." in result.output


def test_storage_verify_reports_changed_and_missing_files_and_audits_them(app, db):
    intact = storage.save(SAMPLES["pdf"], "qd.pdf")
    changed = storage.save(SAMPLES["docx"], "cv.docx")
    missing = storage.save(SAMPLES["png"], "anh.png")
    db.commit()
    storage.object_path(changed.sha256).write_bytes(SAMPLES["xlsx"])
    storage.object_path(missing.sha256).unlink()

    result = app.test_cli_runner().invoke(args=["portal", "storage-verify"])

    assert result.exit_code == 1
    assert f"{changed.sha256[:12]}… đã bị thay đổi sau khi lưu" in result.output
    assert f"{missing.sha256[:12]}… không còn trên đĩa" in result.output
    assert intact.sha256[:12] not in result.output
    assert "Mọi tệp đều toàn vẹn" not in result.output
    [row] = _integrity_rows(db, changed.sha256)
    assert row.details_dict == {"actual": _sha(SAMPLES["xlsx"])}
    assert row.actor_name == "storage-verify"
    assert row.object_type == "stored_files"
    assert _integrity_rows(db, missing.sha256)[0].details_dict == {"actual": None}
    assert _integrity_rows(db, intact.sha256) == []
    assert audit.verify(db, app.config["AUDIT_KEY"]).ok


# --- the 500 page a web read gets ------------------------------------------------------------------

@pytest.fixture(scope="module")
def probe_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """A second application with a test-only route that serves a stored object. The shared app
    has served requests already, and Flask refuses new routes after that."""
    other = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "STORAGE_DIR": app.config["STORAGE_DIR"]})
    db_session.configure(bind=app.extensions["engine"])  # create_app rebinds the shared session
    probe = Blueprint("storage_probe", __name__)

    @probe.get("/_probe/<sha>")
    def serve(sha: str) -> bytes:
        return storage.read(sha)

    other.register_blueprint(probe)
    yield other
    other.extensions["engine"].dispose()


def test_a_corrupted_object_served_on_the_web_gives_a_vietnamese_500_and_is_audited(
        probe_app, app, db, store, monkeypatch):
    monkeypatch.setitem(probe_app.config, "STORAGE_DIR", str(store))
    row = storage.save(SAMPLES["pdf"], "qd.pdf")
    db.commit()  # the handler rolls back what the request did; the stored row predates it
    client = probe_app.test_client()

    ok = client.get(f"/_probe/{row.sha256}")
    assert ok.status_code == 200
    assert ok.data == SAMPLES["pdf"]

    storage.object_path(row.sha256).write_bytes(b"%PDF-1.4 ban gia mao")
    resp = client.get(f"/_probe/{row.sha256}", environ_base={"REMOTE_ADDR": "198.51.100.4"})

    assert resp.status_code == 500
    body = resp.get_data(as_text=True)
    assert 'lang="vi"' in body
    assert "Tệp không toàn vẹn" in body
    assert "đã bị thay đổi sau khi lưu" in body
    assert "ban gia mao" not in body
    db.expire_all()
    [entry] = _integrity_rows(db, row.sha256)
    assert entry.ip == "198.51.100.4"
    assert entry.details_dict == {"actual": _sha(b"%PDF-1.4 ban gia mao"), "path": f"/_probe/{row.sha256}"}
    assert audit.verify(db, app.config["AUDIT_KEY"]).ok
