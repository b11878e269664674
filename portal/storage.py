"""Uploaded files, stored content-addressed by SHA-256 under ``STORAGE_DIR`` (SPEC §3.7, §13.6).

- No name a user typed ever reaches the file system: the path is derived from the hash alone
  (``objects/ab/cd/abcd…``), and a hash is accepted only as 64 lowercase hex digits.
- Writes go to a temporary file in the same file system, are fsynced, then renamed into place:
  a crash leaves at most an orphaned temporary file, never a partial object under its hash.
- Reads recompute the hash; a file changed on disk raises ``IntegrityError`` (the web layer and
  the scrub command audit it), so a tampered signed original is never served as genuine.
- The allowed formats are checked twice: by extension and by the content's own signature.
- A full disk (ENOSPC, EDQUOT) raises ``StorageFull``: the web layer answers 507 "hết dung lượng lưu
  trữ", the temporary file is removed and the request's transaction rolls back, so nothing is half-written.
- ``clean_tmp()`` removes temporary files a killed worker left behind; ``orphans()`` lists objects on disk
  that no row names (``portal storage-clean`` and ``portal storage-verify``).
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import io
import os
import re
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import Integer, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, session, utcnow

CHUNK = 1024 * 1024
_HASH_RE = re.compile(r"[0-9a-f]{64}")  # used with fullmatch: "$" would let a trailing "\n" through
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
# whatever a damaged, encrypted or exotic archive makes zipfile raise: the upload is then simply
# not the format it claims
_ZIP_ERRORS = (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error)


class StorageError(Exception):
    """A file cannot be stored or read; ``str(exc)`` is the Vietnamese message for the user."""


class StorageFull(Exception):
    """The storage disk (or its quota) is full. Deliberately not a ``StorageError``: those are the
    user's fault and shown next to the field (422); this one is the server's and answers 507."""

    MESSAGE = ("Hết dung lượng lưu trữ trên máy chủ: tệp chưa được lưu và thao tác chưa được thực hiện. "
               "Hãy báo quản trị hệ thống rồi thử lại sau.")

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


_FULL = {errno.ENOSPC, errno.EDQUOT}


class UnsupportedFileType(StorageError):
    pass


class FileTooLarge(StorageError):
    pass


class IntegrityError(StorageError):
    def __init__(self, sha256: str, actual: str | None) -> None:
        self.sha256 = sha256
        self.actual = actual
        what = "không còn trên đĩa" if actual is None else "đã bị thay đổi sau khi lưu"
        super().__init__(f"Tệp {sha256[:12]}… {what}: mã băm SHA-256 không khớp. Đã ghi nhật ký "
                         "và báo quản trị hệ thống; không cung cấp tệp này.")


@dataclass(frozen=True)
class FileKind:
    content_type: str
    label: str


KINDS: dict[str, FileKind] = {
    # text types without a charset: Flask adds "; charset=utf-8" when serving (one parameter, not two)
    "txt": FileKind("text/plain", "văn bản thuần"),
    "csv": FileKind("text/csv", "CSV"),
    "rtf": FileKind("application/rtf", "RTF"),
    "doc": FileKind("application/msword", "Word 97-2003"),
    "docx": FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word"),
    "odt": FileKind("application/vnd.oasis.opendocument.text", "OpenDocument văn bản"),
    "xls": FileKind("application/vnd.ms-excel", "Excel 97-2003"),
    "xlsx": FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel"),
    "ods": FileKind("application/vnd.oasis.opendocument.spreadsheet", "OpenDocument bảng tính"),
    "pdf": FileKind("application/pdf", "PDF"),
    "jpg": FileKind("image/jpeg", "ảnh JPEG"),
    "jpeg": FileKind("image/jpeg", "ảnh JPEG"),
    "png": FileKind("image/png", "ảnh PNG"),
}
ALLOWED_LABEL = ".txt, .rtf, .doc, .docx, .odt, .csv, .xls, .xlsx, .ods, .pdf, .jpg, .jpeg, .png"


class StoredFile(Base):
    """One row per distinct content. Names belong to whatever attaches the file, not here."""

    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    extension: Mapped[str] = mapped_column(String(5))
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _zip_names(path: Path) -> set[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist()[:2000])
    except _ZIP_ERRORS:
        return set()


def _odf_mimetype(path: Path) -> str:
    """Only the first bytes are inflated: a "mimetype" member that expands to gigabytes (a zip bomb
    within the upload limit) must not be read whole into memory."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("mimetype") as member:
            return member.read(100).decode("ascii", "replace")
    except _ZIP_ERRORS:
        return ""


def _is_text(head: bytes) -> bool:
    """UTF-8 without NUL bytes. The sample may end inside a multi-byte character, so the decoder
    is told more may follow; any byte that can never be UTF-8 (\\xff, a stray continuation byte)
    still fails, wherever it sits."""
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def content_matches(ext: str, head: bytes, path: Path) -> bool:
    """Does the content carry the signature of the format its extension claims?"""
    if ext == "pdf":
        return head.startswith(b"%PDF-")
    if ext == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext in ("doc", "xls"):
        return head.startswith(_OLE)
    if ext == "rtf":
        return head.startswith(b"{\\rtf")
    if ext == "docx":
        return head.startswith(_ZIP) and "word/document.xml" in _zip_names(path)
    if ext == "xlsx":
        return head.startswith(_ZIP) and "xl/workbook.xml" in _zip_names(path)
    if ext == "odt":
        return head.startswith(_ZIP) and _odf_mimetype(path) == "application/vnd.oasis.opendocument.text"
    if ext == "ods":
        return head.startswith(_ZIP) and _odf_mimetype(path) == "application/vnd.oasis.opendocument.spreadsheet"
    if ext in ("txt", "csv"):
        return _is_text(head)
    return False


