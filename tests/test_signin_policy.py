"""Issue 3 on local accounts: lockout, identical answers, throttling, break-glass, sessions with
idle and absolute limits, forced and expired password changes, notices, CSRF on every POST."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select, update

from portal import create_app, migrate
from portal.audit import AuditEntry
from portal.auth import passwords
from portal.auth.models import AuthFailure, AuthSession, PasswordHistory, Role, UserStatus
from portal.auth.services import BAD_CREDENTIALS
from portal.db import session as db_session
from portal.db import utcnow
from tests.conftest import PASSWORD, TEST_SETTINGS

HX = {"HX-Request": "true"}
NEW_PASSWORD = "Trăng-Sáng#Sông7Hồng"


def _audit(db, action: str) -> list[AuditEntry]:
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def _post_login(client, username: str, password: str, **kw):
    return client.post("/auth/login", data={"username": username, "password": password}, **kw)


def _open_session(db, user) -> AuthSession:
    return db.execute(select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
                      ).scalar_one()


# --- lockout --------------------------------------------------------------------------------------

def test_five_failures_lock_and_the_right_password_is_then_refused(client, db, factory):
    person = factory.person()
    for _ in range(4):
        assert _post_login(client, person.username, "Sai-Mật-Khẩu1!").status_code == 422
    db.refresh(person)
    assert person.status == UserStatus.ACTIVE
    resp = _post_login(client, person.username, "Sai-Mật-Khẩu1!")
    assert resp.status_code == 422
    db.refresh(person)
    assert person.status == UserStatus.LOCKED
    assert person.locked_until is not None
    assert timedelta(minutes=29) < person.locked_until - utcnow() <= timedelta(minutes=30)
    locked = _audit(db, "auth.locked")
    assert locked
    assert locked[-1].object_id == str(person.id)
    # the right password no longer opens it, and the answer gives nothing away
    resp = _post_login(client, person.username, PASSWORD)
    assert resp.status_code == 422
    assert BAD_CREDENTIALS in resp.get_data(as_text=True)
    assert client.get("/").status_code in (302, 303)


def test_failures_outside_the_window_do_not_count(client, db, factory):
    person = factory.person()
    for _ in range(4):
        _post_login(client, person.username, "Sai-Mật-Khẩu1!")
    db.execute(update(AuthFailure).where(AuthFailure.user_id == person.id)
               .values(at=utcnow() - timedelta(minutes=16)))
    _post_login(client, person.username, "Sai-Mật-Khẩu1!")
    db.refresh(person)
    assert person.status == UserStatus.ACTIVE


def test_success_clears_the_failure_count(client, db, factory, login):
    person = factory.person()
    for _ in range(4):
        _post_login(client, person.username, "Sai-Mật-Khẩu1!")
    login(person)
    assert db.execute(select(func.count()).select_from(AuthFailure).where(AuthFailure.user_id == person.id)
                      ).scalar_one() == 0


def test_lockout_lifts_by_itself_when_its_time_is_up(client, db, factory):
    person = factory.person()
    for _ in range(5):
        _post_login(client, person.username, "Sai-Mật-Khẩu1!")
    db.refresh(person)
    assert person.status == UserStatus.LOCKED
    person.locked_until = utcnow() - timedelta(seconds=1)
    db.flush()
    assert _post_login(client, person.username, PASSWORD).status_code == 303
    db.refresh(person)
    assert person.status == UserStatus.ACTIVE
    assert _audit(db, "auth.lockout_expired")


def test_it_lock_without_end_is_not_lifted_by_time(client, db, factory):
    person = factory.person()
    person.status = UserStatus.LOCKED
    person.locked_until = None
    db.flush()
    assert _post_login(client, person.username, PASSWORD).status_code == 422


def test_lockout_settings_are_configurable(app, client, db, factory, monkeypatch):
    monkeypatch.setitem(app.config, "LOCKOUT_ATTEMPTS", 2)
    monkeypatch.setitem(app.config, "LOCKOUT_MINUTES", 0)  # until IT unlocks
    person = factory.person()
    _post_login(client, person.username, "Sai-Mật-Khẩu1!")
    _post_login(client, person.username, "Sai-Mật-Khẩu1!")
    db.refresh(person)
    assert person.status == UserStatus.LOCKED
    assert person.locked_until is None


def test_lockout_ends_open_sessions(app, client, db, factory, login):
    person = factory.person()
    login(person)
    attacker = app.test_client()
    for _ in range(5):
        _post_login(attacker, person.username, "Sai-Mật-Khẩu1!")
    assert client.get("/").status_code in (302, 303)


def test_unknown_user_and_wrong_password_answer_identically(client, factory):
    person = factory.person()
    wrong = _post_login(client, person.username, "Sai-Mật-Khẩu1!")
    unknown = _post_login(client, "khongcoai", "Sai-Mật-Khẩu1!")
    locked_person = factory.person()
    locked_person.status = UserStatus.LOCKED
    locked = _post_login(client, locked_person.username, PASSWORD)

    def scrub(resp):
        body = resp.get_data(as_text=True)
        body = re.sub(r'value="[^"]*"', 'value=""', body)  # the typed username is echoed back
        return resp.status_code, body

    assert scrub(wrong) == scrub(unknown) == scrub(locked)
    assert BAD_CREDENTIALS in wrong.get_data(as_text=True)


def test_every_failure_is_audited_with_address_and_browser(client, db, factory):
    person = factory.person()
    _post_login(client, person.username, "Sai-Mật-Khẩu1!", headers={"User-Agent": "TrinhDuyet/1.0"},
                environ_base={"REMOTE_ADDR": "10.1.2.3"})
    entry = _audit(db, "auth.sign_in_failed")[-1]
    assert entry.ip == "10.1.2.3"
    assert entry.user_agent == "TrinhDuyet/1.0"
    assert entry.details_dict["reason"] == "bad_credentials"
    assert "Sai-Mật-Khẩu1!" not in entry.details


@pytest.mark.parametrize("username", ["*)(uid=*", "admin*", "a b", "nguyễn", "huong.nt)(|(uid=*"])
def test_malformed_usernames_are_refused_like_any_failure(client, db, username):
    resp = _post_login(client, username, "Sai-Mật-Khẩu1!")
    assert resp.status_code == 422
    assert BAD_CREDENTIALS in resp.get_data(as_text=True)


# --- throttling per client address -------------------------------------------------------------------

def test_failed_attempts_per_address_are_throttled(app, fresh_database_url, tmp_path):
    # a database of its own: this app commits its failed sign-ins, which other tests must not see
    database_url = fresh_database_url()
    migrate.upgrade(database_url)
    limited = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "STORAGE_DIR": str(tmp_path),
                          "RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute"})
    try:
        c = limited.test_client()
        codes = [_post_login(c, f"khongco{i}", "Sai-Mật-Khẩu1!", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code
                 for i in range(4)]
        assert codes == [422, 422, 422, 429]
        resp = _post_login(c, "khongco", "Sai-Mật-Khẩu1!", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert resp.status_code == 429
        assert "quá nhiều lần" in resp.get_data(as_text=True)
        # another address is not affected
        assert _post_login(c, "khongco", "x", environ_base={"REMOTE_ADDR": "10.9.9.10"}).status_code == 422
        # the sign-in page itself stays reachable
        assert c.get("/auth/login", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
    finally:
        limited.extensions["engine"].dispose()
        db_session.remove()
        db_session.configure(bind=app.extensions["engine"])


# --- break-glass ------------------------------------------------------------------------------------

def test_break_glass_account_signs_in_and_every_use_is_audited(app, client, db, factory, monkeypatch):
    person = factory.person(Role.SYSTEM_ADMIN, username="khancap.tinh")
    monkeypatch.setitem(app.config, "BREAK_GLASS_USERNAME", "khancap.tinh")
    # the directory is configured but down: the local emergency account still gets in
    for key, value in {"LDAP_URL": "ldap://127.0.0.1:9", "LDAP_USER_BASE": "ou=people,dc=hanam,dc=gov,dc=vn",
                       "LDAP_BIND_DN": "cn=portal-svc,dc=hanam,dc=gov,dc=vn", "LDAP_BIND_PASSWORD": "x",
                       "LDAP_TIMEOUT": 1}.items():
        monkeypatch.setitem(app.config, key, value)
    assert _post_login(client, person.username, PASSWORD).status_code == 303
    uses = _audit(db, "auth.break_glass")
    assert len(uses) == 1
    assert uses[0].actor_id == person.id
    sign_in = _audit(db, "auth.sign_in")[-1]
    assert sign_in.details_dict["break_glass"] is True


def test_ordinary_sign_in_is_not_marked_break_glass(app, client, db, factory, monkeypatch):
    monkeypatch.setitem(app.config, "BREAK_GLASS_USERNAME", "khancap.tinh")
    person = factory.person()
    assert _post_login(client, person.username, PASSWORD).status_code == 303
    assert _audit(db, "auth.break_glass") == []


# --- sessions -----------------------------------------------------------------------------------------

def test_sign_in_gets_a_new_session_each_time(app, client, db, factory, login):
    person = factory.person()
    login(person)
    first = _open_session(db, person).id
    client.post("/auth/logout")
    login(person)
    second = _open_session(db, person).id
    assert first != second


def test_idle_session_expires(client, db, factory, login):
    person = factory.person()
    login(person)
    row = _open_session(db, person)
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db.flush()
    resp = client.get("/")
    assert resp.status_code in (302, 303)
    assert resp.headers["Location"].startswith("/auth/login")
    db.refresh(row)
    assert row.end_reason == "idle_timeout"


def test_idle_session_expiry_gives_htmx_a_redirect(client, db, factory, login):
    person = factory.person()
    login(person)
    row = _open_session(db, person)
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db.flush()
    resp = client.get("/", headers=HX)
    assert resp.status_code == 200
    assert resp.headers["HX-Redirect"].startswith("/auth/login")


def test_admin_pages_have_a_shorter_idle_limit(client, db, factory, login):
    person = factory.person(Role.SYSTEM_ADMIN)
    login(person)
    row = _open_session(db, person)
    row.last_seen_at = utcnow() - timedelta(minutes=20)
    db.flush()
    assert client.get("/quan-tri/nguoi-dung").status_code in (302, 303)
    # twenty idle minutes are fine on ordinary pages
    login(person)
    row = _open_session(db, person)
    row.last_seen_at = utcnow() - timedelta(minutes=20)
    db.flush()
    assert client.get("/").status_code == 200


def test_activity_keeps_the_session_but_background_polling_does_not(client, db, factory, login):
    person = factory.person()
    login(person)
    row = _open_session(db, person)
    row.last_seen_at = utcnow() - timedelta(minutes=10)
    db.flush()
    client.get("/", headers={"X-Portal-Background": "1"})
    db.refresh(row)
    assert utcnow() - row.last_seen_at > timedelta(minutes=9)
    client.get("/")
    db.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_absolute_limit_ends_even_an_active_session(client, db, factory, login):
    person = factory.person()
    login(person)
    row = _open_session(db, person)
    row.created_at = utcnow() - timedelta(hours=10, minutes=1)
    row.last_seen_at = utcnow()
    db.flush()
    assert client.get("/").status_code in (302, 303)
    db.refresh(row)
    assert row.end_reason == "absolute_timeout"


def test_keepalive_extends_the_session(client, db, factory, login):
    person = factory.person()
    login(person)
    row = _open_session(db, person)
    row.last_seen_at = utcnow() - timedelta(minutes=28)
    db.flush()
    assert client.post("/auth/keepalive").status_code == 204
    db.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_pages_carry_the_idle_warning(client, factory, login):
    login(factory.person())
    body = client.get("/").get_data(as_text=True)
    assert 'data-idle-seconds="1800"' in body
    assert "/static/js/session.js" in body


@pytest.mark.parametrize("status", [UserStatus.LOCKED, UserStatus.DISABLED])
def test_locked_or_disabled_person_loses_the_open_session_at_once(client, db, factory, login, status):
    person = factory.person()
    login(person)
    assert client.get("/").status_code == 200
    person.status = status
    db.flush()
    assert client.get("/", headers=HX).headers["HX-Redirect"].startswith("/auth/login")


def test_cookie_flags_over_https(app, database_url, tmp_path):
    secure = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "STORAGE_DIR": str(tmp_path),
                         "SESSION_COOKIE_SECURE": True})
    try:
        resp = secure.test_client().get("/auth/login", base_url="https://localhost")
        cookie = resp.headers["Set-Cookie"]
        assert cookie.startswith("__Host-qlvb=")
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Path=/" in cookie
        assert "Domain" not in cookie
    finally:
        secure.extensions["engine"].dispose()
        db_session.remove()
        db_session.configure(bind=app.extensions["engine"])


def test_session_cookie_is_httponly_and_lax(client, factory):
    person = factory.person()
    resp = _post_login(client, person.username, PASSWORD)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires" not in cookie  # no "remember me"


# --- password change, expiry, first sign-in -------------------------------------------------------------

def _change(client, current, new, confirm=None):
    return client.post("/auth/mat-khau", data={"current_password": current, "new_password": new,
                                               "confirm": confirm if confirm is not None else new})


def test_change_password_changes_the_hash_and_ends_other_sessions(app, client, db, factory, login):
    person = factory.person()
    other = app.test_client()
    login(person, c=other)
    login(person)
    old_hash = person.password_hash
    resp = _change(client, PASSWORD, NEW_PASSWORD)
    assert resp.status_code == 303
    db.refresh(person)
    assert passwords.verify(person.password_hash, NEW_PASSWORD)
    assert other.get("/").status_code in (302, 303)  # the other browser is out
    assert client.get("/").status_code == 200  # this one got a fresh session
    history = db.execute(select(PasswordHistory.password_hash).where(PasswordHistory.user_id == person.id)
                         ).scalars().all()
    assert old_hash in history
    assert _audit(db, "auth.password_change")[-1].object_id == str(person.id)


def test_change_password_needs_the_current_one(client, db, factory, login):
    person = factory.person()
    login(person)
    resp = _change(client, "Sai-Mật-Khẩu1!", NEW_PASSWORD)
    assert resp.status_code == 422
    assert "Mật khẩu hiện tại không đúng" in resp.get_data(as_text=True)
    db.refresh(person)
    assert passwords.verify(person.password_hash, PASSWORD)


@pytest.mark.parametrize(("new", "fragment"), [
    ("Ab1!", "ít nhất 8 ký tự"),
    ("abcdefgh12", "chữ hoa"),
    ("Abc@1234", "dễ đoán"),
])
def test_weak_new_password_is_refused_with_the_rule(client, db, factory, login, new, fragment):
    person = factory.person()
    login(person)
    resp = _change(client, PASSWORD, new)
    assert resp.status_code == 422
    assert fragment in resp.get_data(as_text=True)
    db.refresh(person)
    assert passwords.verify(person.password_hash, PASSWORD)


def test_confirmation_must_match(client, factory, login):
    login(factory.person())
    resp = _change(client, PASSWORD, NEW_PASSWORD, "Khác-Hẳn#2026abc")
    assert resp.status_code == 422
    assert "không khớp" in resp.get_data(as_text=True)


def test_earlier_passwords_cannot_come_back(client, db, factory, login):
    person = factory.person()
    login(person)
    assert _change(client, PASSWORD, NEW_PASSWORD).status_code == 303
    resp = _change(client, NEW_PASSWORD, PASSWORD)
    assert resp.status_code == 422
    assert "mật khẩu gần nhất" in resp.get_data(as_text=True)


def test_forced_change_at_first_sign_in_blocks_everything_else(client, db, factory, login):
    person = factory.person()
    person.must_change_password = True
    person.temporary_password_expires_at = utcnow() + timedelta(hours=72)
    db.flush()
    login(person)
    resp = client.get("/")
    assert resp.status_code in (302, 303)
    assert resp.headers["Location"] == "/auth/mat-khau"
    assert client.get("/quan-tri/nguoi-dung", headers=HX).headers["HX-Redirect"] == "/auth/mat-khau"
    page = client.get("/auth/mat-khau").get_data(as_text=True)
    assert "đổi mật khẩu tạm thời" in page
    assert _change(client, PASSWORD, NEW_PASSWORD).status_code == 303
    db.refresh(person)
    assert person.must_change_password is False
    assert person.temporary_password_expires_at is None
    assert client.get("/").status_code == 200


def test_expired_temporary_password_is_refused(client, db, factory):
    person = factory.person()
    person.must_change_password = True
    person.temporary_password_expires_at = utcnow() - timedelta(minutes=1)
    db.flush()
    resp = _post_login(client, person.username, PASSWORD)
    assert resp.status_code == 422
    assert "Mật khẩu tạm thời đã hết hạn" in resp.get_data(as_text=True)


@pytest.mark.parametrize(("roles", "age_days", "forced"), [
    ((Role.OFFICER,), 89, False),
    ((Role.OFFICER,), 91, True),
    ((Role.ORG_ADMIN,), 59, False),
    ((Role.ORG_ADMIN,), 61, True),
])
def test_expiry_forces_a_change(client, db, factory, login, roles, age_days, forced):
    person = factory.person(*roles)
    person.password_changed_at = utcnow() - timedelta(days=age_days)
    db.flush()
    login(person)
    resp = client.get("/")
    if forced:
        assert resp.headers["Location"] == "/auth/mat-khau"
        assert "quá" in client.get("/auth/mat-khau").get_data(as_text=True)
    else:
        assert resp.status_code == 200


def test_warning_in_the_last_seven_days(client, db, factory, login):
    person = factory.person()
    person.password_changed_at = utcnow() - timedelta(days=85)
    db.flush()
    login(person)
    body = client.get("/").get_data(as_text=True)
    assert "Mật khẩu của bạn sẽ hết hạn sau 5 ngày" in body
    person.password_changed_at = utcnow() - timedelta(days=10)
    db.flush()
    assert "sẽ hết hạn" not in client.get("/").get_data(as_text=True)


# --- notices --------------------------------------------------------------------------------------------

def test_notice_is_shown_once_at_the_next_sign_in(client, db, factory):
    person = factory.person()
    person.notice = "Vai trò của bạn đã thay đổi: Văn thư."
    db.flush()
    resp = _post_login(client, person.username, PASSWORD)
    assert resp.status_code == 303
    assert "Vai trò của bạn đã thay đổi" in client.get("/").get_data(as_text=True)
    db.refresh(person)
    assert person.notice is None
    assert "Vai trò của bạn đã thay đổi" not in client.get("/").get_data(as_text=True)


# --- CSRF on every POST ---------------------------------------------------------------------------------

def test_every_post_route_refuses_a_missing_csrf_token(app, client, factory, login, monkeypatch):
    """Walk the URL map: each rule that accepts POST answers 400 without a token, signed in as a
    provincial admin so authorisation does not answer first."""
    login(factory.person(Role.SYSTEM_ADMIN))
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()):
            continue
        values = {arg: 1 for arg in rule.arguments}
        if "username" in rule.arguments:
            values["username"] = "khongco"
        with app.test_request_context():
            url = url_for(rule.endpoint, **values)
        resp = client.post(url, data={"x": "1"})
        assert resp.status_code == 400, (rule.rule, resp.status_code)
        checked += 1
    assert checked >= 4


def test_reporting_a_compromised_account_ends_every_session_and_forces_a_change(app, client, db, factory, login):
    person = factory.person()
    elsewhere = app.test_client()
    login(person, c=elsewhere)
    login(person)
    resp = client.post("/auth/bao-mat-tai-khoan")
    assert resp.status_code == 303
    assert client.get("/").status_code in (302, 303)
    assert elsewhere.get("/").status_code in (302, 303)
    db.refresh(person)
    assert person.must_change_password is True
    assert _audit(db, "auth.compromise_reported")[-1].object_id == str(person.id)
    login(person)
    assert client.get("/").headers["Location"] == "/auth/mat-khau"


def test_the_province_named_by_its_row_is_a_context_word(app, db, factory):
    """No setting names a province (tỉnh Hà Nam is gone since 2025): the word comes from the root row,
    so "Quangtri@2026!" is as guessable in that province as "Ubnd@2026!" is everywhere."""
    from portal.auth import password_change, policy

    root = factory.province()
    root.name = "Ủy ban nhân dân tỉnh Quảng Trị"
    db.flush()
    settings = password_change.checking_settings()
    assert "quangtri" in settings.context_words
    assert "hanam" not in settings.context_words
    assert policy.is_word_and_number("Quangtri@2026!", settings.context_words)
    assert not policy.is_word_and_number("Quangtri@2026!", policy.PolicySettings().context_words)
    assert policy.MSG_SIMPLE in policy.check("Quangtri@2026!", policy.Context(), settings)
