"""Settings: defaults here, then ``PORTAL_*`` environment variables, then the caller's overrides.

This is the only module that reads ``os.environ``. Outside development and tests a missing secret
stops start-up with a message naming the key: a default secret would reach production.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    # "production" unless said otherwise; "development" and "testing" relax the required keys.
    "ENV": "production",
    "SECRET_KEY": None,
    # Key of the audit chain's HMAC; kept outside the database so that whoever edits rows cannot
    # recompute the chain (SPEC §13.5).
    "AUDIT_KEY": None,
    "DATABASE_URL": None,
    # PostgreSQL: the tables' owner, used only by `portal db-upgrade` (migrations); the portal itself
    # then runs as PORTAL_DATABASE_URL's role, which may not alter, truncate or rewrite the audit
    # log (`portal db-roles`). Empty = migrations run as PORTAL_DATABASE_URL's role.
    "MIGRATE_DATABASE_URL": "",
    # Append-only file of audit chain heads (`portal audit-anchor`, daily and at each backup),
    # outside the database and storage directories; `portal audit-verify --anchors FILE` reads it.
    "AUDIT_ANCHOR_FILE": "",
    "STORAGE_DIR": str(ROOT / "instance" / "storage"),
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "MAX_UPLOAD_MB": 50,
    # argon2id cost, SPEC §13.2: m = 64 MiB, t = 3, p = 4. Tests lower it to stay fast.
    "ARGON2_MEMORY_KIB": 65536,
    "ARGON2_TIME_COST": 3,
    "ARGON2_PARALLELISM": 4,
    "SESSION_COOKIE_SECURE": False,  # set to true when served over https
    # Number of reverse proxies in front of the portal whose X-Forwarded-For is trusted; 0 = none.
    # Audit rows and throttling use the client address, never a proxy's.
    "TRUSTED_PROXIES": 0,
    # The header's province and the địa danh of the date line stamped at issuance come from the root
    # organisation's row ("Ủy ban nhân dân tỉnh Ninh Bình" → "Tỉnh Ninh Bình", "Ninh Bình, ngày …");
    # these only override it (portal/orgs/province.py). Empty = the row decides.
    "PROVINCE_NAME": "",
    "PLACE_NAME": "",
    # --- Signatures, SPEC §7. The development PKI signs with keys kept under PKI_DIR, encrypted with
    # PKI_PASSPHRASE (`flask portal pki init-demo`); never for real documents. SIGNING_TRUST_ROOTS:
    # space-separated PEM/DER files of the roots that validate signatures (NEAC, Ban Cơ yếu).
    "SIGNING_DEV_PKI": False,
    "PKI_DIR": str(ROOT / "instance" / "pki"),
    "PKI_PASSPHRASE": "",
    "SIGNING_TRUST_ROOTS": "",
    # space-separated CRL files (PEM/DER) checked before signing (issue 16.2); nothing is fetched
    "SIGNING_CRL_FILES": "",
    # RFC 3161 timestamps on signatures and seals (issue 16.4, portal/signing/timestamps.py), so a signature
    # stays verifiable after its certificate expires. Empty URL = no timestamps. TSA_REQUIRED: true = refuse
    # to sign when the TSA cannot give one; false = sign without a timestamp and say so. TSA_TRUST_ROOTS:
    # space-separated PEM/DER files of the TSAs' roots, trusted for timestamps only (also those of received PDFs).
    "TSA_URL": "",
    "TSA_REQUIRED": False,
    "TSA_TIMEOUT_SECONDS": 10,
    "TSA_TRUST_ROOTS": "",
    # PKCS#11 (issue 16): the module of the province's HSM or of a token reachable by the server
    # (e.g. /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so); tokens are chosen by label, keys by label
    # (IT registers them per certificate: Quản trị → Chứng thư số). PINs: PKCS11_PIN for every token, or
    # PKCS11_PIN_FILE, a file of "token label = PIN" lines readable only by the portal. A person's key
    # whose token has no configured PIN asks for the PIN at signing; a seal needs a configured PIN.
    "PKCS11_MODULE": "",
    "PKCS11_PIN": "",
    "PKCS11_PIN_FILE": "",
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; sessions expire on their own
    # --- Provincial directory (LDAP / Active Directory), SPEC §13.4. Empty URL = no directory.
    "LDAP_URL": "",  # ldap://host:389 or ldaps://host:636; several, space-separated, form a pool
    "LDAP_START_TLS": False,
    "LDAP_CA_FILE": "",  # PEM of the CA that signed the directory's certificate (validated)
    "LDAP_BIND_DN": "",  # read-only service account that searches
    "LDAP_BIND_PASSWORD": "",
    "LDAP_USER_BASE": "",
    "LDAP_USER_FILTER": "(uid={username})",  # Active Directory: (sAMAccountName={username})
    "LDAP_ATTR_ID": "entryUUID",  # Active Directory: objectGUID
    "LDAP_ATTR_USERNAME": "uid",  # Active Directory: sAMAccountName
    "LDAP_ATTR_NAME": "cn",  # Active Directory: displayName
    "LDAP_ATTR_EMAIL": "mail",
    "LDAP_ATTR_TITLE": "title",
    "LDAP_ATTR_UNIT": "ou",  # Active Directory: department
    "LDAP_TIMEOUT": 5,  # seconds, for connect and for each answer
    "LDAP_KIND": "openldap",  # or "ad": how passwords are changed (RFC 3062 or unicodePwd)
    # --- Password policy, SPEC §13.2 (see portal/auth/policy.py)
    "PASSWORD_MIN_LENGTH": 8,
    "PASSWORD_MAX_LENGTH": 128,
    "PASSWORD_REQUIRE_CLASSES": True,
    "PASSWORD_MIN_STRENGTH": 3,
    # words no password may be built on, besides the person's own name, username and organisation
    "PASSWORD_CONTEXT_WORDS": "ubnd,vanthu,tinh,matkhau,password,admin,qlvb",  # + the province, from its row
    "PASSWORD_HISTORY": 10,
    "PASSWORD_MAX_AGE_DAYS": 90,
    "PASSWORD_ADMIN_MAX_AGE_DAYS": 60,
    "PASSWORD_WARN_DAYS": 7,
    "PASSWORD_TEMPORARY_HOURS": 72,
    # --- Lockout and throttling, SPEC §13.3
    "LOCKOUT_ATTEMPTS": 5,
    "LOCKOUT_WINDOW_MINUTES": 15,
    "LOCKOUT_MINUTES": 30,  # 0 = until IT unlocks
    "RATELIMIT_LOGIN": "10 per minute; 100 per hour",  # failed sign-ins per client address
    "RATELIMIT_ENABLED": True,
    # Redis for everything that uses it (today: the failed sign-ins per address); empty = the database
    "REDIS_URL": "",
    "REDIS_PREFIX": "qlvb:",  # prefix of every Redis key, so several portals can share one server
    # Encrypts every part of `portal backup` (AES-256-GCM) when set; any long random text, kept
    # outside the backups (docs/OPERATIONS.md). Empty = backups are written in the clear.
    "BACKUP_KEY": "",
    "BACKUP_DIR": "",  # where the nightly backup writes its sets (empty = no nightly backup, logged)
    "BACKUP_KEEP": 14,  # how many nightly sets to keep there
    # --- Job queue (portal/jobs): Huey on REDIS_URL when set, else a SQLite file (empty = next to the
    # SQLite database, or instance/queue.db); JOBS_IMMEDIATE (empty = only in tests) runs nothing in the background
    "JOBS_QUEUE_FILE": "",
    "JOBS_IMMEDIATE": None,
    "JOBS_WORKERS": 2,
    "JOBS_LEASE_SECONDS": 30,  # a job whose heartbeat stopped this long is lost…
    "JOBS_REAP_SECONDS": 30,  # …and is queued again (or failed) by the reaper within this much more
    "JOBS_BACKOFF_SECONDS": 30,  # a failed attempt waits this × 2^(attempt-1) before the next
    # Local account that may sign in when the directory is down; every use is audited.
    "BREAK_GLASS_USERNAME": "",
    # --- Sessions, SPEC §13.3
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ADMIN_IDLE_MINUTES": 15,
    "SESSION_ABSOLUTE_HOURS": 10,
    # --- E-mail (the outbox's first channel, portal/outbox/). Empty host = messages wait in the outbox.
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_STARTTLS": True,  # STARTTLS with the certificate and host name validated
    "SMTP_CA_FILE": "",  # PEM of the CA that signed the mail server's certificate; empty = the system's
    "SMTP_USER": "",  # empty = no AUTH (a relay that trusts the portal's address)
    "SMTP_PASSWORD": "",
    "SMTP_SENDER": "",  # From: address, e.g. "Cổng QLVB&ĐH <qlvb@ninhbinh.gov.vn>"
    "SMTP_TIMEOUT": 30,  # seconds, for connect and each answer
    # --- The national document axis or the provincial LGSP (SPEC §11.1, portal/exchange/transport/http.py):
    # the endpoint, and the SystemId and secret key the axis's operator issued to this portal. Empty URL = no
    # axis (documents reach the outside by e-mail or on paper). The secret signs each request (HMAC) and never
    # travels. docs/EXCHANGE.md says how a province adapts the wire format to its LGSP.
    "AXIS_URL": "",
    "AXIS_SYSTEM_ID": "",
    "AXIS_SECRET": "",
    "AXIS_TIMEOUT_SECONDS": 30,  # for connect and for each answer
    # --- Working days and legal time limits (portal/workdays/, issue 18): office hours of a working day
    # (Asia/Ho_Chi_Minh); limits as Nd (end of the N-th working day after the start's, 0 = the same working
    # day), Nd@HH:MM (that time instead of closing time), Nh or Nm (working hours or minutes).
    "WORK_HOURS": "07:30-11:30,13:00-17:00",
    "LIMIT_REGISTER": "0d",  # an arrival is registered the same working day (NĐ 30 Điều 21–22)
    "LIMIT_ISSUE": "1d@12:00",  # a signed document is issued by 12:00 of the next working day (SPEC §17 #11)
    "LIMIT_URGENT": "0d",  # Khẩn: registered and issued the same working day
    "LIMIT_MOST_URGENT": "2h",  # Thượng khẩn, Hỏa tốc: within 2 working hours
    "LIMIT_WARN_HOURS": 2,  # working hours left at which an item counts as near its limit
    "DUE_SOON_WORKING_DAYS": 1,  # "sắp đến hạn": the deadline is within this many working days (SPEC §5.6)
    "WORKDAYS_CACHE_SECONDS": 60,  # a year's calendar is reused this long per worker (IT's changes: at once here)
}

REQUIRED_OUTSIDE_DEVELOPMENT = ("SECRET_KEY", "AUDIT_KEY", "DATABASE_URL")
RELAXED_ENVS = ("development", "testing")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the key."""


