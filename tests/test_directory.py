"""portal/auth/directory.py against a real OpenLDAP slapd (tests/ldap_server.py), SPEC §13.4."""

from __future__ import annotations

import logging
import re
import time
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from portal.auth import directory
from portal.auth.directory import (
    DirectoryPerson,
    DirectorySettings,
    DirectoryUnavailable,
    PasswordRejected,
    authenticate,
    change_password,
    check_connection,
    find,
    search,
    user_filter,
)
from portal.config import DEFAULTS
from tests import ldap_fixtures
from tests.ldap_server import (
    AMBIGUOUS_UID,
    PASSWORD,
    PASSWORD_CHANGE_UID,
    PEOPLE_DN,
    SERVICE_PASSWORD,
    THAO_PASSWORD,
    DirectoryServer,
    closed_port_url,
    hanging_server,
)

# the fixtures (tests/conftest.py may offer them too)
slapd = ldap_fixtures.slapd
ldap_settings = ldap_fixtures.ldap_settings

INJECTIONS = ["*)(uid=*", "*", "huong.nt)(|(uid=*", "admin*", "huong.n*", "*)(|(objectClass=*", "huong.nt\x00"]


def elapsed_since(start: float) -> float:
    return time.monotonic() - start


# --- sign-in ---------------------------------------------------------------------------------------

def test_right_password_returns_the_person(slapd: DirectoryServer, ldap_settings: dict[str, Any]) -> None:
    person = authenticate(ldap_settings, "huong.nt", PASSWORD)
    assert person == DirectoryPerson(
        directory_id=slapd.entry_uuid("huong.nt"),
        dn=f"uid=huong.nt,{PEOPLE_DN}",
        username="huong.nt",
        full_name="Nguyễn Thị Hương",
        email="huong.nt@hanam.gov.vn",
        title="Chuyên viên",
        unit="Phòng Tổng hợp",
    )
    assert unicodedata.is_normalized("NFC", person.full_name)
    assert person.directory_id == str(uuid.UUID(person.directory_id))  # canonical, lower case


def test_non_ascii_password(ldap_settings: dict[str, Any]) -> None:
    person = authenticate(ldap_settings, "thao.pt", THAO_PASSWORD)
    assert person is not None
    assert (person.full_name, person.title, person.unit) == ("Phạm Thu Thảo", "Văn thư", "Văn phòng")


def test_person_without_mail_or_title(ldap_settings: dict[str, Any]) -> None:
    person = authenticate(ldap_settings, "anh.nv2", PASSWORD)
    assert person is not None
    assert (person.full_name, person.email, person.title) == ("Nguyễn Văn Anh", None, None)


@pytest.mark.parametrize(("username", "password"), [
    ("huong.nt", "Danh-Ba@2026HN"),
    ("huong.nt", PASSWORD + " "),
    ("huong.nt", THAO_PASSWORD),
    ("khong.co", PASSWORD),
    (AMBIGUOUS_UID, PASSWORD),  # two entries answer: nobody signs in
])
def test_refused_sign_in_returns_none(ldap_settings: dict[str, Any], username: str, password: str) -> None:
    assert authenticate(ldap_settings, username, password) is None


@pytest.mark.parametrize("password", ["", " ", "   \t\n", "\u00a0", "\u3000"])
def test_empty_password_never_reaches_the_network(ldap_settings: dict[str, Any], password: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with hanging_server() as hanging:
        settings = {**ldap_settings, "LDAP_URL": hanging.url}
        start = time.monotonic()
        assert authenticate(settings, "huong.nt", password) is None
        assert elapsed_since(start) < 0.5
        assert hanging.accepted == 0
    # against the real directory, too, and without even building a connection
    monkeypatch.setattr(directory.ldap3, "Connection", None)
    assert authenticate(ldap_settings, "huong.nt", password) is None


@pytest.mark.parametrize("username", ["Huong.NT", "huong nt", "huong.nt\n", "", "a" * 65, "hương", *INJECTIONS])
def test_name_outside_the_allowlist_never_reaches_the_network(ldap_settings: dict[str, Any], username: str) -> None:
    with hanging_server() as hanging:
        settings = {**ldap_settings, "LDAP_URL": hanging.url}
        start = time.monotonic()
        assert authenticate(settings, username, PASSWORD) is None
        assert find(settings, username) is None
        assert elapsed_since(start) < 0.5
        assert hanging.accepted == 0


# --- filter injection ------------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "expected"), [
    ("huong.nt", "(uid=huong.nt)"),
    ("*)(uid=*", r"(uid=\2a\29\28uid=\2a)"),
    ("*", r"(uid=\2a)"),
    ("huong.nt)(|(uid=*", r"(uid=huong.nt\29\28|\28uid=\2a)"),
    ("admin*", r"(uid=admin\2a)"),
    ("a\\b\x00", r"(uid=a\5cb\00)"),
])
def test_filter_escapes_special_characters(ldap_settings: dict[str, Any], username: str, expected: str) -> None:
    assert user_filter(ldap_settings, username) == expected


