"""Issue 13 item 4, sign-in that leaks nothing: every failing path does the same work (one argon2
verification; with a directory one search and one bind), one answer for every failure, one answer
for every failure while the directory is down, failed sign-ins per address counted where every
worker sees them, sign-out here or everywhere, the lockout notice, and polling that is not activity."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import argon2
import pytest
from sqlalchemy import func, select

from portal import create_app, migrate
from portal.audit import AuditEntry
from portal.auth import accounts, directory, throttle
from portal.auth.models import AuthFailure, AuthSession, Role, UserSource, UserStatus
from portal.db import session as db_session
from portal.db import utcnow
from portal.registers import jobs
from portal.timeutil import format_datetime
from tests.conftest import PASSWORD, TEST_SETTINGS
from tests.ldap_server import PASSWORD as DIRECTORY_PASSWORD
from tests.ldap_server import closed_port_url

ROOT = Path(__file__).resolve().parent.parent
HX = {"HX-Request": "true"}
WRONG = "Sai-Mật-Khẩu1!"


def _post_login(client, username: str, password: str, **kw):
    return client.post("/auth/login", data={"username": username, "password": password}, **kw)


def _audit(db, action: str) -> list[AuditEntry]:
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def _scrub(resp, username: str) -> tuple[int, str]:
    """The answer without what the person typed (echoed back) and the per-response CSRF token."""
    body = resp.get_data(as_text=True).replace(username, "")
    body = re.sub(r'value="[^"]*"', 'value=""', body)
    return resp.status_code, re.sub(r'"X-CSRFToken": "[^"]*"', "", body)


@pytest.fixture
def directory_on(app, ldap_settings, monkeypatch):
    for key, value in ldap_settings.items():
        monkeypatch.setitem(app.config, key, value)
    return ldap_settings


@pytest.fixture
def directory_down(app, ldap_settings, monkeypatch):
    for key, value in {**ldap_settings, "LDAP_URL": closed_port_url(), "LDAP_START_TLS": False,
                       "LDAP_TIMEOUT": 1}.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def provision(factory, slapd):
    def make(uid: str):
        org = factory.organisation()
        return accounts.create_person(None, accounts.PersonData(
            username=uid, full_name="Người Dùng Cũ", source=UserSource.DIRECTORY, directory_id=slapd.entry_uuid(uid),
            positions=[accounts.PositionData(organisation_id=org.id, title="Cán bộ", roles=[Role.OFFICER])]))

    return make


@pytest.fixture
def work(monkeypatch):
    """Counts of the expensive steps: argon2 verifications, directory searches, directory binds."""
    counts = {"argon2": 0, "search": 0, "bind": 0}

    def counting(name, original):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return original(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting("argon2", argon2.PasswordHasher.verify))
    monkeypatch.setattr(directory, "_find_one", counting("search", directory._find_one))
    monkeypatch.setattr(directory, "_bind_as", counting("bind", directory._bind_as))
    return counts


# --- the same work on every failing path -------------------------------------------------------------

PATHS = ["unknown", "malformed", "local_wrong", "local_locked", "local_disabled", "directory_wrong",
         "directory_locked", "directory_not_provisioned"]


def _attempt(path, factory, provision, db):
    """(username, password, expected status) of one failing path; accounts are made first."""
    if path == "unknown":
        return "khong.co.ai", WRONG, 422
    if path == "malformed":
        return "*)(uid=*", WRONG, 422
    if path.startswith("local"):
        person = factory.person()
        if path != "local_wrong":
            person.status = UserStatus.LOCKED if path == "local_locked" else UserStatus.DISABLED
            db.flush()
        return person.username, WRONG if path == "local_wrong" else PASSWORD, 422
    if path == "directory_not_provisioned":
        return "quan.tv", DIRECTORY_PASSWORD, 403  # the right directory password, no account here
    person = provision("huong.nt")
    if path == "directory_locked":
        person.status = UserStatus.LOCKED
        db.flush()
        return "huong.nt", DIRECTORY_PASSWORD, 422
    return "huong.nt", WRONG, 422


@pytest.mark.parametrize("path", PATHS)
def test_every_failing_path_does_the_same_work_with_a_directory(client, db, factory, provision, directory_on, work,
                                                                  path):
    username, password, status = _attempt(path, factory, provision, db)
    for key in work:
        work[key] = 0
    assert _post_login(client, username, password).status_code == status
    assert work == {"argon2": 1, "search": 1, "bind": 1}


@pytest.mark.parametrize("path", ["unknown", "malformed", "local_wrong", "local_locked", "local_disabled"])
def test_every_failing_path_reaches_the_hash_without_a_directory(client, db, factory, work, path):
    username, password, status = _attempt(path, factory, None, db)
    work["argon2"] = 0
    assert _post_login(client, username, password).status_code == status
    assert work == {"argon2": 1, "search": 0, "bind": 0}


def test_a_locked_directory_account_never_binds_as_itself(client, db, provision, directory_on, monkeypatch):
    person = provision("huong.nt")
    person.status = UserStatus.LOCKED
    db.flush()
    bound: list[str] = []
    original = directory._bind_as
    monkeypatch.setattr(directory, "_bind_as", lambda settings, dn, pw: bound.append(dn) or original(settings, dn, pw))
    assert _post_login(client, "huong.nt", DIRECTORY_PASSWORD).status_code == 422
    assert len(bound) == 1
    assert "huong.nt" not in bound[0]
    assert bound[0].startswith("cn=portal-decoy-")


def test_a_local_success_does_not_wait_for_the_directory(client, factory, directory_down, work):
    person = factory.person()
    assert _post_login(client, person.username, PASSWORD).status_code == 303
    assert work == {"argon2": 1, "search": 0, "bind": 0}


# --- one answer ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("with_directory", [False, True])
def test_every_failure_gets_the_same_status_and_words(request, client, db, factory, with_directory):
    if with_directory:
        request.getfixturevalue("directory_on")
    wrong = factory.person()
    locked, disabled = factory.person(), factory.person()
    locked.status, disabled.status = UserStatus.LOCKED, UserStatus.DISABLED
    db.flush()
    answers = {_scrub(_post_login(client, u, p), u) for u, p in [
        (wrong.username, WRONG), ("khong.co.ai", WRONG), (locked.username, PASSWORD), (disabled.username, PASSWORD)]}
    assert len(answers) == 1
    status, body = answers.pop()
    assert status == 422
    assert "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa" in body


def test_during_an_outage_every_failure_answers_alike_and_local_accounts_still_sign_in(client, db, factory, provision,
                                                                                         directory_down, work):
    wrong, locked = factory.person(), factory.person()
    locked.status = UserStatus.LOCKED
    directory_person = provision("huong.nt")
    db.flush()
    attempts = [("khong.co.ai", WRONG), (wrong.username, WRONG), (locked.username, PASSWORD),
                ("huong.nt", DIRECTORY_PASSWORD), ("huong.nt", WRONG)]
    answers = {_scrub(_post_login(client, u, p), u) for u, p in attempts}
    assert len(answers) == 1
    status, body = answers.pop()
    assert status == 503
    assert ("Không đăng nhập được. Máy chủ danh bạ đang không kết nối được; tài khoản nội bộ vẫn đăng nhập được "
            "nếu nhập đúng.") in body
    assert work["argon2"] == len(attempts)
    # a wrong local password still counts towards the lockout (or an outage would open the
    # break-glass account to guessing); the directory account is charged nothing
    failures = dict(db.execute(select(AuthFailure.user_id, func.count()).group_by(AuthFailure.user_id)).all())
    assert failures.get(wrong.id) == 1
    assert directory_person.id not in failures
    # the local account with the right password gets in
    assert _post_login(client, wrong.username, PASSWORD).status_code == 303


# --- lockout notice -----------------------------------------------------------------------------------

def test_the_locked_person_is_told_at_the_next_sign_in_until_when(client, db, factory):
    person = factory.person()
    for _ in range(5):
        assert _post_login(client, person.username, WRONG).status_code == 422
    db.refresh(person)
    assert person.status == UserStatus.LOCKED
    until = format_datetime(person.locked_until)
    # while locked: the same answer as any failure, nothing more
    resp = _post_login(client, person.username, PASSWORD)
    assert resp.status_code == 422
    assert "đến " + until not in resp.get_data(as_text=True)
    # the lockout's time is up; the next sign-in lands on a page that says what happened
    person.locked_until = utcnow() - timedelta(seconds=1)
    db.flush()
    assert _post_login(client, person.username, PASSWORD).status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "Tài khoản của bạn đã bị tạm khóa" in page
    assert f"đến {until}" in page
    assert "5 lần nhập sai" in page
    assert "Tài khoản của bạn đã bị tạm khóa" not in client.get("/").get_data(as_text=True)  # once


# --- failed sign-ins per address, shared by workers -------------------------------------------------------

@pytest.fixture(scope="module")
def workers_db(fresh_database_url):
    """A database of their own: these apps commit for real, and their rows must not reach the
    other tests' database."""
    url = fresh_database_url()
    migrate.upgrade(url)
    return url