def _parse(key: str, value: str) -> Any:
    """Environment values are strings; numbers, booleans and JSON are recognised like Flask's
    ``from_prefixed_env`` does, so ``PORTAL_MAX_UPLOAD_MB=20`` is an int. Secrets, URLs and names
    stay text: a generated key that happens to be all digits must not turn into an int."""
    if key in REQUIRED_OUTSIDE_DEVELOPMENT or isinstance(DEFAULTS.get(key), str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def load(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = dict(DEFAULTS)
    for key, value in os.environ.items():
        if key.startswith("PORTAL_"):
            name = key.removeprefix("PORTAL_")
            settings[name] = _parse(name, value)
    settings.update(overrides or {})
    if settings.get("TESTING"):
        settings["ENV"] = "testing"
    check(settings)
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{ROOT / 'instance' / 'portal-dev.db'}"
    if not settings.get("SECRET_KEY"):
        # development only (check() refused this elsewhere): a fresh key per start, never a constant
        settings["SECRET_KEY"] = os.urandom(32).hex()
    if not settings.get("AUDIT_KEY"):
        settings["AUDIT_KEY"] = "development-audit-key"
    settings["MAX_CONTENT_LENGTH"] = int(settings["MAX_UPLOAD_MB"]) * 1024 * 1024 + 1024 * 1024
    return settings


def check(settings: dict[str, Any]) -> None:
    env = settings.get("ENV")
    if env not in ("production", "development", "testing"):
        raise ConfigError(f"PORTAL_ENV phải là production, development hoặc testing (đang là {env!r}).")
    try:
        int(settings["MAX_UPLOAD_MB"])
    except (TypeError, ValueError) as exc:
        raise ConfigError("PORTAL_MAX_UPLOAD_MB phải là số nguyên (MB).") from exc
    _check_accounts(settings)
    _check_timestamps(settings)
    _check_axis(settings)
    _check_workdays(settings)
    if env in RELAXED_ENVS:
        return
    missing = [key for key in REQUIRED_OUTSIDE_DEVELOPMENT if not settings.get(key)]
    if missing:
        names = ", ".join(f"PORTAL_{key}" for key in missing)
        raise ConfigError(
            f"Thiếu cấu hình bắt buộc: {names}. Đặt biến môi trường (xem README, mục Cấu hình) "
            "hoặc chạy `make run`, lệnh này tạo khóa bí mật trong instance/."
        )


def _check_accounts(settings: dict[str, Any]) -> None:
    """A half-configured directory or an impossible password policy stops start-up with the key's
    name, instead of failing at the first sign-in."""
    from portal.auth import directory, policy, throttle
    from portal.outbox.sender import SmtpSettings

    try:
        policy.settings_from(settings)
        throttle.parse(str(settings.get("RATELIMIT_LOGIN", "")))
        if settings.get("LDAP_URL"):
            directory.DirectorySettings.from_config(settings)
        smtp = SmtpSettings.from_config(settings).problems()
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if smtp:
        raise ConfigError(" ".join(smtp))


def _check_timestamps(settings: dict[str, Any]) -> None:
    """A TSA setting that cannot work (bad URL, timeout, unreadable roots, required without a URL) stops
    start-up naming the key, not the first signature."""
    if not any(settings.get(k) for k in ("TSA_URL", "TSA_REQUIRED", "TSA_TRUST_ROOTS")):
        return
    from portal.signing import timestamps

    try:
        timestamps.from_config(settings)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _check_axis(settings: dict[str, Any]) -> None:
    """An axis URL without its SystemId or secret, or a timeout that is no number, stops start-up naming the
    key, not the first package sent."""
    if not settings.get("AXIS_URL"):
        return
    from portal.exchange.transport import http

    try:
        http.from_config(settings)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _check_workdays(settings: dict[str, Any]) -> None:
    """Office hours or a time limit that cannot be read stops start-up naming the key, not the first list."""
    from portal.workdays import limits

    try:
        limits.check_settings(settings)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
