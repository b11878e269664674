"""The restore drill: is what came back whole, and will the portal carry on from where it was?

Four checks, each answered in Vietnamese: the audit chain verifies and ends exactly at the head the
manifest recorded; every stored file is present and hashes to its name (and the rows match the
counts); every register counter equals the largest number its book used that year (so the next
document gets the next number: no gap, no repeat); the issued PDFs' signatures still validate
against the configured trust roots (skipped, and said so, when none is configured).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import audit, storage
from portal.backup.database import read_facts
from portal.backup.manifest import Manifest
from portal.documents.models import IncomingDocument, OutgoingDocument, RegisterCounter

SHOWN = 5  # problems listed per check; the rest are counted


@dataclass
class Check:
    title: str
    ok: bool
    lines: list[str] = field(default_factory=list)
    skipped: bool = False

    def text(self) -> str:
        mark = "BỎ QUA" if self.skipped else ("ĐẠT" if self.ok else "KHÔNG ĐẠT")
        return "\n".join([f"[{mark}] {self.title}", *(f"    {line}" for line in self.lines)])


@dataclass
class DrillReport:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def text(self) -> str:
        verdict = "Diễn tập khôi phục: ĐẠT." if self.ok else "Diễn tập khôi phục: KHÔNG ĐẠT."
        return "\n".join([*(c.text() for c in self.checks), verdict])

    def summary(self) -> dict[str, str]:
        return {c.title: "bỏ qua" if c.skipped else ("đạt" if c.ok else "không đạt") for c in self.checks}


def _audit(db: Session, manifest: Manifest) -> Check:
    result = audit.verify(db, current_app.config["AUDIT_KEY"])
    head = db.get(audit.AuditHead, 1, populate_existing=True)
    lines = [result.message()]
    same_head = head is not None and (head.last_seq, head.last_hash) == (manifest.audit_seq, manifest.audit_hash)
    if not same_head:
        lines.append(f"Đầu chuỗi sau khôi phục ({head.last_seq if head else '—'}) khác đầu chuỗi ghi trong manifest "
                     f"({manifest.audit_seq}).")
    else:
        lines.append(f"Đầu chuỗi: bản ghi {manifest.audit_seq}, {manifest.audit_hash[:16]}…, đúng như manifest.")
    return Check("Nhật ký hệ thống (chuỗi băm)", result.ok and same_head, lines)


def _files(db: Session, manifest: Manifest) -> Check:
    broken = list(storage.scrub())
    facts = read_facts(db.connection())
    lines = [str(error) for error in broken[:SHOWN]]
    if len(broken) > SHOWN:
        lines.append(f"… và {len(broken) - SHOWN} tệp khác.")
    counts_ok = facts.counts == manifest.counts
    if not counts_ok:
        lines.append(f"Số bản ghi khác manifest: {facts.counts} ≠ {manifest.counts}.")
    lines.append(f"{len(facts.stored_files)} tệp đã kiểm tra mã băm; {len(broken)} tệp hỏng hoặc thiếu.")
    return Check("Tệp đã lưu và số bản ghi", not broken and counts_ok, lines)


def _largest_used(db: Session) -> dict[tuple[int, int], int]:
    used: dict[tuple[int, int], int] = {}
    for number in (IncomingDocument.arrival_number, OutgoingDocument.number):
        table = number.class_
        rows = db.execute(select(table.book_id, table.year, func.max(number))
                          .where(number.is_not(None), table.book_id.is_not(None))
                          .group_by(table.book_id, table.year))
        for book_id, year, largest in rows:
            used[(book_id, year)] = max(used.get((book_id, year), 0), largest)
    return used


def _counters(db: Session) -> Check:
    counters = {(c.book_id, c.year): c.last_number for c in db.execute(select(RegisterCounter)).scalars()}
    used = _largest_used(db)
    wrong = sorted(k for k in counters.keys() | used.keys() if counters.get(k, 0) != used.get(k, 0))
    lines = [f"Sổ {book}, năm {year}: bộ đếm {counters.get((book, year), 0)}, số lớn nhất đã dùng "
             f"{used.get((book, year), 0)}." for book, year in wrong[:SHOWN]]
    if len(wrong) > SHOWN:
        lines.append(f"… và {len(wrong) - SHOWN} sổ khác.")
    lines.append(f"{len(counters)} bộ đếm (sổ, năm) đã đối chiếu; số tiếp theo của mỗi sổ nối tiếp số đã dùng.")
    return Check("Bộ đếm số văn bản", not wrong, lines)


def _signatures(db: Session) -> Check:
    from portal.signatures import service as signatures
    from portal.signing import verification

    title = "Chữ ký số trên văn bản đã phát hành"
    roots = signatures.trust_roots()
    tsa_roots = signatures.tsa().roots
    if not roots:
        return Check(title, True, ["Chưa cấu hình gốc tin cậy (PORTAL_SIGNING_TRUST_ROOTS hoặc bộ khóa thử "
                                   "nghiệm PORTAL_SIGNING_DEV_PKI): không kiểm tra chữ ký."], skipped=True)
    shas = db.execute(select(OutgoingDocument.main_file_sha256).where(OutgoingDocument.main_file_sha256.is_not(None))
                      .distinct()).scalars()
    valid = unsigned = 0
    bad: list[str] = []
    for sha in shas:
        try:
            report = verification.verify(storage.read(sha), roots, tsa_roots=tsa_roots)
        except storage.IntegrityError as exc:
            bad.append(str(exc))
            continue
        if not report.signatures:
            unsigned += 1
        elif report.verdict == verification.VALID:
            valid += 1
        else:
            bad.append(f"Tệp {sha[:12]}…: {report.verdict}.")
    lines = [*bad[:SHOWN], f"{valid} tệp có chữ ký hợp lệ, {len(bad)} không hợp lệ, {unsigned} tệp không có chữ ký."]
    return Check(title, not bad, lines)


def run(db: Session, manifest: Manifest) -> DrillReport:
    return DrillReport([_audit(db, manifest), _files(db, manifest), _counters(db), _signatures(db)])
