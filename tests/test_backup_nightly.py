"""The nightly backup task: registered on the queue, writes a dated set under PORTAL_BACKUP_DIR, keeps
the newest N, and says so when no directory is configured."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from portal.backup import nightly as nightly_module
from portal.jobs.periodic import PERIODIC


def test_the_backup_is_a_nightly_periodic_task():
    [task] = [p for p in PERIODIC if p.name == "backup"]
    assert task.function is nightly_module.nightly
    assert task.cron == {"hour": "1", "minute": "30"}


def test_without_a_directory_nothing_is_written_and_the_log_says_so(app, db, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "BACKUP_DIR", "")
    made: list[Path] = []
    monkeypatch.setattr(nightly_module, "create", made.append)
    assert nightly_module.nightly() is None
    assert made == []
    assert "PORTAL_BACKUP_DIR" in caplog.text


def test_each_night_writes_a_dated_set_and_keeps_the_newest(app, db, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "BACKUP_KEEP", 3)
    monkeypatch.setattr(nightly_module, "create", lambda dest: dest.mkdir())
    (tmp_path / "ghi-chu.txt").write_text("không phải bản sao lưu")
    (tmp_path / "thu-muc-khac").mkdir()
    first = datetime(2026, 12, 1, 1, 30)  # noqa: DTZ001 (a wall-clock time in the server's zone)
    for day in range(5):
        made = nightly_module.nightly(first + timedelta(days=day))
        assert made is not None
        assert made.name == f"qlvb-202612{day + 1:02d}-0130"
    sets = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("qlvb-"))
    assert sets == ["qlvb-20261203-0130", "qlvb-20261204-0130", "qlvb-20261205-0130"]
    assert (tmp_path / "ghi-chu.txt").exists()
    assert (tmp_path / "thu-muc-khac").exists()
