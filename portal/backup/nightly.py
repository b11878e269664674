"""The nightly backup: a periodic task on the job queue (and ``portal backup DIR`` by hand).

With ``PORTAL_BACKUP_DIR`` set, each night writes a new set ``<BACKUP_DIR>/qlvb-YYYYMMDD-HHMM`` and
keeps the newest ``PORTAL_BACKUP_KEEP`` sets of that name (other files in the directory are never
touched). Empty ``PORTAL_BACKUP_DIR``: nothing is written and the log says so every night, so a
province that forgot to configure it finds out. Copy the sets off the machine (docs/OPERATIONS.md).
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

from flask import current_app

from portal import jobs
from portal.backup import create
from portal.timeutil import zone

_SET = re.compile(r"qlvb-\d{8}-\d{4}")


def nightly(now: datetime | None = None) -> Path | None:
    config = current_app.config
    target = str(config.get("BACKUP_DIR") or "").strip()
    if not target:
        current_app.logger.warning("Chưa đặt PORTAL_BACKUP_DIR: đêm nay không có bản sao lưu.")
        return None
    root = Path(target)
    root.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(zone())).strftime("%Y%m%d-%H%M")
    dest = root / f"qlvb-{stamp}"
    create(dest)
    keep = max(1, int(config.get("BACKUP_KEEP") or 14))
    sets = sorted(p for p in root.iterdir() if p.is_dir() and _SET.fullmatch(p.name))
    for old in sets[:-keep]:
        shutil.rmtree(old)
    return dest


jobs.periodic("backup", nightly, hour="1", minute="30")