@pytest.fixture
def no_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let any name through to the directory: only the escaping stands between input and filter."""
    monkeypatch.setattr(directory, "USERNAME", re.compile(r".+", re.DOTALL))


@pytest.mark.usefixtures("no_allowlist")
def test_escaping_holds_without_the_allowlist(ldap_settings: dict[str, Any]) -> None:
    assert find(ldap_settings, "huong.nt") is not None  # the patched path does reach the directory
    for username in INJECTIONS:
        assert find(ldap_settings, username) is None, username
        assert authenticate(ldap_settings, username, PASSWORD) is None, username


# --- transport -------------------------------------------------------------------------------------

def test_ldaps_with_the_right_ca(slapd: DirectoryServer, ldap_settings: dict[str, Any]) -> None:
    settings = {**ldap_settings, "LDAP_URL": slapd.ldaps_url, "LDAP_START_TLS": False}
    assert authenticate(settings, "dung.lv", PASSWORD) is not None


@pytest.mark.parametrize("scheme", ["starttls", "ldaps"])
def test_wrong_ca_is_refused(slapd: DirectoryServer, ldap_settings: dict[str, Any], scheme: str) -> None:
    settings = {**ldap_settings, "LDAP_CA_FILE": str(slapd.wrong_ca_file)}
    if scheme == "ldaps":
        settings.update(LDAP_URL=slapd.ldaps_url, LDAP_START_TLS=False)
    with pytest.raises(DirectoryUnavailable) as caught:
        authenticate(settings, "huong.nt", PASSWORD)
    assert str(caught.value) == directory.UNAVAILABLE_MESSAGE


def test_certificate_name_is_checked(slapd: DirectoryServer, ldap_settings: dict[str, Any]) -> None:
    # the certificate names IP 127.0.0.1 only; "localhost" reaches the same server but does not match
    settings = {**ldap_settings, "LDAP_URL": f"ldap://localhost:{slapd.port}"}
    with pytest.raises(DirectoryUnavailable):
        authenticate(settings, "huong.nt", PASSWORD)


def test_cleartext_on_loopback_works(ldap_settings: dict[str, Any]) -> None:
    assert authenticate({**ldap_settings, "LDAP_START_TLS": False}, "huong.nt", PASSWORD) is not None


def test_stopped_directory_fails_fast(slapd: DirectoryServer, ldap_settings: dict[str, Any]) -> None:
    slapd.stop()
    try:
        start = time.monotonic()
        with pytest.raises(DirectoryUnavailable):
            authenticate(ldap_settings, "huong.nt", PASSWORD)
        with pytest.raises(DirectoryUnavailable):
            check_connection(ldap_settings)
        with pytest.raises(DirectoryUnavailable):
            search(ldap_settings, "Nguyễn")
        assert elapsed_since(start) < 2 * ldap_settings["LDAP_TIMEOUT"] + 1
    finally:
        slapd.start()
    # same port, same data
    assert authenticate(ldap_settings, "huong.nt", PASSWORD) is not None


@pytest.mark.parametrize(("scheme", "timeout"), [("starttls", 2), ("cleartext", 1), ("ldaps", 1)])
def test_silent_server_times_out(ldap_settings: dict[str, Any], scheme: str, timeout: int) -> None:
    with hanging_server() as hanging:
        settings = {**ldap_settings, "LDAP_URL": hanging.url, "LDAP_TIMEOUT": timeout,
                    "LDAP_START_TLS": scheme == "starttls"}
        if scheme == "ldaps":
            settings["LDAP_URL"] = hanging.ldaps_url
        start = time.monotonic()
        with pytest.raises(DirectoryUnavailable):
            authenticate(settings, "huong.nt", PASSWORD)
        elapsed = elapsed_since(start)
        assert hanging.accepted >= 1
    assert timeout * 0.9 <= elapsed < 2 * timeout + 1


def test_replica_pool_skips_a_dead_server(ldap_settings: dict[str, Any]) -> None:
    settings = {**ldap_settings, "LDAP_URL": f"{closed_port_url()} {ldap_settings['LDAP_URL']}"}
    assert authenticate(settings, "huong.nt", PASSWORD) is not None


def test_wrong_service_password_is_an_outage(ldap_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    settings = {**ldap_settings, "LDAP_BIND_PASSWORD": "Sai-Mat-Khau@2026"}
    with caplog.at_level(logging.DEBUG), pytest.raises(DirectoryUnavailable):
        authenticate(settings, "huong.nt", PASSWORD)
    assert any("dịch vụ" in record.getMessage() and record.levelno == logging.ERROR for record in caplog.records)
    assert "Sai-Mat-Khau@2026" not in caplog.text
    assert PASSWORD not in caplog.text


def test_passwords_never_logged(ldap_settings: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        authenticate(ldap_settings, "huong.nt", "Sai-Hoan-Toan@1")
        authenticate(ldap_settings, "huong.nt", PASSWORD)
        with pytest.raises(PasswordRejected):
            change_password(ldap_settings, PASSWORD_CHANGE_UID, "Sai-Hoan-Toan@1", "Khong-Doi@2027")
    for secret in ("Sai-Hoan-Toan@1", PASSWORD, "Khong-Doi@2027", SERVICE_PASSWORD):
        assert secret not in caplog.text


def test_check_connection(ldap_settings: dict[str, Any]) -> None:
    check_connection(ldap_settings)
    with pytest.raises(DirectoryUnavailable):
        check_connection({**ldap_settings, "LDAP_USER_BASE": "ou=khong-co,dc=hanam,dc=gov,dc=vn"})


# --- provisioning look-ups ---------------------------------------------------------------------------

def test_find(slapd: DirectoryServer, ldap_settings: dict[str, Any]) -> None:
    person = find(ldap_settings, "quan.tv")
    assert person is not None
    assert (person.full_name, person.unit, person.directory_id) == (
        "Trần Văn Quân", "Trung tâm Công nghệ thông tin", slapd.entry_uuid("quan.tv"))
    assert find(ldap_settings, "khong.co") is None
    assert find(ldap_settings, AMBIGUOUS_UID) is None


def test_search_by_name_and_by_uid(ldap_settings: dict[str, Any]) -> None:
    found = search(ldap_settings, "Nguyễn Văn")
    assert [person.username for person in found] == ["anh.nv", "anh.nv2", "trung.nv", "trung.nv"]
    assert [person.full_name for person in search(ldap_settings, "nguyễn văn anh")] == ["Nguyễn Văn Anh"] * 2
    assert [person.username for person in search(ldap_settings, "dung")] == ["dung.lv"]
    assert [person.full_name for person in search(ldap_settings, "Thảo")] == ["Phạm Thu Thảo"]
    everyone = search(ldap_settings, "n", limit=50)
    assert len(everyone) >= 6
    assert [person.full_name for person in everyone] == sorted(
        (person.full_name for person in everyone), key=lambda name: directory.fold(name))
    assert all(person.username for person in everyone)  # the service account is not a person
    assert len(search(ldap_settings, "n", limit=3)) == 3


@pytest.mark.parametrize("text", ["", "   ", "*", "**", "(", ")(uid=*", "\\"])
def test_search_escapes_and_ignores_empty_text(ldap_settings: dict[str, Any], text: str) -> None:
    assert search(ldap_settings, text) == []


# --- password change ---------------------------------------------------------------------------------

@pytest.fixture
def changer(slapd: DirectoryServer) -> Iterator[str]:
    """The person reserved for password changes, with the known password before and after."""
    slapd.start()
    slapd.set_password(PASSWORD_CHANGE_UID, PASSWORD)
    yield PASSWORD_CHANGE_UID
    slapd.set_password(PASSWORD_CHANGE_UID, PASSWORD)


def test_change_password(slapd: DirectoryServer, ldap_settings: dict[str, Any], changer: str) -> None:
    new = "Mật-Khẩu-Mới@2027"
    change_password(ldap_settings, changer, PASSWORD, new)
    assert slapd.ldapwhoami(changer, new)
    assert not slapd.ldapwhoami(changer, PASSWORD)
    assert authenticate(ldap_settings, changer, new) is not None
    assert authenticate(ldap_settings, changer, PASSWORD) is None


def test_wrong_old_password(slapd: DirectoryServer, ldap_settings: dict[str, Any], changer: str) -> None:
    with pytest.raises(PasswordRejected) as caught:
        change_password(ldap_settings, changer, "Sai-Mat-Khau@2026", "Mat-Khau-Moi@2027")
    assert str(caught.value) == "Mật khẩu hiện tại không đúng."
    assert caught.value.reason == "wrong_old"
    assert slapd.ldapwhoami(changer, PASSWORD)


@pytest.mark.parametrize(("new", "reason", "words"), [
    ("Ngan@1", "too_short", "quá ngắn"),
    (PASSWORD, "history", "đã dùng gần đây"),
])
def test_directory_policy_refusal(slapd: DirectoryServer, ldap_settings: dict[str, Any], changer: str,
                                  new: str, reason: str, words: str) -> None:
    with pytest.raises(PasswordRejected) as caught:
        change_password(ldap_settings, changer, PASSWORD, new)
    assert caught.value.reason == reason
    assert words in str(caught.value)
    assert slapd.ldapwhoami(changer, PASSWORD)


def test_recent_password_is_refused(slapd: DirectoryServer, ldap_settings: dict[str, Any], changer: str) -> None:
    change_password(ldap_settings, changer, PASSWORD, "Lan-Mot@2027hn")
    change_password(ldap_settings, changer, "Lan-Mot@2027hn", "Lan-Hai@2027hn")
    with pytest.raises(PasswordRejected) as caught:
        change_password(ldap_settings, changer, "Lan-Hai@2027hn", "Lan-Mot@2027hn")
    assert caught.value.reason == "history"
    assert slapd.ldapwhoami(changer, "Lan-Hai@2027hn")


@pytest.mark.parametrize(("old", "new", "reason"), [
    (PASSWORD, "", "empty"),
    (PASSWORD, "   ", "empty"),
    ("", "Mat-Khau-Moi@2027", "wrong_old"),
])
def test_empty_passwords_refused_before_the_network(ldap_settings: dict[str, Any], old: str, new: str,
                                                    reason: str) -> None:
    with hanging_server() as hanging:
        with pytest.raises(PasswordRejected) as caught:
            change_password({**ldap_settings, "LDAP_URL": hanging.url}, PASSWORD_CHANGE_UID, old, new)
        assert hanging.accepted == 0
    assert caught.value.reason == reason


def test_change_password_of_unknown_person(ldap_settings: dict[str, Any]) -> None:
    with pytest.raises(PasswordRejected) as caught:
        change_password(ldap_settings, "khong.co", PASSWORD, "Mat-Khau-Moi@2027")
    assert caught.value.reason == "unknown"


def test_active_directory_change_needs_encryption(ldap_settings: dict[str, Any]) -> None:
    settings = {**ldap_settings, "LDAP_KIND": "ad", "LDAP_START_TLS": False}
    with pytest.raises(DirectoryUnavailable):
        change_password(settings, PASSWORD_CHANGE_UID, PASSWORD, "Mat-Khau-Moi@2027")


def test_ppolicy_response_control_decoding() -> None:
    def control(value: bytes) -> dict[str, Any]:
        return {directory.PPOLICY_OID: {"value": value}}

    assert directory._ppolicy_error(control(b"\x30\x03\x81\x01\x06")) == 6
    assert directory._ppolicy_error(control(b"\x30\x07\xa0\x02\x80\x00\x81\x01\x08")) == 8
    assert directory._ppolicy_error(control(b"\x30\x04\xa0\x02\x80\x00")) is None  # a warning only
    assert directory._ppolicy_error(control(b"\x30\x05\x81")) is None  # truncated
    assert directory._ppolicy_error(None) is None


def test_active_directory_guid_is_rendered_as_uuid() -> None:
    guid = uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    settings = DirectorySettings(attr_id="objectGUID")
    entry = {"raw_attributes": {"objectGUID": [guid.bytes_le]}}
    assert directory._directory_id(settings, entry) == str(guid)
    entry = {"raw_attributes": {"entryUUID": [str(guid).upper().encode()]}}
    assert directory._directory_id(DirectorySettings(), entry) == str(guid)


# --- settings ------------------------------------------------------------------------------------------

def test_defaults_mean_no_directory() -> None:
    settings = DirectorySettings.from_config(DEFAULTS)
    assert not settings.enabled
    with pytest.raises(DirectoryUnavailable):
        authenticate(DEFAULTS, "huong.nt", PASSWORD)


def test_settings_from_config(ldap_settings: dict[str, Any]) -> None:
    settings = DirectorySettings.from_config({**ldap_settings, "LDAP_START_TLS": "true", "LDAP_TIMEOUT": "2.5",
                                              "LDAP_URL": "ldaps://ldap1.hanam.gov.vn ldaps://ldap2.hanam.gov.vn:3269"})
    assert settings.enabled
    assert settings.start_tls is True
    assert settings.timeout == 3
    assert settings.urls == ("ldaps://ldap1.hanam.gov.vn", "ldaps://ldap2.hanam.gov.vn:3269")
    assert SERVICE_PASSWORD not in repr(settings)
    for loopback in ("ldap://127.0.0.1:3890", "ldap://localhost", "ldap://[::1]:389"):
        assert DirectorySettings.from_config({**ldap_settings, "LDAP_URL": loopback, "LDAP_START_TLS": False}).enabled


@pytest.mark.parametrize(("changes", "key"), [
    ({"LDAP_URL": "http://ldap.hanam.gov.vn"}, "PORTAL_LDAP_URL"),
    ({"LDAP_URL": "ldap://ldap.hanam.gov.vn/dc=hanam"}, "PORTAL_LDAP_URL"),
    ({"LDAP_URL": "ldap://ldap.hanam.gov.vn:99999"}, "PORTAL_LDAP_URL"),
    ({"LDAP_URL": "ldap://ldap.hanam.gov.vn", "LDAP_START_TLS": False}, "PORTAL_LDAP_START_TLS"),
    ({"LDAP_URL": "ldap://127.0.0.1 ldap://10.0.0.5", "LDAP_START_TLS": False}, "PORTAL_LDAP_START_TLS"),
    ({"LDAP_USER_FILTER": "(uid=*)"}, "PORTAL_LDAP_USER_FILTER"),
    ({"LDAP_USER_FILTER": "(uid={username}){0}"}, "PORTAL_LDAP_USER_FILTER"),
    ({"LDAP_USER_FILTER": "uid={username}"}, "PORTAL_LDAP_USER_FILTER"),
    ({"LDAP_CA_FILE": "/khong/co/ca.pem"}, "PORTAL_LDAP_CA_FILE"),
    ({"LDAP_TIMEOUT": "năm"}, "PORTAL_LDAP_TIMEOUT"),
    ({"LDAP_KIND": "novell"}, "PORTAL_LDAP_KIND"),
    ({"LDAP_BIND_DN": ""}, "PORTAL_LDAP_BIND_DN"),
    ({"LDAP_USER_BASE": ""}, "PORTAL_LDAP_USER_BASE"),
])
def test_settings_validation(ldap_settings: dict[str, Any], changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        DirectorySettings.from_config({**ldap_settings, **changes})
