"""``manifest.json``: what a backup set holds and how to check it.

The manifest names every part with its SHA-256 and size, the audit chain's head and the schema
revision at the snapshot, row counts, the time, and whether (and with which key id) the parts are
encrypted. It carries an HMAC under the audit key, which is kept outside the database and the
backup: whoever edits a part and its hash in the manifest still cannot make the manifest verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from portal.backup.parts import ALGORITHM, BackupError, Key, Part

FORMAT = "qlvb-backup"
VERSION = 1
FILE = "manifest.json"


@dataclass
class Manifest:
    created_at: datetime
    dialect: str
    revision: str | None
    audit_seq: int
    audit_hash: str
    counts: dict[str, int]
    database: Part
    objects: list[Part] = field(default_factory=list)
    key_id: str | None = None
    anchor: dict[str, Any] | None = None  # the line appended to the audit anchor file at this backup

    @property
    def encrypted(self) -> bool:
        return self.key_id is not None

    @property
    def parts(self) -> list[Part]:
        return [self.database, *self.objects]

    def size(self) -> int:
        return sum(p.size for p in self.parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": VERSION,
            "created_at": self.created_at.isoformat(),
            "database": {"dialect": self.dialect, "alembic_revision": self.revision, "part": self.database.to_dict()},
            "audit_head": {"seq": self.audit_seq, "hash": self.audit_hash},
            "counts": self.counts,
            "encryption": {"algorithm": ALGORITHM, "key_id": self.key_id} if self.key_id else None,
            "audit_anchor": self.anchor,
            "objects": [p.to_dict() for p in self.objects],
        }


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _mac(data: dict[str, Any], audit_key: str) -> str:
    return hmac.new(audit_key.encode(), _canonical(data), hashlib.sha256).hexdigest()


def write(root: Path, manifest: Manifest, audit_key: str) -> None:
    data = manifest.to_dict()
    data["mac"] = _mac(data, audit_key)
    (root / FILE).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _part(raw: dict[str, Any]) -> Part:
    return Part(str(raw["name"]), str(raw["sha256"]), int(raw["size"]))


def read(root: Path, audit_key: str) -> Manifest:
    path = root / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"Không có {FILE} trong {root}: đây không phải thư mục sao lưu.") from None
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{FILE} hỏng (không phải JSON hợp lệ); không khôi phục.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{FILE} không phải manifest sao lưu của cổng QLVB&ĐH.")
    mac = data.pop("mac", None)
    if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(data, audit_key)):
        raise BackupError(f"{FILE} đã bị sửa, hoặc bản sao lưu được tạo với khóa nhật ký (PORTAL_AUDIT_KEY) khác; "
                          "không khôi phục.")
    if data.get("version") != VERSION:
        raise BackupError(f"Phiên bản định dạng sao lưu {data.get('version')} không được hỗ trợ.")
    db = data["database"]
    encryption = data.get("encryption")
    return Manifest(
        created_at=datetime.fromisoformat(data["created_at"]), dialect=db["dialect"], revision=db["alembic_revision"],
        audit_seq=int(data["audit_head"]["seq"]), audit_hash=str(data["audit_head"]["hash"]),
        counts={k: int(v) for k, v in data["counts"].items()}, database=_part(db["part"]),
        objects=[_part(p) for p in data["objects"]], key_id=encryption["key_id"] if encryption else None,
        anchor=data.get("audit_anchor"))


def key_for(manifest: Manifest, secret: str) -> Key | None:
    """The key to read the set with; refuses a missing or different key before any work."""
    if not manifest.encrypted:
        return None
    if not secret:
        raise BackupError("Bản sao lưu được mã hóa: đặt PORTAL_BACKUP_KEY bằng khóa đã dùng khi sao lưu "
                          f"(mã khóa {manifest.key_id}).")
    key = Key.from_setting(secret)
    if key.key_id != manifest.key_id:
        raise BackupError(f"PORTAL_BACKUP_KEY không phải khóa của bản sao lưu này (mã khóa {manifest.key_id}, "
                          f"khóa đang đặt có mã {key.key_id}).")
    return key
