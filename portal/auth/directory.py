"""The provincial directory (OpenLDAP or Active Directory), SPEC §13.4. The only module that speaks
LDAP; it knows nothing of Flask and takes its settings as a mapping of the ``LDAP_*`` keys.

Sign-in is *search then bind*. Nothing reaches the network for an empty or whitespace password
(a simple bind with a DN and no password is an unauthenticated bind that "succeeds", RFC 4513
§5.1.2) nor for a name outside the allowlist. The read-only service account searches the user base
with the name escaped (``escape_filter_chars``); exactly one entry must answer; that DN — taken
from the directory, never built from input — then binds with the password on a fresh connection.
People are keyed by ``entryUUID`` (OpenLDAP) or ``objectGUID`` (Active Directory), never by DN.

Transport: ``ldaps://`` or StartTLS before any bind, the server certificate checked against
``LDAP_CA_FILE`` (``CERT_REQUIRED``, name or IP address checked by the ``ssl`` module during the
handshake). Cleartext ``ldap://`` is accepted only towards the loopback address (tests). Referrals
are not followed. ``LDAP_TIMEOUT`` bounds the TCP connect and every wait for an answer, so a
server that accepts connections and stays silent costs one timeout, not a hung worker. Several
space-separated URLs form a pool, tried in order.

Failures: an outage, a TLS failure, a timeout, a busy or unavailable server and a service account
the directory refuses all raise :class:`DirectoryUnavailable` (fail closed; the caller counts no
failed attempt). A wrong password, an unknown or ambiguous name return ``None``.

Password change, ``LDAP_KIND``:

* ``openldap``: bind as the person with the current password, then the Password Modify extended
  operation (RFC 3062) carrying the password-policy request control; the ppolicy overlay's answer
  (too short, in history, …) becomes a Vietnamese :class:`PasswordRejected`. The directory is the
  policy authority.
* ``ad``: Active Directory's documented way for a user changing their own password: bound as the
  user over an encrypted connection (LDAPS or StartTLS; AD refuses ``unicodePwd`` otherwise), one
  modify of ``unicodePwd`` deleting the old value and adding the new one, each value being the
  password in double quotes encoded UTF-16-LE. AD answers constraintViolation (19) when the domain
  policy refuses the password. Not exercised by the test suite (no AD here).

ldap3 2.9.1 imports aliases that pyasn1 ≥ 0.6 deprecates, and checks the certificate name with
``ssl.match_hostname`` (deprecated, removed in Python 3.12). The first warning is silenced for that
one import; the second code path is replaced by :class:`_Tls`, which lets ``ssl`` check the name.
Passwords are never logged nor put in an exception.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import ssl
import uuid
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from portal.auth.directory_ppolicy import (  # re-exported: callers and tests name them here
    POLICY_MESSAGE,
    PPOLICY_ERRORS,
    PPOLICY_OID,
    REFUSED_MESSAGE,
    WRONG_OLD_MESSAGE,
)
from portal.auth.directory_ppolicy import ppolicy_error as _ppolicy_error
from portal.auth.directory_settings import DirectorySettings, Settings
from portal.text import fold, nfc

with warnings.catch_warnings():
    # ldap3 2.9.1 imports pyasn1's tagMap/typeMap, deprecated aliases since pyasn1 0.6.
    warnings.filterwarnings("ignore", message=r"(tagMap|typeMap) is deprecated", category=DeprecationWarning)
    import ldap3
    from ldap3.core import exceptions as ldap_errors
    from ldap3.utils.conv import escape_filter_chars

log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = "Không kết nối được máy chủ danh bạ. Vui lòng thử lại sau hoặc liên hệ quản trị."

USERNAME = re.compile(r"[a-z0-9._-]{1,64}")

# LDAP result codes (RFC 4511 §4.1.9)
SUCCESS = 0
TIME_LIMIT_EXCEEDED = 3
SIZE_LIMIT_EXCEEDED = 4
ADMIN_LIMIT_EXCEEDED = 11
CONSTRAINT_VIOLATION = 19
NO_SUCH_OBJECT = 32
INVALID_CREDENTIALS = 49
INSUFFICIENT_ACCESS = 50
BUSY = 51
UNAVAILABLE = 52
UNWILLING_TO_PERFORM = 53
OTHER = 80
UNAVAILABLE_CODES = frozenset({TIME_LIMIT_EXCEEDED, ADMIN_LIMIT_EXCEEDED, BUSY, UNAVAILABLE, OTHER})


class DirectoryUnavailable(Exception):
    """The directory cannot answer: no connection, TLS failure, timeout, busy, or the service
    account is refused. ``str()`` is the message for the user; ``detail`` is for logs and audit."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(UNAVAILABLE_MESSAGE)
        self.detail = detail


