"""Sign-in through the provincial directory, end to end against a real slapd (tests/ldap_server.py):
matching by entryUUID, refreshed details, unprovisioned people, injection, lockout before the
directory, outages that count against nobody, and password changes that reach the directory."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEntry
from portal.auth import accounts, services
from portal.auth.models import AuthFailure, Role, UserSource, UserStatus
from portal.db import utcnow
from tests.ldap_server import PASSWORD, closed_port_url, hanging_server


def fresh_password() -> str:
    """The test directory's ppolicy refuses the last 3 passwords, so each change uses a new one."""
    return f"Trăng-Sáng#{uuid.uuid4().hex[:6]}Hồng"


@pytest.fixture
def directory_on(app, ldap_settings):
    saved = {key: app.config[key] for key in ldap_settings}
    app.config.update(ldap_settings)
    try:
        yield ldap_settings
    finally:
        app.config.update(saved)


@pytest.fixture
def provision(factory, slapd):
    """A local account for a directory person, keyed by their entryUUID."""

    def make(uid: str, *, username: str | None = None, full_name: str = "Người Dùng Cũ", title: str = "Cán bộ",
             directory_id: str | None = None, roles=(Role.OFFICER,)):
        org = factory.organisation()
        return accounts.create_person(None, accounts.PersonData(
            username=username or uid, full_name=full_name, source=UserSource.DIRECTORY,
            directory_id=directory_id or slapd.entry_uuid(uid),
            positions=[accounts.PositionData(organisation_id=org.id, title=title, roles=list(roles))]))

    return make


def _post_login(client, username, password):
    return client.post("/auth/login", data={"username": username, "password": password})


def _audit(db, action):
    return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def _failures(db, user) -> int:
    return db.execute(select(func.count()).select_from(AuthFailure).where(AuthFailure.user_id == user.id)).scalar_one()


def test_directory_person_signs_in_to_their_account_with_fresh_details(client, db, directory_on, provision):
    person = provision("huong.nt")
    resp = _post_login(client, "huong.nt", PASSWORD)
    assert resp.status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "Nguyễn Thị Hương" in page
    db.refresh(person)
    assert person.full_name == "Nguyễn Thị Hương"
    assert person.full_name_folded == "nguyen thi huong"
    assert person.email
    assert person.email.endswith("@hanam.gov.vn")
    assert person.positions[0].title == "Chuyên viên"
    assert _audit(db, "people.directory_refresh")
    assert _audit(db, "auth.sign_in")[-1].details_dict["source"] == "directory"


def test_the_match_is_the_stable_id_not_the_username(client, db, directory_on, provision, slapd):
    # an account here whose username happens to be "thao.pt" but whose entryUUID is someone else's
    impostor = provision("thao.pt", directory_id=str(uuid.uuid4()))
    resp = _post_login(client, "thao.pt", "Mật-Khẩu@2026hn")
    assert resp.status_code == 403
    assert "chưa được cấp quyền" in resp.get_data(as_text=True)
    assert client.get("/").status_code in (302, 303)
    # the same person under another local username is still found by entryUUID
    renamed = provision("dung.lv", username="dung.le")
    assert _post_login(client, "dung.lv", PASSWORD).status_code == 303
    row = _audit(db, "auth.sign_in")[-1]
    assert row.actor_id == renamed.id != impostor.id


def test_unprovisioned_directory_person_is_told_to_contact_it(client, db, directory_on):
    resp = _post_login(client, "quan.tv", PASSWORD)
    assert resp.status_code == 403
    body = resp.get_data(as_text=True)
    assert "Tài khoản chưa được cấp quyền" in body
    assert "liên hệ" in body
    assert _audit(db, "auth.not_provisioned")[-1].details_dict["username"] == "quan.tv"


def test_wrong_directory_password_and_unknown_person_answer_alike(client, directory_on, provision):
    provision("huong.nt")
    wrong = _post_login(client, "huong.nt", "Sai-Mật-Khẩu1!")
    unknown = _post_login(client, "khong.co.ai", "Sai-Mật-Khẩu1!")
    assert wrong.status_code == unknown.status_code == 422
    assert services.BAD_CREDENTIALS in wrong.get_data(as_text=True)
    assert services.BAD_CREDENTIALS in unknown.get_data(as_text=True)


@pytest.mark.parametrize("password", ["", " ", "\t \n"])
def test_empty_password_is_refused_before_any_bind(app, db, password):
    with hanging_server() as hanging:
        settings = {"LDAP_URL": hanging.url, "LDAP_USER_BASE": "ou=people,dc=hanam,dc=gov,dc=vn",
                    "LDAP_BIND_DN": "cn=portal-svc,ou=services,dc=hanam,dc=gov,dc=vn", "LDAP_BIND_PASSWORD": "x",
                    "LDAP_TIMEOUT": 2}
        saved = {key: app.config[key] for key in settings}
        app.config.update(settings)
        try:
            with app.test_request_context(), pytest.raises(services.SignInFailed) as caught:
                services.sign_in("huong.nt", password, services.Client("127.0.0.1", "pytest"))
        finally:
            app.config.update(saved)
        assert not isinstance(caught.value, services.DirectoryDown)
        assert hanging.accepted == 0  # nobody even connected


@pytest.mark.parametrize("username", ["*)(uid=*", "*", "huong.nt)(|(uid=*", "huong.nt*", "*)(|(objectClass=*"])
def test_filter_injection_never_signs_anyone_in(client, db, directory_on, provision, username):
    provision("huong.nt")
    resp = _post_login(client, username, PASSWORD)
    assert resp.status_code == 422
    assert client.get("/").status_code in (302, 303)
    assert _audit(db, "auth.sign_in") == []