def _worker(database_url, tmp_path, **settings):
    return create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "STORAGE_DIR": str(tmp_path),
                       "RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute; 100 per hour", **settings})


def _two_workers_share_the_count(a, b, address):
    codes = []
    for worker in (a, b, a, b, a):
        resp = _post_login(worker.test_client(), f"khongco{len(codes)}", WRONG, environ_base={"REMOTE_ADDR": address})
        codes.append(resp.status_code)
    assert codes == [422, 422, 422, 429, 429]
    resp = _post_login(b.test_client(), "khongco", WRONG, environ_base={"REMOTE_ADDR": address})
    assert "Đăng nhập sai quá nhiều lần từ máy này" in resp.get_data(as_text=True)
    # another address is not affected
    other = _post_login(a.test_client(), "khongco", WRONG, environ_base={"REMOTE_ADDR": address + "1"})
    assert other.status_code == 422


def _cleanup(app, *workers):
    for worker in workers:
        worker.extensions["engine"].dispose()
    db_session.remove()
    db_session.configure(bind=app.extensions["engine"])


def test_two_workers_share_the_failure_count_in_the_database(app, workers_db, tmp_path, work):
    a, b = _worker(workers_db, tmp_path), _worker(workers_db, tmp_path)
    try:
        _two_workers_share_the_count(a, b, f"10.71.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 25}")
    finally:
        _cleanup(app, a, b)
    assert work["argon2"] == 4  # a refused attempt checks no password