def root() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def object_path(sha256: str) -> Path:
    if not isinstance(sha256, str) or not _HASH_RE.fullmatch(sha256):
        raise StorageError("Mã tệp không hợp lệ.")
    return root() / "objects" / sha256[:2] / sha256[2:4] / sha256


def max_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path, top: Path) -> None:
    """The rename and any directories just created on the way (``objects/ab/cd``) must reach the
    disk too, or a power cut after commit can lose the entry that names the object."""
    while True:
        _fsync_dir(path)
        if path == top or top not in path.parents:
            return
        path = path.parent


def save(stream: BinaryIO | bytes, filename: str, *, inert: bool = False) -> StoredFile:
    """Store an upload and return its row (flushed in the caller's transaction). The file is
    durable on disk before the row exists, so a committed row never points at nothing.
    ``inert``: bytes received from another system kept exactly as they came (an edXML package, a ZIP
    attachment, a file whose content does not match its name): no type check, served only as a download."""
    ext = extension_of(filename)
    if inert:
        ext = (ext or "bin")[:5]
    elif ext not in KINDS:
        raise UnsupportedFileType(f"Định dạng tệp “.{ext or '?'}” không được chấp nhận. "
                                  f"Chỉ nhận: {ALLOWED_LABEL}.")
    if isinstance(stream, bytes):
        stream = io.BytesIO(stream)
    limit = max_bytes()
    tmp: Path | None = None
    try:
        tmp_dir = root() / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        size = 0
        head = b""
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise FileTooLarge(f"Tệp vượt quá giới hạn {limit // (1024 * 1024)} MB.")
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise UnsupportedFileType("Tệp rỗng, không có nội dung.")
        if not inert and not content_matches(ext, head, tmp):
            raise UnsupportedFileType(f"Nội dung tệp không phải {KINDS[ext].label} như phần mở rộng “.{ext}” "
                                      "khai báo.")
        sha = digest.hexdigest()
        final = object_path(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)  # atomic on one file system: readers see all or nothing
        _fsync_tree(final.parent, root())
    except OSError as exc:
        if exc.errno in _FULL:
            raise StorageFull() from exc
        raise
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    # Two people uploading the same file at the same moment both reach here: the insert ignores
    # the row the other one wrote, so neither gets an error for a file that is already safe.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(StoredFile).values(
        sha256=sha, size=size, extension=ext,
        content_type=KINDS[ext].content_type if ext in KINDS and not inert else "application/octet-stream",
        created_at=utcnow(),
    ).on_conflict_do_nothing())
    return session.get_one(StoredFile, sha)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read(sha256: str) -> bytes:
    """The stored bytes, after checking they still hash to their name."""
    path = object_path(sha256)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise IntegrityError(sha256, None) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise IntegrityError(sha256, actual)
    return data


def scrub() -> Iterator[IntegrityError]:
    """Every stored row whose object is missing or changed (the nightly check of SPEC §16)."""
    for sha in session.execute(select(StoredFile.sha256).order_by(StoredFile.sha256)).scalars():
        path = object_path(sha)
        if not path.is_file():
            yield IntegrityError(sha, None)
            continue
        actual = _hash_file(path)
        if actual != sha:
            yield IntegrityError(sha, actual)


def clean_tmp(older_than_seconds: float = 24 * 3600) -> list[Path]:
    """Remove temporary upload files older than the given age (a worker killed mid-upload leaves
    one behind). Younger files may belong to an upload in progress and are kept."""
    tmp_dir = root() / "tmp"
    if not tmp_dir.is_dir():
        return []
    cutoff = time.time() - older_than_seconds
    removed = []
    for path in sorted(tmp_dir.iterdir()):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # finished (renamed) or removed meanwhile
            continue
    return removed


def orphans(batch: int = 1000) -> Iterator[Path]:
    """Files under objects/ that no ``stored_files`` row names: left by a request that stored a file
    and then failed, or put there by hand. Anything that is not a well-formed object path is one too."""
    objects = root() / "objects"
    if not objects.is_dir():
        return
    pending: dict[str, Path] = {}

    def unknown(candidates: dict[str, Path]) -> list[Path]:
        known = set(session.execute(
            select(StoredFile.sha256).where(StoredFile.sha256.in_(list(candidates)))).scalars())
        return [path for sha, path in sorted(candidates.items()) if sha not in known]

    for path in sorted(p for p in objects.rglob("*") if not p.is_dir()):
        name = path.name
        if not _HASH_RE.fullmatch(name) or path != object_path(name):
            yield path
            continue
        pending[name] = path
        if len(pending) >= batch:
            yield from unknown(pending)
            pending = {}
    if pending:
        yield from unknown(pending)
