"""The audit log: one append-only table, chained so that any edit, deletion, reordering or
truncation is detectable (SPEC §13.5).

Each row's ``hash`` is HMAC-SHA256(AUDIT_KEY, previous hash ‖ canonical JSON of the row). The key
lives outside the database, so whoever can write rows cannot recompute the chain. ``seq`` is
gap-free: it comes from the single ``audit_head`` row, locked for the rest of the transaction,
which also serialises appends (the chain has one order). Database triggers refuse UPDATE and
DELETE on ``audit_log`` (see the migration); ``verify`` catches what a DBA does anyway.

Every state change in the portal writes through ``record`` in its own transaction, so the change
and its record land together or not at all.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request
from sqlalchemy import ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.db import Base, UTCDateTime, session, utcnow
from portal.timeutil import DEFAULT_ZONE

GENESIS = "0" * 64
# The chained timestamp is always Vietnam time, whatever TIMEZONE says: a setting that changed the
# canonical text would make every existing row fail verification.
CHAIN_ZONE = ZoneInfo(DEFAULT_ZONE)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_actor_id", "actor_id"),
        Index("ix_audit_log_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def details_dict(self) -> dict[str, Any]:
        return json.loads(self.details)


class AuditHead(Base):
    """The chain's tip: one row (id 1), created by the migration."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


class Auditable(Protocol):
    id: Any


class Actor(Protocol):
    id: int
    full_name: str


def _canonical(entry: AuditEntry) -> str:
    payload = {
        "seq": entry.seq,
        "at": iso_local_precise(entry.occurred_at),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "organisation_id": entry.organisation_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "details": json.loads(entry.details),
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def iso_local_precise(moment: datetime) -> str:
    """ISO 8601 in Vietnam time (+07:00) with microseconds: the chained form must round-trip
    exactly."""
    if moment.tzinfo is None:
        raise ValueError("Thời điểm thiếu múi giờ.")
    return moment.astimezone(CHAIN_ZONE).isoformat(timespec="microseconds")


def _mac(key: str, prev_hash: str, canonical: str) -> str:
    return hmac.new(key.encode(), f"{prev_hash}\n{canonical}".encode(), hashlib.sha256).hexdigest()


def _object_type(obj: Any) -> str:
    table = getattr(obj, "__tablename__", None)
    return str(table or type(obj).__name__.lower())


def record(
    actor: Actor | None,
    action: str,
    obj: Auditable | None = None,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    organisation_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor_name: str | None = None,
    db: Session | None = None,
) -> AuditEntry:
    """Append one row in the caller's transaction. Never pass passwords, tokens or session ids
    in ``details``: the log is read by people who must not learn them."""
    db = db or session()
    # populate_existing: a head loaded earlier in this transaction, before the lock, may be stale
    head = db.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()
                      .execution_options(populate_existing=True)).scalar_one()
    if obj is not None:
        db.flush()  # a new object gets its id before we name it
        object_type = object_type or _object_type(obj)
        object_id = obj.id
    ip = user_agent = None
    if has_request_context():
        ip = request.remote_addr
        user_agent = (request.user_agent.string or "")[:300] or None
    entry = AuditEntry(
        seq=head.last_seq + 1,
        occurred_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor_name or (actor.full_name if actor is not None else None),
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=ip,
        user_agent=user_agent,
        details=json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str),
        prev_hash=head.last_hash,
    )
    entry.hash = _mac(current_app.config["AUDIT_KEY"], entry.prev_hash, _canonical(entry))
    head.last_seq = entry.seq
    head.last_hash = entry.hash
    db.add(entry)
    db.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    def message(self) -> str:
        if self.ok:
            return f"Nhật ký kiểm tra toàn vẹn: {self.checked} bản ghi, chuỗi băm hợp lệ."
        return f"Nhật ký bị thay đổi tại bản ghi số {self.broken_seq}: {self.reason}"


def _rows(db: Session) -> Iterator[AuditEntry]:
    """What the database holds now, not what this session remembers: populate_existing refreshes
    rows already in the identity map (written earlier in the same transaction), and the result is
    closed even when the walk stops at a broken row."""
    result = db.execute(select(AuditEntry).order_by(AuditEntry.seq)
                        .execution_options(yield_per=1000, populate_existing=True)).scalars()
    try:
        yield from result
    finally:
        result.close()


def _intact(entry: AuditEntry, key: str) -> bool:
    try:
        expected = _mac(key, entry.prev_hash, _canonical(entry))
    except (ValueError, TypeError):  # details no longer JSON, a timestamp without zone
        return False
    return hmac.compare_digest(str(entry.hash).encode(), expected.encode())


def verify(db: Session, key: str) -> VerifyResult:
    """Walk the chain in ``seq`` order and report the first row that does not fit: a changed row
    fails its own hash, a deleted or reordered row breaks the next row's link or the numbering,
    a removed tail no longer matches ``audit_head``."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    rows = _rows(db)
    try:
        for entry in rows:
            if entry.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq,
                                    f"thiếu bản ghi số {expected_seq} (bị xóa hoặc đổi thứ tự).")
            if entry.prev_hash != expected_prev:
                return VerifyResult(False, checked, entry.seq,
                                    "liên kết tới bản ghi trước không khớp (bị xóa, chèn hoặc đổi thứ tự).")
            if not _intact(entry, key):
                return VerifyResult(False, checked, entry.seq, "nội dung bản ghi đã bị sửa.")
            expected_prev = entry.hash
            expected_seq += 1
            checked += 1
    finally:
        rows.close()
    head = db.get(AuditHead, 1, populate_existing=True)
    if head is None:
        return VerifyResult(False, checked, None, "mất bản ghi đầu chuỗi (audit_head).")
    if head.last_seq != checked or head.last_hash != expected_prev:
        return VerifyResult(False, checked, checked + 1,
                            f"chuỗi dừng ở bản ghi {checked} nhưng đầu chuỗi ghi {head.last_seq} "
                            "(các bản ghi cuối đã bị xóa).")
    return VerifyResult(True, checked)


def append_anchor(path: str | None = None) -> Any:
    """Write the chain's head (sequence, hash, time, HMAC) as one line of the anchor file outside the
    database: ``PORTAL_AUDIT_ANCHOR_FILE`` unless ``path`` is given. Called by `portal audit-anchor`,
    daily, and by each backup; returns the ``audit_anchors.Anchor`` written. See portal/audit_anchors.py."""
    from portal import audit_anchors

    return audit_anchors.append(path)


def anchor_daily() -> Any:
    """The daily periodic task: ``append_anchor`` when PORTAL_AUDIT_ANCHOR_FILE is set."""
    from portal import audit_anchors

    return audit_anchors.daily()