def test_two_workers_share_the_failure_count_in_redis(app, workers_db, tmp_path, monkeypatch):
    redis = pytest.importorskip("redis")
    url, prefix = "redis://127.0.0.1:6379/0", f"qlvb-test-{uuid.uuid4().hex}:"
    try:
        redis.Redis.from_url(url).ping()
    except redis.ConnectionError:
        pytest.skip("Redis không chạy tại 127.0.0.1:6379")
    a, b = _worker(workers_db, tmp_path, REDIS_URL=url, REDIS_PREFIX=prefix), \
        _worker(workers_db, tmp_path, REDIS_URL=url, REDIS_PREFIX=prefix)
    # the count must come from Redis: the database is not asked
    monkeypatch.setattr(throttle, "_database_counts", lambda *a: pytest.fail("đếm trong cơ sở dữ liệu"))
    address = f"10.72.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 25}"
    client = redis.Redis.from_url(url)
    try:
        _two_workers_share_the_count(a, b, address)
        assert client.zcard(f"{prefix}signin-failures:{address}") == 3
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        _cleanup(app, a, b)


def test_redis_down_falls_back_to_the_database(app, workers_db, tmp_path):
    a = _worker(workers_db, tmp_path, REDIS_URL="redis://127.0.0.1:9/0")
    address = f"10.73.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 25}"
    try:
        c = a.test_client()
        codes = [_post_login(c, "khongco", WRONG, environ_base={"REMOTE_ADDR": address}).status_code for _ in range(4)]
    finally:
        _cleanup(app, a)
    assert codes == [422, 422, 422, 429]


@pytest.mark.parametrize(("text", "limits"), [("10 per minute; 100 per hour", [(10, 60), (100, 3600)]),
                                          ("5/second", [(5, 1)]), ("3 per 2 hours", [(3, 7200)])])
def test_the_limit_setting_is_read(text, limits):
    assert [(limit.amount, limit.seconds) for limit in throttle.parse(text)] == limits


def test_a_malformed_limit_stops_start_up_naming_the_key(database_url, tmp_path):
    with pytest.raises(Exception, match="PORTAL_RATELIMIT_LOGIN"):
        create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "STORAGE_DIR": str(tmp_path),
                    "RATELIMIT_LOGIN": "mười lần mỗi phút"})