class PasswordRejected(Exception):
    """The directory refused a password change; ``str()`` is a Vietnamese message for the user,
    ``reason`` a short code for the audit (wrong_old, too_short, history, quality, policy, …)."""

    def __init__(self, message: str, reason: str = "policy") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class DirectoryPerson:
    directory_id: str  # entryUUID / objectGUID as a lower-case canonical UUID
    dn: str
    username: str
    full_name: str
    email: str | None
    title: str | None
    unit: str | None



def _settings(settings: Settings) -> DirectorySettings:
    result = settings if isinstance(settings, DirectorySettings) else DirectorySettings.from_config(settings)
    if not result.enabled:
        log.error("Danh bạ chưa được cấu hình (PORTAL_LDAP_URL trống) nhưng vẫn được gọi")
        raise DirectoryUnavailable("directory not configured")
    return result


def valid_username(username: str) -> bool:
    return isinstance(username, str) and USERNAME.fullmatch(username) is not None


def user_filter(settings: Settings, username: str) -> str:
    """The search filter for one sign-in name, every special character escaped (RFC 4515)."""
    config = settings if isinstance(settings, DirectorySettings) else DirectorySettings.from_config(settings)
    return config.user_filter.format(username=escape_filter_chars(username))


def substring_filter(settings: DirectorySettings, text: str) -> str:
    """People whose name or sign-in name contains ``text``. The configured user filter with a
    presence test in place of the name keeps the search to accounts (AD: objectClass=user)."""
    value = escape_filter_chars(text)
    accounts = settings.user_filter.format(username="*")
    return f"(&{accounts}(|({settings.attr_name}=*{value}*)({settings.attr_username}=*{value}*)))"


# --- transport ---------------------------------------------------------------------------------

class _Tls(ldap3.Tls):
    """ldap3's Tls with the certificate checked by ``ssl`` itself: CERT_REQUIRED against the
    configured CA (system CAs when none), host name or IP address matched during the handshake,
    TLS 1.2 or later (``create_default_context``)."""

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        context = ssl.create_default_context(cafile=self.ca_certs_file or None)
        connection.socket = context.wrap_socket(
            connection.socket, server_hostname=connection.server.host, do_handshake_on_connect=do_handshake
        )


def _server(settings: DirectorySettings) -> ldap3.Server | ldap3.ServerPool:
    tls = _Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file or None)
    servers = []
    for url in settings.urls:
        parts = urlsplit(url)
        ldaps = parts.scheme == "ldaps"
        servers.append(ldap3.Server(parts.hostname, port=parts.port or (636 if ldaps else 389), use_ssl=ldaps,
                                    tls=tls, get_info=ldap3.NONE, connect_timeout=settings.timeout))
    if len(servers) == 1:
        return servers[0]
    # one pass over the replicas in the configured order, never an endless retry loop
    return ldap3.ServerPool(servers, ldap3.FIRST, active=1, exhaust=False)


@contextlib.contextmanager
def _unavailable_on_errors(what: str) -> Iterator[None]:
    """ldap3's transport and TLS errors become DirectoryUnavailable."""
    try:
        yield
    except DirectoryUnavailable:
        raise
    except (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPStartTLSError, ldap_errors.LDAPCertificateError,
            ldap_errors.LDAPServerPoolExhaustedError, ldap_errors.LDAPResponseTimeoutError,
            ldap_errors.LDAPMaximumRetriesError, ldap_errors.LDAPSSLConfigurationError, ssl.SSLError, OSError) as exc:
        log.warning("Máy chủ danh bạ không phản hồi (%s): %s: %s", what, type(exc).__name__, exc)
        raise DirectoryUnavailable(f"{what}: {type(exc).__name__}") from exc
    except ldap_errors.LDAPException as exc:
        log.exception("Lỗi không mong đợi khi làm việc với danh bạ (%s)", what)
        raise DirectoryUnavailable(f"{what}: {type(exc).__name__}") from exc