def test_five_failures_lock_a_directory_account_before_the_directory_does(client, db, directory_on, provision, slapd):
    person = provision("huong.nt")
    for _ in range(5):
        assert _post_login(client, "huong.nt", "Sai-Mật-Khẩu1!").status_code == 422
    db.refresh(person)
    assert person.status == UserStatus.LOCKED
    resp = _post_login(client, "huong.nt", PASSWORD)
    assert resp.status_code == 422
    assert services.BAD_CREDENTIALS in resp.get_data(as_text=True)
    # the directory itself still accepts the password: the portal locked first
    assert slapd.ldapwhoami("huong.nt", PASSWORD)


@pytest.mark.parametrize("outage", ["stopped", "hanging"])
def test_directory_outage_fails_fast_with_the_message_and_locks_nobody(app, client, db, directory_on, provision,
                                                                       slapd, outage, monkeypatch):
    person = provision("huong.nt")
    with hanging_server() as hanging:
        app.config["LDAP_URL"] = hanging.url if outage == "hanging" else closed_port_url()
        app.config["LDAP_START_TLS"] = False  # loopback: allowed without TLS
        app.config["LDAP_TIMEOUT"] = 1
        monkeypatch.setitem(app.config, "LOCKOUT_ATTEMPTS", 2)
        for _ in range(3):
            started = time.monotonic()
            resp = _post_login(client, "huong.nt", PASSWORD)
            elapsed = time.monotonic() - started
            assert resp.status_code == 503
            assert services.DIRECTORY_DOWN in resp.get_data(as_text=True)
            assert elapsed < 2 * app.config["LDAP_TIMEOUT"] + 1
    db.refresh(person)
    assert person.status == UserStatus.ACTIVE
    assert _failures(db, person) == 0
    assert len(_audit(db, "auth.directory_unavailable")) == 3


def test_stopping_the_real_directory_is_an_outage_too(app, client, db, directory_on, provision, slapd):
    person = provision("huong.nt")
    slapd.stop()
    try:
        resp = _post_login(client, "huong.nt", PASSWORD)
        assert resp.status_code == 503
        assert services.DIRECTORY_DOWN in resp.get_data(as_text=True)
    finally:
        slapd.start()
    assert _post_login(client, "huong.nt", PASSWORD).status_code == 303
    db.refresh(person)
    assert person.status == UserStatus.ACTIVE


def test_directory_password_change_really_changes_it_in_slapd(client, db, directory_on, provision, slapd):
    new_password = fresh_password()
    person = provision("dung.lv")
    try:
        assert _post_login(client, "dung.lv", PASSWORD).status_code == 303
        resp = client.post("/auth/mat-khau", data={"current_password": PASSWORD, "new_password": new_password,
                                                    "confirm": new_password})
        assert resp.status_code == 303, resp.get_data(as_text=True)
        assert slapd.ldapwhoami("dung.lv", new_password)
        assert not slapd.ldapwhoami("dung.lv", PASSWORD)
        db.refresh(person)
        assert person.password_hash is None  # the directory keeps the password, not us
        assert _audit(db, "auth.password_change")[-1].details_dict["source"] == "directory"
        client.post("/auth/logout")
        assert _post_login(client, "dung.lv", new_password).status_code == 303
    finally:
        slapd.set_password("dung.lv", PASSWORD)


def test_directory_password_change_is_checked_by_the_policy_first(client, db, directory_on, provision, slapd):
    provision("dung.lv")
    assert _post_login(client, "dung.lv", PASSWORD).status_code == 303
    resp = client.post("/auth/mat-khau", data={"current_password": PASSWORD, "new_password": "Abc@1234",
                                                "confirm": "Abc@1234"})
    assert resp.status_code == 422
    assert "dễ đoán" in resp.get_data(as_text=True)
    assert slapd.ldapwhoami("dung.lv", PASSWORD)


def test_wrong_current_password_leaves_the_directory_untouched(client, db, directory_on, provision, slapd):
    new_password = fresh_password()
    provision("dung.lv")
    assert _post_login(client, "dung.lv", PASSWORD).status_code == 303
    resp = client.post("/auth/mat-khau", data={"current_password": "Sai-Mật-Khẩu1!", "new_password": new_password,
                                                "confirm": new_password})
    assert resp.status_code == 422
    assert slapd.ldapwhoami("dung.lv", PASSWORD)
    assert not slapd.ldapwhoami("dung.lv", new_password)


def test_provisioned_person_must_change_at_first_sign_in(client, db, directory_on, provision, slapd):
    new_password = fresh_password()
    person = provision("dung.lv")
    person.must_change_password = True
    db.flush()
    try:
        assert _post_login(client, "dung.lv", PASSWORD).status_code == 303
        assert client.get("/").headers["Location"] == "/auth/mat-khau"
        resp = client.post("/auth/mat-khau", data={"current_password": PASSWORD, "new_password": new_password,
                                                    "confirm": new_password})
        assert resp.status_code == 303
        assert client.get("/").status_code == 200
        assert slapd.ldapwhoami("dung.lv", new_password)
    finally:
        slapd.set_password("dung.lv", PASSWORD)


def test_directory_accounts_expire_like_local_ones(client, db, directory_on, provision):
    person = provision("huong.nt")
    person.password_changed_at = utcnow() - timedelta(days=91)
    db.flush()
    assert _post_login(client, "huong.nt", PASSWORD).status_code == 303
    assert client.get("/").headers["Location"] == "/auth/mat-khau"