# --- sign-out here, or everywhere -----------------------------------------------------------------------

def _open_sessions(db, person) -> int:
    return db.execute(select(func.count()).select_from(AuthSession)
                      .where(AuthSession.user_id == person.id, AuthSession.ended_at.is_(None))).scalar_one()


def test_sign_out_ends_only_this_session(app, client, db, factory, login):
    person = factory.person()
    elsewhere = login(person, c=app.test_client())
    login(person)
    assert client.post("/auth/logout").status_code == 303
    assert client.get("/").status_code in (302, 303)
    assert elsewhere.get("/").status_code == 200
    assert _open_sessions(db, person) == 1


def test_sign_out_everywhere_ends_every_session_and_is_audited(app, client, db, factory, login):
    person = factory.person()
    elsewhere = login(person, c=app.test_client())
    login(person)
    page = client.get("/").get_data(as_text=True)
    assert "Đăng xuất khỏi mọi thiết bị" in page
    assert "Đăng xuất khỏi mọi thiết bị" in client.get("/auth/mat-khau").get_data(as_text=True)
    assert client.get("/auth/dang-xuat-moi-thiet-bi").status_code == 405
    resp = client.post("/auth/dang-xuat-moi-thiet-bi", headers=HX)
    assert resp.headers["HX-Redirect"] == "/auth/login"
    assert client.get("/").status_code in (302, 303)
    assert elsewhere.get("/").status_code in (302, 303)
    assert _open_sessions(db, person) == 0
    entry = _audit(db, "auth.sign_out_all")[-1]
    assert entry.actor_id == person.id
    assert entry.details_dict["sessions_ended"] == 2


def test_sign_out_everywhere_needs_the_csrf_token(app, client, factory, login, monkeypatch):
    login(factory.person())
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/auth/dang-xuat-moi-thiet-bi").status_code == 400
    assert client.get("/").status_code == 200


# --- polling is not activity --------------------------------------------------------------------------

def test_every_polling_element_in_the_templates_marks_itself_as_background():
    polling = []
    for path in (ROOT / "templates").rglob("*.html"):
        for tag in re.findall(r"<[^<>]*hx-trigger=\"[^\"]*every [^<>]*>", path.read_text(encoding="utf-8")):
            polling.append(path.name)
            headers = re.search(r"hx-headers='([^']*)'", tag)
            assert headers, f"{path}: {tag}"
            assert json.loads(headers.group(1)).get("X-Portal-Background") == "1", path
    assert polling  # the register job page polls


def test_the_job_page_poll_does_not_extend_the_idle_limit_but_a_visit_does(db, login, office, monkeypatch):
    _org, _unit, people = office
    monkeypatch.setattr(jobs, "SYNC_LIMIT", 0)  # to the queue; in tests (immediate mode) nothing runs it
    client = login(people["clerk"])
    url = client.post("/so-van-ban/", data={"kind": "den", "year": "2026"}).headers["Location"]
    fragment = client.get(url, headers=HX).get_data(as_text=True)
    poll_headers = {**HX, **json.loads(re.search(r"hx-headers='([^']*)'", fragment).group(1))}
    row = db.execute(select(AuthSession).where(AuthSession.user_id == people["clerk"].id,
                                               AuthSession.ended_at.is_(None))).scalar_one()
    idle = utcnow() - timedelta(minutes=29)
    row.last_seen_at = idle
    db.flush()
    for _ in range(3):
        assert client.get(url, headers=poll_headers).status_code == 200
    db.refresh(row)
    assert row.last_seen_at == idle
    # a minute later the session has been idle for 30 minutes, polling or not
    row.last_seen_at = utcnow() - timedelta(minutes=30, seconds=1)
    db.flush()
    assert client.get(url, headers=poll_headers).headers["HX-Redirect"].startswith("/auth/login")
    # whereas a real visit counts as activity
    client = login(people["clerk"])
    row = db.execute(select(AuthSession).where(AuthSession.user_id == people["clerk"].id,
                                               AuthSession.ended_at.is_(None))).scalar_one()
    row.last_seen_at = idle
    db.flush()
    assert client.get(url).status_code == 200
    db.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
