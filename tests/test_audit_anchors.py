"""Anchors outside the database (issue 15, item 4): deleting the newest audit rows and setting the
head back leaves a chain that ``audit-verify`` finds whole; the anchor file does not forget.

The attacks run as an attacker with the database's full rights would: on PostgreSQL as the
superuser with the append-only triggers disabled, on SQLite with them dropped (anyone who can
write the file can); both inside the test's transaction, rolled back at the end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from portal import audit, audit_anchors
from portal.audit import AuditEntry, AuditHead
from tests.test_audit import KEY, allow_tampering
from tests.test_schedules import sched  # noqa: F401  (a calendar with its people, for the week PDF)


def _cli(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["portal", *args])


def _record(n: int) -> list[AuditEntry]:
    return [audit.record(None, f"test.anchor_{i}", object_type="test", object_id=i, actor_name="Người kiểm thử")
            for i in range(n)]


@pytest.fixture
def chain(db: Session) -> list[AuditEntry]:
    entries = _record(6)
    db.commit()
    db.expunge_all()  # the test keeps what was written; verify reads what the database holds now
    return entries


@pytest.fixture
def anchors(tmp_path: Path) -> Path:
    return tmp_path / "ngoai-csdl" / "moc-nhat-ky.log"


def _rewind_to(db: Session, entry: AuditEntry) -> None:
    """Delete every row after ``entry`` and point the head at it: a shorter chain, whole."""
    allow_tampering(db)
    db.execute(text("DELETE FROM audit_log WHERE seq > :seq"), {"seq": entry.seq})
    db.execute(update(AuditHead).values(last_seq=entry.seq, last_hash=entry.hash))


def test_an_anchor_is_the_head_with_a_keyed_mac(app, db, chain, anchors):
    anchor = audit.append_anchor(str(anchors))
    [line] = anchors.read_text().splitlines()
    data = json.loads(line)
    assert (data["seq"], data["hash"]) == (chain[-1].seq, chain[-1].hash) == (anchor.seq, anchor.hash)
    assert data["at"].endswith("+07:00")
    assert data["mac"] == audit_anchors.Anchor(data["seq"], data["hash"], data["at"]).mac(KEY)
    assert anchors.stat().st_mode & 0o777 == 0o600
    result = _cli(app, "audit-verify", "--anchors", str(anchors))
    assert result.exit_code == 0, result.output
    assert f"Tệp mốc {anchors}: 1 mốc, khớp với nhật ký." in result.output


def test_a_rewound_head_passes_the_chain_check_but_not_the_anchors(app, db, chain, anchors):
    audit.append_anchor(str(anchors))
    _rewind_to(db, chain[2])
    assert audit.verify(db, KEY).ok  # what issue 15 found: the shorter chain is whole

    result = _cli(app, "audit-verify", "--anchors", str(anchors))

    assert result.exit_code == 1
    assert f"đầu chuỗi đã lùi: nay ở bản ghi số {chain[2].seq}, nhưng mốc lúc" in result.output
    assert f"đã ghi bản ghi số {chain[-1].seq}." in result.output
    assert f"thiếu bản ghi số {chain[-1].seq} đã được neo lúc" in result.output


def test_a_rewound_chain_grown_past_the_anchor_is_caught_by_the_hash(app, db, chain, anchors):
    """The attacker rewinds, then new rows are appended beyond the anchored number: the head is
    ahead again, but the anchored row is another one."""
    earlier = audit.append_anchor(str(anchors))
    _record(1)
    audit.append_anchor(str(anchors))
    _rewind_to(db, chain[1])
    _record(8)
    assert audit.verify(db, KEY).ok

    report = audit_anchors.check(db, KEY, anchors)

    assert not report.ok
    assert f"bản ghi số {earlier.seq} khác với mốc lúc {earlier.at} (bị sửa hoặc viết lại sau khi neo)." \
        in report.problems


def test_a_wiped_chain_is_reported(app, db, chain, anchors):
    audit.append_anchor(str(anchors))
    allow_tampering(db)
    db.execute(text("DELETE FROM audit_log"))
    db.execute(update(AuditHead).values(last_seq=0, last_hash=audit.GENESIS))
    assert audit.verify(db, KEY).ok

    result = _cli(app, "audit-verify", "--anchors", str(anchors))

    assert result.exit_code == 1
    assert "chuỗi nhật ký đã bị xóa sạch: không còn bản ghi nào" in result.output
    assert f"đã neo tới bản ghi số {chain[-1].seq}" in result.output


def test_forged_and_damaged_lines_are_reported(app, db, chain, anchors):
    audit.append_anchor(str(anchors))
    real = json.loads(anchors.read_text())
    lower = audit_anchors.Anchor(real["seq"] - 3, real["hash"], real["at"])
    with anchors.open("a") as f:
        f.write(lower.line("khóa-đoán") + "\n")  # made without the key
        f.write(json.dumps({**real, "seq": real["seq"] - 3}) + "\n")  # the real MAC on another number
        f.write('{"seq": 5, "hash"')  # cut short, no newline
    audit.append_anchor(str(anchors))  # starts a line of its own

    report = audit_anchors.check(db, KEY, anchors)

    assert report.anchors == 2
    assert report.problems == [f"dòng {n} của tệp mốc là giả hoặc bị sửa (mã xác thực không khớp)." for n in (2, 3, 4)]
    assert _cli(app, "audit-verify", "--anchors", str(anchors)).exit_code == 1


def test_an_anchor_file_that_cannot_be_read_fails(app, db, tmp_path):
    result = _cli(app, "audit-verify", "--anchors", str(tmp_path / "khong-co.log"))
    assert result.exit_code == 1
    assert "không đọc được tệp mốc" in result.output


def test_anchors_are_refused_inside_the_storage_and_database_directories(app, db, storage_dir):
    with pytest.raises(audit_anchors.AnchorRefused, match=r"nằm trong thư mục .* của cơ sở dữ liệu hoặc kho tệp"):
        audit.append_anchor(str(storage_dir / "moc.log"))
    assert not (storage_dir / "moc.log").exists()
    engine = db.get_bind().engine
    if engine.dialect.name == "sqlite":
        beside_database = Path(str(engine.url.database)).parent / "sub" / "moc.log"
        result = _cli(app, "audit-anchor", str(beside_database))
        assert result.exit_code == 1
        assert "nằm trong thư mục" in result.output
        assert not beside_database.exists()


def test_the_command_writes_to_the_configured_file(app, db, chain, anchors, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", "")
    result = _cli(app, "audit-anchor")
    assert result.exit_code == 1
    assert "Chưa đặt PORTAL_AUDIT_ANCHOR_FILE" in result.output
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", str(anchors))
    result = _cli(app, "audit-anchor")
    assert result.exit_code == 0, result.output
    assert f"Đã neo đầu chuỗi: bản ghi số {chain[-1].seq}" in result.output
    assert json.loads(anchors.read_text())["seq"] == chain[-1].seq


def test_readyz_warns_without_an_anchor_file_and_when_the_role_could_shorten_the_log(app, client, monkeypatch,
                                                                                     anchors, db):
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", "")
    body = client.get("/readyz").get_json()
    assert body["status"] == "ok"
    assert any("Chưa đặt PORTAL_AUDIT_ANCHOR_FILE" in w for w in body["warnings"])
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", str(anchors))
    resp = client.get("/readyz")
    assert resp.status_code == 200
    if db.get_bind().dialect.name == "postgresql":  # the suite connects as the superuser postgres
        [warning] = resp.get_json()["warnings"]
        assert "Nhật ký kiểm tra không được bảo vệ" in warning
        assert "là superuser" in warning
    else:  # SQLite has no roles: the anchors are its protection
        assert resp.get_json()["warnings"] == []


def test_a_head_row_that_is_gone_is_not_an_anchor(app, db, anchors):
    db.execute(text("DELETE FROM audit_head"))
    with pytest.raises(audit_anchors.AnchorRefused, match="audit_head"):
        audit.append_anchor(str(anchors))
    assert not anchors.exists()


# --- heavy work before the audit row ----------------------------------------------------------------

def _head_seq(db: Session) -> int:
    return db.execute(select(AuditHead.last_seq).execution_options(populate_existing=True)).scalar_one()


def _render_then_check(db: Session, monkeypatch, module: object, name: str) -> list[int]:
    """Wraps a PDF builder to note the head while it renders."""
    seen: list[int] = []
    build = getattr(module, name)

    def noting(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(_head_seq(db))
        return build(*args, **kwargs)

    monkeypatch.setattr(module, name, noting)
    return seen


def _printed(db: Session, action: str) -> AuditEntry:
    return db.execute(select(AuditEntry).where(AuditEntry.action == action)).scalar_one()


def test_the_slip_is_rendered_before_its_audit_row(db, login, office, monkeypatch):
    """The audit row locks the chain's head until commit: rendering after it would hold every other
    writer (PostgreSQL) for the whole rendering."""
    from portal.incoming import pdf
    from tests.test_incoming_pdf import fetch, walk

    doc = walk(office)
    db.commit()
    seen = _render_then_check(db, monkeypatch, pdf, "build_slip_pdf")
    assert fetch(login(office[2]["officer"]), doc).status_code == 200
    assert seen
    assert seen[0] < _printed(db, "incoming.slip_printed").seq


def test_the_week_pdf_is_rendered_before_its_audit_row(db, sched, login, monkeypatch):  # noqa: F811 (the fixture)
    from portal.schedules import pdf
    from tests.test_schedules import MONDAY, data, publish

    _org, _unit, cal, p = sched
    publish(cal, p, data(content="Họp giao ban"))
    seen = _render_then_check(db, monkeypatch, pdf, "build_week_pdf")
    assert login(p["staff"]).get(f"/lich-cong-tac/lich/{cal.id}/{MONDAY}/lich-cong-tac.pdf").status_code == 200
    assert seen
    assert seen[0] < _printed(db, "schedules.pdf_printed").seq


def test_the_head_is_anchored_daily(app, db, chain, anchors, monkeypatch, caplog):
    from portal import jobs

    [task] = [p for p in jobs.PERIODIC if p.name == "audit-anchor"]
    assert task.cron == {"hour": "2", "minute": "15"}
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", "")
    assert task.function() is None
    assert "chưa đặt PORTAL_AUDIT_ANCHOR_FILE" in caplog.text
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", str(anchors))
    anchor = task.function()
    assert json.loads(anchors.read_text())["seq"] == anchor.seq == chain[-1].seq
