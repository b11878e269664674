"""Anchors of the audit chain outside the database (SPEC §13.5).

``verify`` proves the chain it finds is whole, but not that it is all there was: whoever can
delete the newest rows and set ``audit_head`` back (a superuser, or anyone with the SQLite file)
leaves a shorter chain that verifies. So the head (sequence, hash, time) is written, daily and at
each backup, as one line of an append-only file kept outside the database and storage
directories, ideally copied off the machine. Each line carries an HMAC with ``AUDIT_KEY``, so a
line written without the key is told from a real one. ``check`` then reports a head that went
backwards, an anchored row that is gone or different, a wiped chain, and forged lines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import exists, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.audit import AuditEntry, AuditHead, iso_local_precise
from portal.db import session, utcnow

PURPOSE = "qlvb-audit-anchor-v1"  # a line's MAC can never be mistaken for a row's hash
SHOWN = 20  # problems listed one by one; the rest are counted


class AnchorRefused(ValueError):
    """The anchor cannot be written there (or at all); the message is Vietnamese."""


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str  # ISO 8601, Vietnam time

    def mac(self, key: str) -> str:
        message = f"{PURPOSE}\n{self.seq}\n{self.hash}\n{self.at}".encode()
        return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()

    def line(self, key: str) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash, "at": self.at, "mac": self.mac(key)},
                          sort_keys=True, separators=(",", ":"))


def _protected_dirs(db: Session) -> Iterator[Path]:
    """The storage directory, the SQLite file's directory, PostgreSQL's data directory when the
    role may read it: an anchor there is lost or rewritten with what it guards."""
    yield Path(current_app.config["STORAGE_DIR"])
    engine = db.get_bind().engine
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        yield Path(str(engine.url.database)).parent
    elif engine.dialect.name == "postgresql":
        try:
            with engine.connect() as conn:  # its own connection: a refusal must not abort the caller's
                yield Path(conn.execute(text("SHOW data_directory")).scalar_one())
        except SQLAlchemyError:
            pass  # only superusers and pg_read_all_settings may ask; the server is usually elsewhere


def check_location(path: str | os.PathLike[str], db: Session) -> Path:
    target = Path(path).expanduser().resolve()
    for directory in _protected_dirs(db):
        if target.is_relative_to(directory.expanduser().resolve()):
            raise AnchorRefused(f"Tệp mốc {target} nằm trong thư mục {directory} của cơ sở dữ liệu hoặc kho tệp: "
                                "ai sửa được nhật ký cũng sửa được mốc. Hãy chọn một thư mục khác "
                                "(tốt nhất trên máy khác).")
    return target


def current(db: Session) -> Anchor:
    """The committed head as this transaction sees it (no lock: an anchor only reads)."""
    head = db.get(AuditHead, 1, populate_existing=True)
    if head is None:
        raise AnchorRefused("Mất bản ghi đầu chuỗi (audit_head): không neo được.")
    return Anchor(head.last_seq, head.last_hash, iso_local_precise(utcnow()))


def append(path: str | os.PathLike[str] | None = None, db: Session | None = None) -> Anchor:
    """Append the chain's head to the anchor file (``PORTAL_AUDIT_ANCHOR_FILE`` by default) and
    fsync it; returns what was written (the backup manifest carries it too)."""
    path = path or current_app.config.get("AUDIT_ANCHOR_FILE") or None
    if path is None:
        raise AnchorRefused("Chưa đặt PORTAL_AUDIT_ANCHOR_FILE (tệp mốc của nhật ký, ngoài thư mục cơ sở dữ liệu "
                            "và kho tệp).")
    db = db or session()
    target = check_location(path, db)
    anchor = current(db)
    line = anchor.line(current_app.config["AUDIT_KEY"]) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # a line cut short by a crash stays its own line
                line = "\n" + line
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise AnchorRefused(f"Không ghi được tệp mốc {target}: {exc.strerror}.") from exc
    return anchor


@dataclass
class AnchorReport:
    path: str
    anchors: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self) -> str:
        if self.ok:
            return f"Tệp mốc {self.path}: {self.anchors} mốc, khớp với nhật ký."
        shown = self.problems[:SHOWN]
        more = len(self.problems) - len(shown)
        lines = [f"Tệp mốc {self.path} cho thấy nhật ký đã bị cắt bớt hoặc viết lại:", *(f"- {p}" for p in shown)]
        if more:
            lines.append(f"- … và {more} vấn đề khác.")
        return "\n".join(lines)


def _parse(raw: str, key: str) -> Anchor | None:
    try:
        data: Any = json.loads(raw)
        anchor = Anchor(data["seq"], data["hash"], data["at"])
        mac = data["mac"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (type(anchor.seq) is int and isinstance(anchor.hash, str) and isinstance(anchor.at, str)
            and isinstance(mac, str)):
        return None
    return anchor if hmac.compare_digest(mac.encode(), anchor.mac(key).encode()) else None


def read(path: Path, key: str, report: AnchorReport) -> list[Anchor]:
    """The file's genuine anchors in order; a line that does not parse or whose MAC does not fit
    is reported as forged and otherwise ignored."""
    anchors: list[Anchor] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            anchor = _parse(raw, key)
            if anchor is None:
                report.problems.append(f"dòng {number} của tệp mốc là giả hoặc bị sửa (mã xác thực không khớp).")
                continue
            if anchors and anchor.seq < anchors[-1].seq:
                report.problems.append(f"dòng {number}: mốc lúc {anchor.at} ghi bản ghi số {anchor.seq}, thấp hơn mốc "
                                       f"trước ({anchors[-1].seq}): đầu chuỗi đã từng bị lùi.")
            anchors.append(anchor)
    report.anchors = len(anchors)
    return anchors


def _stored_hashes(db: Session, seqs: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(seqs), 500):
        rows = db.execute(select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(seqs[start:start + 500])))
        found.update((seq, digest) for seq, digest in rows)
    return found


def check(db: Session, key: str, path: str | os.PathLike[str]) -> AnchorReport:
    report = AnchorReport(str(path))
    try:
        anchors = read(Path(path), key, report)
    except OSError as exc:
        report.problems.append(f"không đọc được tệp mốc: {exc.strerror}.")
        return report
    last = {a.seq: a for a in anchors if a.seq > 0}  # one check per anchored row, the latest anchor of it
    if not last:
        return report
    top = max(last.values(), key=lambda a: a.seq)
    head = db.get(AuditHead, 1, populate_existing=True)
    if not db.execute(select(exists().select_from(AuditEntry))).scalar():
        report.problems.append(f"chuỗi nhật ký đã bị xóa sạch: không còn bản ghi nào, nhưng mốc lúc {top.at} đã neo "
                               f"tới bản ghi số {top.seq}.")
        return report
    head_seq = head.last_seq if head is not None else 0
    if head_seq < top.seq:
        report.problems.append(f"đầu chuỗi đã lùi: nay ở bản ghi số {head_seq}, nhưng mốc lúc {top.at} đã ghi "
                               f"bản ghi số {top.seq}.")
    stored = _stored_hashes(db, sorted(last))
    for seq, anchor in sorted(last.items()):
        if seq not in stored:
            report.problems.append(f"thiếu bản ghi số {seq} đã được neo lúc {anchor.at} (bị xóa sau khi neo).")
        elif not hmac.compare_digest(stored[seq].encode(), anchor.hash.encode()):
            report.problems.append(f"bản ghi số {seq} khác với mốc lúc {anchor.at} (bị sửa hoặc viết lại sau khi neo).")
    return report



def daily() -> Anchor | None:
    """The periodic task (portal/jobs/periodic.py): anchor when a file is configured, else say in the
    log that nothing protects the newest rows. Ends its read-only transaction (on SQLite a BEGIN
    IMMEDIATE would otherwise hold the write lock)."""
    try:
        if not current_app.config.get("AUDIT_ANCHOR_FILE"):
            current_app.logger.warning("audit-anchor: chưa đặt PORTAL_AUDIT_ANCHOR_FILE; đầu chuỗi nhật ký không "
                                       "được neo ra ngoài cơ sở dữ liệu.")
            return None
        return append()
    except AnchorRefused as exc:
        current_app.logger.error("audit-anchor: %s", exc)
        raise
    finally:
        session.rollback()
