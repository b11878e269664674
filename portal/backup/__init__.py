"""Backups that restore (SPEC §15, §16; issue 15): ``create`` writes one consistent set, ``restore``
rebuilds an empty database and storage from it and runs the drill.

A set is a new directory: ``manifest.json``, the database (``database.pgdump``: pg_dump's custom
format; ``database.sqlite3``: a copy by the online backup API) and ``objects/…``, every stored file
the snapshot's ``stored_files`` rows name, laid out like ``STORAGE_DIR``. With ``PORTAL_BACKUP_KEY``
every part is encrypted (``parts.py``); the key itself is never written into the set. What must be
kept outside it (audit key, PKI passphrase and keys, backup key): docs/OPERATIONS.md.

Both write their own audit row after the snapshot, so the set's audit head is the one the drill
finds after a restore, and the live chain says when each backup and restore happened.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from portal import audit, storage
from portal.backup import database, drill, manifest
from portal.backup.drill import DrillReport
from portal.backup.manifest import Manifest
from portal.backup.parts import BackupError, Key, Part, PartWriter, check, file_chunks, read
from portal.db import session

__all__ = ["BackupError", "DrillReport", "Manifest", "Restored", "create", "restore"]
ACTOR = "portal backup"


def _new_directory(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} đã tồn tại và không trống: mỗi bản sao lưu cần một thư mục mới.")
    dest.mkdir(parents=True, exist_ok=True)


def _verified_object(sha: str) -> Iterator[bytes]:
    """One stored file, streamed and checked against its name on the way into the set: a backup
    must not carry a damaged file as if it were good."""
    path = storage.object_path(sha)
    if not path.is_file():
        raise storage.IntegrityError(sha, None)
    digest = hashlib.sha256()
    for chunk in file_chunks(path):
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != sha:
        raise storage.IntegrityError(sha, digest.hexdigest())


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    from portal import migrate

    return ScriptDirectory.from_config(migrate.alembic_config(current_app.config["DATABASE_URL"])).get_current_head()


def _anchor() -> dict[str, object] | None:
    """The audit anchor (issue 15, part 4): at each backup the chain's head is appended to the anchor
    file outside the database and storage, and the manifest carries the line written. Taken after
    the snapshot, so it is at or past the set's head. Nothing when no anchor file is configured."""
    if not current_app.config.get("AUDIT_ANCHOR_FILE"):
        return None
    from portal.audit_anchors import AnchorRefused

    try:
        written = audit.append_anchor()
    except AnchorRefused as exc:
        raise BackupError(f"Không ghi được mốc nhật ký khi sao lưu: {exc}") from None
    return {"seq": written.seq, "hash": written.hash, "at": written.at}


def create(dest: Path) -> Manifest:
    """Back up the configured database and storage into the new directory ``dest``."""
    config = current_app.config
    engine = current_app.extensions["engine"]
    _new_directory(dest)
    secret = str(config.get("BACKUP_KEY") or "")
    key = Key.from_setting(secret) if secret else None
    writer = PartWriter(dest, key)
    with database.snapshot(engine, config["DATABASE_URL"], dest) as (facts, dump):
        db_part = writer.write(database.dump_name(engine), dump)
        # on PostgreSQL the snapshot is still open here; files are never deleted, so every row it
        # names has its object on disk, whatever was written since
        for sha in facts.stored_files:
            try:
                writer.write(str(Path("objects", sha[:2], sha[2:4], sha)), _verified_object(sha))
            except storage.IntegrityError as exc:
                raise BackupError(f"Không sao lưu được: {exc} Chạy `portal storage-verify` và xử lý tệp hỏng "
                                  "trước.") from None
    taken = Manifest(created_at=datetime.now(UTC), dialect=engine.dialect.name, revision=facts.revision,
                     audit_seq=facts.audit_seq, audit_hash=facts.audit_hash, counts=facts.counts,
                     database=db_part, objects=writer.parts[1:], key_id=key.key_id if key else None,
                     anchor=_anchor())
    manifest.write(dest, taken, config["AUDIT_KEY"])
    audit.record(None, "backup.created", object_type="backup", actor_name=ACTOR,
                 details={"directory": str(dest), "audit_seq": taken.audit_seq, "files": len(taken.objects),
                          "bytes": taken.size(), "encrypted": taken.encrypted, "revision": taken.revision})
    session.commit()
    return taken


@dataclass
class Restored:
    manifest: Manifest
    report: DrillReport
    upgraded: bool


def _refuse_non_empty() -> None:
    tables = database.existing_tables(current_app.extensions["engine"])
    if tables:
        raise BackupError(f"Cơ sở dữ liệu đích không trống (đã có {len(tables)} bảng, ví dụ “{tables[0]}”): chỉ khôi "
                          "phục vào một cơ sở dữ liệu mới tạo, chưa chạy db-upgrade.")
    objects = storage.root() / "objects"
    if objects.is_dir() and any(objects.iterdir()):
        raise BackupError(f"Thư mục lưu tệp đích không trống ({objects}): chỉ khôi phục vào thư mục trống.")


def _put_object(root: Path, part: Part, key: Key | None) -> None:
    sha = Path(part.name).name.removesuffix(".enc")
    target = storage.object_path(sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(sha + ".restoring")
    with staged.open("wb") as out:
        for chunk in read(root, part, key):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.replace(staged, target)


def restore(src: Path) -> Restored:
    """Check the whole set, refuse a non-empty target, load the database and the files, run the
    drill, then record the restore (after the drill, so the drill sees the head of the set)."""
    from portal import migrate

    config = current_app.config
    taken = manifest.read(src, config["AUDIT_KEY"])
    key = manifest.key_for(taken, str(config.get("BACKUP_KEY") or ""))
    engine = current_app.extensions["engine"]
    if taken.dialect != engine.dialect.name:
        raise BackupError(f"Bản sao lưu của {taken.dialect} không khôi phục được vào {engine.dialect.name}.")
    _refuse_non_empty()
    for part in taken.parts:
        check(src, part)
    session.remove()
    database.load(engine, config["DATABASE_URL"], read(src, taken.database, key))
    for part in taken.objects:
        _put_object(src, part, key)
    upgraded = taken.revision != _head_revision()
    if upgraded:  # a set from before the last upgrade: bring the schema to this code's
        migrate.upgrade(config["DATABASE_URL"])
    report = drill.run(session(), taken)
    session.rollback()
    audit.record(None, "backup.restored", object_type="backup", actor_name=ACTOR,
                 details={"directory": str(src), "created_at": taken.created_at.isoformat(),
                          "audit_seq": taken.audit_seq, "drill": report.summary(), "upgraded": upgraded})
    session.commit()
    return Restored(taken, report, upgraded)
