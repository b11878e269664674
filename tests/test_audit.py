"""The audit log (SPEC §13.5): an append-only, HMAC-chained table. Who did what to which object,
when (+07:00) and from where; ``verify`` and ``portal audit-verify`` name the first broken row
after an edit, a deletion, a reordering or a truncated tail.

Tampering tests first lift the append-only triggers inside the test's own transaction; DDL is
transactional on SQLite and PostgreSQL, so the per-test rollback puts them back (the trigger
tests below would notice if it did not).
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from portal import audit
from portal.audit import AuditEntry, AuditHead
from tests.conftest import PASSWORD

KEY = "test-audit-key"  # tests/conftest.py's AUDIT_KEY
ISO_VN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+07:00")


def _head(db: Session) -> AuditHead:
    return db.execute(select(AuditHead).execution_options(populate_existing=True)).scalar_one()


def _rows(db: Session) -> list[AuditEntry]:
    return list(db.execute(select(AuditEntry).order_by(AuditEntry.seq)
                           .execution_options(populate_existing=True)).scalars())


def _latest(db: Session, action: str) -> AuditEntry:
    return db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc())
                      .limit(1).execution_options(populate_existing=True)).scalar_one()


def _dialect(db: Session) -> str:
    return db.get_bind().dialect.name


def allow_tampering(db: Session) -> None:
    """What a DBA with full rights could do first: switch the append-only guard off."""
    if _dialect(db) == "postgresql":
        db.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        db.execute(text("DROP TRIGGER audit_log_no_update"))
        db.execute(text("DROP TRIGGER audit_log_no_delete"))


def _set(db: Session, at: int, /, **values: object) -> None:
    db.execute(update(AuditEntry).where(AuditEntry.seq == at).values(**values)
               .execution_options(synchronize_session=False))


def _delete(db: Session, *seqs: int) -> None:
    db.execute(text("DELETE FROM audit_log WHERE seq = :seq"), [{"seq": s} for s in seqs])


@pytest.fixture
def chain(app: Flask, db: Session) -> list[AuditEntry]:
    """Six rows appended to whatever the chain already holds, committed (to the test savepoint) and
    detached: the tests keep what was written, and verify reads what the database holds now, as a
    separate ``flask portal audit-verify`` process would."""
    entries = [audit.record(None, f"test.step_{i}", object_type="test", object_id=i, actor_name="Người kiểm thử",
                            details={"bước": i, "ghi_chú": "Ủy ban nhân dân"}) for i in range(1, 7)]
    db.commit()
    db.expunge_all()
    return entries


def _cli(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["portal", *args])


# --- what is recorded ------------------------------------------------------------------------------

def test_records_form_a_chain_with_consecutive_numbers(db):
    head = _head(db)
    start_seq, start_hash = head.last_seq, head.last_hash
    entries = [audit.record(None, "test.append", object_type="test", object_id=i) for i in range(4)]

    assert [e.seq for e in entries] == list(range(start_seq + 1, start_seq + 5))
    assert entries[0].prev_hash == start_hash
    for previous, current in itertools.pairwise(entries):
        assert current.prev_hash == previous.hash
    assert len({e.hash for e in entries}) == 4
    head = _head(db)
    assert (head.last_seq, head.last_hash) == (entries[-1].seq, entries[-1].hash)
    if start_seq == 0:
        assert entries[0].seq == 1
        assert entries[0].prev_hash == audit.GENESIS


def test_each_hash_covers_the_previous_hash_and_every_field(db):
    """Change any one recorded fact, or the link, and the keyed hash no longer fits."""
    entry = audit.record(None, "test.fields", object_type="test", object_id=7, actor_name="Trần Thị Lan",
                         organisation_id=None, details={"số": 1})
    assert entry.hash == audit._mac(KEY, entry.prev_hash, audit._canonical(entry))
    assert audit._mac(KEY, "1" * 64, audit._canonical(entry)) != entry.hash
    changes = {"seq": entry.seq + 1, "occurred_at": entry.occurred_at + timedelta(microseconds=1),
               "actor_id": 99, "actor_name": "Kẻ gian", "organisation_id": 5, "action": "test.other",
               "object_type": "other", "object_id": "8", "ip": "10.0.0.1", "user_agent": "curl/8",
               "details": '{"số": 2}'}
    columns = {c.key for c in AuditEntry.__table__.columns} - {"id", "prev_hash", "hash"}
    assert set(changes) == columns
    for field, value in changes.items():
        copy = AuditEntry(**{c: getattr(entry, c) for c in columns | {"prev_hash"}})
        setattr(copy, field, value)
        assert audit._mac(KEY, entry.prev_hash, audit._canonical(copy)) != entry.hash, field


def test_who_what_and_which_object_are_recorded(db, factory):
    person = factory.person(full_name="Lê Văn Hùng")
    org = factory.organisation()
    entry = audit.record(person, "test.touch", org, organisation_id=org.id, details={"lý_do": "kiểm tra"})
    assert (entry.actor_id, entry.actor_name) == (person.id, "Lê Văn Hùng")
    assert (entry.object_type, entry.object_id) == ("organisations", str(org.id))
    assert entry.organisation_id == org.id
    assert entry.details_dict == {"lý_do": "kiểm tra"}
    assert (entry.ip, entry.user_agent) == (None, None)  # no request: a CLI or a job


def test_a_failed_sign_in_records_address_and_browser(client, db):
    resp = client.post("/auth/login", data={"username": "khong-ton-tai", "password": "mat-khau-sai"},
                       headers={"User-Agent": "PortalTest/1.0 (Kiem thu)"}, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert resp.status_code == 422
    entry = _latest(db, "auth.sign_in_failed")
    assert entry.ip == "203.0.113.9"
    assert entry.user_agent == "PortalTest/1.0 (Kiem thu)"
    assert entry.actor_id is None
    assert entry.actor_name == "khong-ton-tai"
    assert "mat-khau-sai" not in entry.details
    assert audit.verify(db, KEY).ok


def test_a_sign_in_records_the_person_the_address_and_a_truncated_browser(client, db, factory):
    person = factory.person()
    agent = "Mozilla/5.0 " + "x" * 400
    resp = client.post("/auth/login", data={"username": person.username, "password": PASSWORD},
                       headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": "2001:db8::7"})
    assert resp.status_code == 303
    entry = _latest(db, "auth.sign_in")
    assert entry.actor_id == person.id
    assert (entry.object_type, entry.object_id) == ("users", str(person.id))
    assert entry.ip == "2001:db8::7"
    assert entry.user_agent == agent[:300]
    assert PASSWORD not in entry.details
    assert audit.verify(db, KEY).ok


# --- when ------------------------------------------------------------------------------------------

def test_occurred_at_is_shown_in_iso_8601_with_the_vietnam_offset(db):
    before = datetime.now(UTC)
    entry = audit.record(None, "test.time")
    after = datetime.now(UTC)
    assert before <= entry.occurred_at <= after
    shown = audit.iso_local_precise(entry.occurred_at)
    assert ISO_VN.fullmatch(shown)
    assert datetime.fromisoformat(shown) == entry.occurred_at

    db.commit()
    db.expire_all()
    reloaded = db.get(AuditEntry, entry.id)
    assert audit.iso_local_precise(reloaded.occurred_at) == shown  # the chained text survives the database


def test_iso_local_precise_crosses_midnight_into_the_vietnamese_day():
    assert audit.iso_local_precise(datetime(2026, 12, 31, 17, 30, 0, 5, tzinfo=UTC)) == \
        "2027-01-01T00:30:00.000005+07:00"
    with pytest.raises(ValueError, match="múi giờ"):
        audit.iso_local_precise(datetime(2026, 1, 1))  # noqa: DTZ001 -- a naive value is what must be refused


def test_changing_the_display_time_zone_does_not_break_the_chain(app, db, chain, monkeypatch):
    """The chained timestamp is fixed to +07:00: a TIMEZONE setting must not turn every old row
    into "tampered"."""
    monkeypatch.setitem(app.config, "TIMEZONE", "UTC")
    assert audit.iso_local_precise(chain[0].occurred_at).endswith("+07:00")
    assert audit.verify(db, KEY).ok


# --- verify ----------------------------------------------------------------------------------------

def test_an_intact_chain_verifies(app, db, chain):
    result = audit.verify(db, KEY)
    assert result.ok
    assert result.broken_seq is None
    assert result.checked == chain[-1].seq == _head(db).last_seq
    assert result.message() == f"Nhật ký kiểm tra toàn vẹn: {result.checked} bản ghi, chuỗi băm hợp lệ."


def test_the_cli_accepts_an_intact_chain(app, db, chain):
    result = _cli(app, "audit-verify")
    assert result.exit_code == 0, result.output
    assert f"{chain[-1].seq} bản ghi, chuỗi băm hợp lệ" in result.output


@pytest.mark.parametrize(("field", "value"), [
    ("details", '{"bước": 99, "ghi_chú": "Ủy ban nhân dân"}'),
    ("actor_name", "Kẻ gian"),
    ("action", "test.nothing_happened"),
    ("object_id", "999"),
    ("ip", "10.0.0.66"),
    ("user_agent", "curl/8.0"),
    ("hash", "f" * 64),
])
def test_an_edited_row_is_reported(app, db, chain, field, value):
    allow_tampering(db)
    target = chain[2].seq
    _set(db, target, **{field: value})

    result = audit.verify(db, KEY)

    assert not result.ok
    assert result.broken_seq == target
    assert result.reason == "nội dung bản ghi đã bị sửa."
    assert result.checked == target - 1
    assert result.message().startswith(f"Nhật ký bị thay đổi tại bản ghi số {target}: ")


def test_a_shifted_timestamp_is_reported(app, db, chain):
    allow_tampering(db)
    target = chain[3]
    _set(db, target.seq, occurred_at=target.occurred_at - timedelta(hours=1))
    result = audit.verify(db, KEY)
    assert (result.ok, result.broken_seq) == (False, target.seq)


def test_an_edited_link_is_reported(app, db, chain):
    allow_tampering(db)
    _set(db, chain[2].seq, prev_hash="0" * 64)
    result = audit.verify(db, KEY)
    assert (result.ok, result.broken_seq) == (False, chain[2].seq)
    assert "liên kết tới bản ghi trước không khớp" in result.reason


def test_details_that_are_no_longer_json_are_reported_not_crashed_on(app, db, chain):
    allow_tampering(db)
    _set(db, chain[1].seq, details="đã xóa")
    result = audit.verify(db, KEY)
    assert (result.ok, result.broken_seq, result.reason) == (False, chain[1].seq, "nội dung bản ghi đã bị sửa.")


def test_an_edit_made_in_the_same_session_is_still_seen(app, db):
    """Rows written in this transaction sit in the session's identity map; verify must read the
    database, not those copies (an admin page could record and verify in one request)."""
    entries = [audit.record(None, "test.cached", actor_name="Người kiểm thử") for _ in range(3)]
    assert audit.verify(db, KEY).ok
    allow_tampering(db)
    db.execute(text("UPDATE audit_log SET actor_name = 'Kẻ gian' WHERE seq = :seq"), {"seq": entries[1].seq})
    assert entries[1].actor_name == "Người kiểm thử"  # the session's copy still shows the old value
    result = audit.verify(db, KEY)
    assert (result.ok, result.broken_seq) == (False, entries[1].seq)


def test_a_deleted_middle_row_is_reported(app, db, chain):
    allow_tampering(db)
    gone = chain[2].seq
    _delete(db, gone)
    result = audit.verify(db, KEY)
    assert (result.ok, result.broken_seq) == (False, gone)
    assert result.reason == f"thiếu bản ghi số {gone} (bị xóa hoặc đổi thứ tự)."


def test_a_deleted_row_with_the_numbers_closed_up_is_reported(app, db, chain):
    allow_tampering(db)
    gone = chain[2].seq
    _delete(db, gone)
    for entry in chain[3:]:
        _set(db, entry.seq, seq=entry.seq - 1)
    db.execute(update(AuditHead).values(last_seq=AuditHead.last_seq - 1))
    result = audit.verify(db, KEY)
    assert (result.ok, result.broken_seq) == (False, gone)
    assert "liên kết tới bản ghi trước không khớp" in result.reason


def test_two_rows_swapped_by_number_are_reported(app, db, chain):
    allow_tampering(db)
    a, b = chain[1].seq, chain[2].seq
    _set(db, a, seq=-1)
    _set(db, b, seq=a)
    _set(db, -1, seq=b)
    result = audit.verify(db, KEY)
    assert (result.ok, result.broken_seq) == (False, a)
    assert "đổi thứ tự" in result.reason


def test_two_rows_swapped_by_content_are_reported(app, db, chain):
    """Keep the numbers and ids, exchange everything else (hashes included)."""
    allow_tampering(db)
    first, second = chain[3], chain[4]
    fields = ["occurred_at", "actor_name", "action", "object_id", "details", "prev_hash", "hash"]
    values = {e.seq: {f: getattr(e, f) for f in fields} for e in (first, second)}
    _set(db, first.seq, **values[second.seq])
    _set(db, second.seq, **values[first.seq])
    result = audit.verify(db, KEY)
    assert (result.ok, result.broken_seq) == (False, first.seq)


def test_a_truncated_tail_is_reported(app, db, chain):
    allow_tampering(db)
    _delete(db, chain[-1].seq, chain[-2].seq)
    result = audit.verify(db, KEY)
    assert not result.ok
    assert result.broken_seq == chain[-2].seq
    assert result.checked == chain[-3].seq
    assert "các bản ghi cuối đã bị xóa" in result.reason


def test_a_missing_head_row_is_reported(app, db, chain):
    db.execute(text("DELETE FROM audit_head"))
    result = audit.verify(db, KEY)
    assert not result.ok
    assert "audit_head" in result.reason


def test_the_cli_names_the_first_broken_row_and_fails(app, db, chain):
    allow_tampering(db)
    _set(db, chain[1].seq, details='{"bước": 0}')
    _set(db, chain[4].seq, details='{"bước": 0}')
    result = _cli(app, "audit-verify")
    assert result.exit_code == 1
    assert f"Nhật ký bị thay đổi tại bản ghi số {chain[1].seq}: nội dung bản ghi đã bị sửa." in result.output
    assert f"bản ghi số {chain[4].seq}" not in result.output


def test_the_cli_reports_a_deleted_row(app, db, chain):
    allow_tampering(db)
    _delete(db, chain[3].seq)
    result = _cli(app, "audit-verify")
    assert result.exit_code == 1
    assert f"bản ghi số {chain[3].seq}: thiếu bản ghi số {chain[3].seq}" in result.output


# --- the key ---------------------------------------------------------------------------------------

def test_a_different_key_does_not_verify(app, db, chain, monkeypatch):
    first = _rows(db)[0].seq
    result = audit.verify(db, "khóa-khác")
    assert (result.ok, result.broken_seq) == (False, first)
    monkeypatch.setitem(app.config, "AUDIT_KEY", "khóa-khác")
    assert _cli(app, "audit-verify").exit_code == 1


def test_a_chain_recomputed_without_the_key_is_detected(app, db, chain):
    """Whoever edits a row and rebuilds every later hash, head included, but with a guessed key,
    leaves a chain whose links all fit; only the keyed hash gives the forgery away."""
    allow_tampering(db)
    forged_key = "đoán-khóa"
    target = chain[2]
    _set(db, target.seq, details='{"bước": 3, "ghi_chú": "đã sửa"}')
    prev = target.prev_hash
    for entry in [e for e in _rows(db) if e.seq >= target.seq]:
        new_hash = audit._mac(forged_key, prev, audit._canonical(entry))
        _set(db, entry.seq, prev_hash=prev, hash=new_hash)
        prev = new_hash
    db.execute(update(AuditHead).values(last_hash=prev))

    result = audit.verify(db, KEY)

    assert (result.ok, result.broken_seq) == (False, target.seq)
    assert result.reason == "nội dung bản ghi đã bị sửa."  # the links fit: the forgery is well made
    assert _cli(app, "audit-verify").exit_code == 1


# --- the database refuses changes ------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET details = '{}' WHERE seq = :seq",
    "UPDATE audit_log SET hash = prev_hash WHERE seq = :seq",
    "DELETE FROM audit_log WHERE seq = :seq",
])
def test_the_database_refuses_updates_and_deletes(app, db, chain, statement):
    target = chain[1]
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement), {"seq": target.seq})
    assert _rows(db)[target.seq - _rows(db)[0].seq].details == target.details
    assert audit.verify(db, KEY).ok  # the test's transaction survived the refusal


def test_the_database_refuses_truncate(app, db, chain):
    if _dialect(db) != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE without WHERE is covered above")
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("TRUNCATE audit_log"))
    assert audit.verify(db, KEY).ok


def test_a_delete_of_every_row_is_refused(app, db, chain):
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("DELETE FROM audit_log"))
    assert len(_rows(db)) == _head(db).last_seq