def _open(settings: DirectorySettings, user: str, password: str, read_only: bool) -> ldap3.Connection:
    """A connection, opened and encrypted (StartTLS when configured) but not yet bound."""
    conn = ldap3.Connection(
        _server(settings), user=user, password=password, auto_bind=ldap3.AUTO_BIND_NONE,
        client_strategy=ldap3.SYNC, auto_referrals=False, raise_exceptions=False, read_only=read_only,
        receive_timeout=settings.timeout, return_empty_attributes=False,
    )
    try:
        conn.open(read_server_info=False)
        if settings.start_tls:
            conn.start_tls(read_server_info=False)
    except BaseException:
        _close(conn)
        raise
    return conn


def _close(conn: ldap3.Connection) -> None:
    with contextlib.suppress(Exception):
        conn.unbind()
    # ldap3 leaves the socket of a failed connect open; close it here, not in the garbage collector
    sock = getattr(conn, "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()


def _result_code(conn: ldap3.Connection) -> int:
    result = conn.result or {}
    return int(result.get("result", OTHER))


def _check_available(conn: ldap3.Connection, what: str) -> None:
    code = _result_code(conn)
    if code in UNAVAILABLE_CODES:
        log.warning("Máy chủ danh bạ bận hoặc không sẵn sàng (%s): mã %s %s", what, code,
                    (conn.result or {}).get("description"))
        raise DirectoryUnavailable(f"{what}: result {code}")


@contextlib.contextmanager
def _service(settings: DirectorySettings) -> Iterator[ldap3.Connection]:
    """A connection bound as the read-only service account."""
    with _unavailable_on_errors("service"):
        conn = _open(settings, settings.bind_dn, settings.bind_password, read_only=True)
        try:
            if not conn.bind(read_server_info=False):
                _check_available(conn, "service bind")
                log.error("Tài khoản dịch vụ danh bạ %s bị từ chối (mã %s %s): kiểm tra PORTAL_LDAP_BIND_DN và "
                          "PORTAL_LDAP_BIND_PASSWORD", settings.bind_dn, _result_code(conn),
                          (conn.result or {}).get("description"))
                raise DirectoryUnavailable("service account refused")
            yield conn
        finally:
            _close(conn)


def _search(conn: ldap3.Connection, settings: DirectorySettings, search_filter: str,
            limit: int) -> list[dict[str, Any]]:
    with _unavailable_on_errors("search"):
        conn.search(settings.user_base, search_filter, search_scope=ldap3.SUBTREE, attributes=settings.attributes,
                    size_limit=limit, time_limit=settings.timeout, types_only=False)
    code = _result_code(conn)
    if code not in (SUCCESS, SIZE_LIMIT_EXCEEDED):
        _check_available(conn, "search")
        log.error("Tìm kiếm danh bạ trong %s thất bại: mã %s %s", settings.user_base, code,
                  (conn.result or {}).get("description"))
        raise DirectoryUnavailable(f"search: result {code}")
    # references (searchResRef) are referrals, not followed
    return [entry for entry in conn.response or () if entry.get("type") == "searchResEntry"]


# --- entries -------------------------------------------------------------------------------------

def _raw(entry: Mapping[str, Any], name: str) -> list[bytes]:
    attributes = entry.get("raw_attributes") or {}
    for key, values in attributes.items():
        if key.lower() == name.lower():
            return list(values or ())
    return []


def _text(entry: Mapping[str, Any], name: str) -> str | None:
    for value in _raw(entry, name):
        text = nfc(value.decode("utf-8", errors="replace"))
        if text:
            return text
    return None


def _directory_id(settings: DirectorySettings, entry: Mapping[str, Any]) -> str | None:
    values = _raw(entry, settings.attr_id)
    if not values:
        return None
    value = values[0]
    if settings.attr_id.lower() == "objectguid" and len(value) == 16:
        return str(uuid.UUID(bytes_le=value))  # AD stores the GUID little-endian
    text = value.decode("utf-8", errors="replace").strip().lower()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text or None


def _person(settings: DirectorySettings, entry: Mapping[str, Any]) -> DirectoryPerson | None:
    directory_id = _directory_id(settings, entry)
    username = (_text(entry, settings.attr_username) or "").lower()
    if not directory_id or not username:
        log.warning("Mục danh bạ %s thiếu %s hoặc %s, bỏ qua", entry.get("dn"), settings.attr_id,
                    settings.attr_username)
        return None
    return DirectoryPerson(
        directory_id=directory_id,
        dn=str(entry.get("dn") or ""),
        username=username,
        full_name=_text(entry, settings.attr_name) or username,
        email=_text(entry, settings.attr_email),
        title=_text(entry, settings.attr_title),
        unit=_text(entry, settings.attr_unit),
    )


def _find_one(conn: ldap3.Connection, settings: DirectorySettings, username: str) -> DirectoryPerson | None:
    entries = _search(conn, settings, user_filter(settings, username), limit=2)
    if len(entries) != 1:
        if entries:
            log.warning("Tên đăng nhập %s khớp nhiều mục trong danh bạ: từ chối", username)
        return None
    return _person(settings, entries[0])


# --- public API ----------------------------------------------------------------------------------

def authenticate(settings: Settings, username: str, password: str) -> DirectoryPerson | None:
    """The person if ``password`` is theirs; None for an unknown, ambiguous or refused sign-in.
    Raises DirectoryUnavailable when the directory cannot answer.

    A name the directory does not know still costs a bind, as a decoy DN that cannot exist: the
    search and the second connection are most of a sign-in's time, so an unknown name and a known
    one with a wrong password take the same time and load (SPEC §13.3)."""
    if not isinstance(password, str) or not password.strip():
        return None  # before any network traffic: an empty password would be an unauthenticated bind
    if not valid_username(username):
        return None
    config = _settings(settings)
    with _service(config) as conn:
        person = _find_one(conn, config, username)
    if person is None:
        _bind_as(config, _decoy_dn(config), password)
        return None
    return person if _bind_as(config, person.dn, password) else None


def probe(settings: Settings, username: str) -> None:
    """The network work of a failed :func:`authenticate`, with no bind as anybody: the search for
    ``username`` and a bind as a decoy DN. For sign-ins the portal refuses on its own (a wrong local
    password, a locked account): they then answer as slowly as a directory refusal, and an outage
    raises DirectoryUnavailable for them too, so every failure looks alike. Never binds as the
    person found, whose directory lockout counter must not move."""
    config = _settings(settings)
    with _service(config) as conn:
        # a name outside the allowlist never reaches a filter; an unused one is looked up instead
        _find_one(conn, config, username if valid_username(username) else "portal-decoy")
    _bind_as(config, _decoy_dn(config), secrets.token_urlsafe(16))


def _decoy_dn(settings: DirectorySettings) -> str:
    """A DN under the user base that no entry has: its bind is refused like a wrong password (49)."""
    return f"cn=portal-decoy-{secrets.token_hex(8)},{settings.user_base}"


def _bind_as(settings: DirectorySettings, dn: str, password: str) -> bool:
    with _unavailable_on_errors("user bind"):
        conn = _open(settings, dn, password, read_only=True)
        try:
            try:
                bound = conn.bind(read_server_info=False)
            except (ldap_errors.LDAPPasswordIsMandatoryError, ldap_errors.LDAPSASLPrepError):
                return False  # a password ldap3 will not send cannot be the right one
            if not bound:
                _check_available(conn, "user bind")
                _log_refusal(conn, dn)
            return bool(bound)
        finally:
            _close(conn)


def _log_refusal(conn: ldap3.Connection, dn: str) -> None:
    """Active Directory explains a refused bind in the diagnostic message ("data 52e", 775 locked,
    532 expired, 773 must change, 533 disabled, 701 account expired); kept for the audit log."""
    result = conn.result or {}
    message = str(result.get("message") or "")
    match = re.search(r"data ([0-9a-f]{3})", message)
    log.info("Danh bạ từ chối đăng nhập %s: mã %s%s", dn, result.get("result"),
             f" (AD {match.group(1)})" if match else "")


def find(settings: Settings, username: str) -> DirectoryPerson | None:
    """One person by sign-in name, looked up by the service account (provisioning)."""
    if not valid_username(username):
        return None
    config = _settings(settings)
    with _service(config) as conn:
        return _find_one(conn, config, username)


def search(settings: Settings, text: str, limit: int = 20) -> list[DirectoryPerson]:
    """People whose name or sign-in name contains ``text`` (at most ``limit``, sorted by name).
    Diacritics are matched as the directory matches them (OpenLDAP: exactly, case-insensitive)."""
    needle = nfc(text) or ""
    if not needle or limit <= 0:
        return []
    config = _settings(settings)
    with _service(config) as conn:
        entries = _search(conn, config, substring_filter(config, needle[:100]), limit=min(limit, 500))
    people = [person for person in (_person(config, entry) for entry in entries) if person is not None]
    return sorted(people, key=lambda person: (fold(person.full_name), person.full_name, person.username))


def check_connection(settings: Settings) -> None:
    """Bind as the service account and read the user base; DirectoryUnavailable otherwise."""
    config = _settings(settings)
    with _service(config) as conn:
        with _unavailable_on_errors("base read"):
            conn.search(config.user_base, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["1.1"],
                        time_limit=config.timeout)
        code = _result_code(conn)
        if code != SUCCESS or not conn.response:
            _check_available(conn, "base read")
            log.error("Không đọc được nhánh %s trong danh bạ: mã %s", config.user_base, code)
            raise DirectoryUnavailable(f"base read: result {code}")


def change_password(settings: Settings, username: str, old_password: str, new_password: str) -> None:
    """Change a person's own password in the directory; PasswordRejected says why not."""
    if not isinstance(new_password, str) or not new_password.strip():
        # an empty newPasswd asks the server to generate one (RFC 3062 §2): never
        raise PasswordRejected("Mật khẩu mới không được để trống.", reason="empty")
    if not isinstance(old_password, str) or not old_password.strip():
        raise PasswordRejected(WRONG_OLD_MESSAGE, reason="wrong_old")
    config = _settings(settings)
    person = find(config, username)
    if person is None:
        raise PasswordRejected("Không tìm thấy tài khoản trong hệ thống danh bạ. Vui lòng liên hệ quản trị.",
                               reason="unknown")
    if config.kind == "ad" and not config.encrypted:
        log.error("Active Directory chỉ đổi unicodePwd qua LDAPS hoặc StartTLS: kiểm tra PORTAL_LDAP_URL")
        raise DirectoryUnavailable("ad password change needs an encrypted connection")
    with _unavailable_on_errors("password change"):
        conn = _open(config, person.dn, old_password, read_only=False)
        try:
            try:
                bound = conn.bind(read_server_info=False)
            except (ldap_errors.LDAPPasswordIsMandatoryError, ldap_errors.LDAPSASLPrepError):
                bound = False
            if not bound:
                _check_available(conn, "password change bind")
                _log_refusal(conn, person.dn)
                raise PasswordRejected(WRONG_OLD_MESSAGE, reason="wrong_old")
            if config.kind == "ad":
                _modify_ad(conn, person.dn, old_password, new_password)
            else:
                _modify_rfc3062(conn, person.dn, old_password, new_password)
            _raise_for_refusal(conn, person.dn)
        finally:
            _close(conn)
    log.info("Đã đổi mật khẩu trong danh bạ cho %s", person.dn)


def _modify_rfc3062(conn: ldap3.Connection, dn: str, old_password: str, new_password: str) -> None:
    try:
        conn.extend.standard.modify_password(user=dn, old_password=old_password, new_password=new_password,
                                             controls=[(PPOLICY_OID, False, None)])
    except ldap_errors.LDAPSASLPrepError as exc:
        raise PasswordRejected("Mật khẩu mới chứa ký tự không được phép.", reason="characters") from exc


def _modify_ad(conn: ldap3.Connection, dn: str, old_password: str, new_password: str) -> None:
    def quoted(password: str) -> bytes:
        return f'"{password}"'.encode("utf-16-le")

    conn.modify(dn, {"unicodePwd": [(ldap3.MODIFY_DELETE, [quoted(old_password)]),
                                    (ldap3.MODIFY_ADD, [quoted(new_password)])]})


def _raise_for_refusal(conn: ldap3.Connection, dn: str) -> None:
    code = _result_code(conn)
    if code == SUCCESS:
        return
    _check_available(conn, "password change")
    result = conn.result or {}
    log.info("Danh bạ từ chối mật khẩu mới của %s: mã %s %s", dn, code, result.get("message"))
    policy_error = _ppolicy_error(result.get("controls"))
    if policy_error in PPOLICY_ERRORS:
        reason, message = PPOLICY_ERRORS[policy_error]
        raise PasswordRejected(message, reason=reason)
    if code == INVALID_CREDENTIALS:
        raise PasswordRejected(WRONG_OLD_MESSAGE, reason="wrong_old")
    if code == CONSTRAINT_VIOLATION:
        raise PasswordRejected(POLICY_MESSAGE, reason="policy")
    if code == INSUFFICIENT_ACCESS:
        raise PasswordRejected(PPOLICY_ERRORS[3][1], reason="not_allowed")
    raise PasswordRejected(REFUSED_MESSAGE, reason="refused")
