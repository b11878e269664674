"""Signing in: local argon2 or the provincial directory, lockout, break-glass. No Flask request here.

Every failed sign-in leaks nothing (SPEC §13.3):

* the same answer: one message and one status for a wrong password, an unknown name, a locked and
  a disabled account (:data:`BAD_CREDENTIALS`); while the directory is down, one other message and
  status for every failure (:data:`DIRECTORY_DOWN`), local accounts included;
* the same work: every attempt runs exactly one argon2 verification (the account's hash, or a dummy
  one where no hash is checked), and with a directory configured every failure also costs one
  directory search and one bind: as the person when the directory decides, else as a decoy DN
  (``directory.probe``), so a local name answers no faster or slower than an unknown one. A success
  costs what it costs: whoever has the password learns nothing new from the time it takes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NoReturn

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from portal import audit
from portal.auth import directory, passwords, throttle
from portal.auth.accounts import USERNAME_RE
from portal.auth.models import AuthFailure, Position, User, UserSource, UserStatus
from portal.auth.sessions import Client, end_all_sessions, open_session
from portal.db import session, utcnow
from portal.errors import DomainError
from portal.outbox import messages as outbox_messages
from portal.text import fold, nfc
from portal.timeutil import format_datetime

log = logging.getLogger(__name__)

# the one answer to a wrong password, an unknown name, a locked or a disabled account: an attacker
# learns nothing, and a person whose account is locked is not left guessing (SPEC §13.3)
BAD_CREDENTIALS = "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa."
# the one answer to every failure while the directory is down: a local account with the right
# password still signs in (break-glass), so the answer cannot tell local names from others
DIRECTORY_DOWN = ("Không đăng nhập được. Máy chủ danh bạ đang không kết nối được; tài khoản nội bộ vẫn đăng "
                  "nhập được nếu nhập đúng.")
NOT_PROVISIONED = "Tài khoản chưa được cấp quyền trên hệ thống. Vui lòng liên hệ quản trị."

# Who else hears of a lock, in its transaction: (person, when, what they are told, whether the e-mail was queued,
# locked by an administrator). The notifications register here; auth imports none of them.
LockListener = Callable[[User, datetime, str, bool, bool], None]
LOCK_LISTENERS: list[LockListener] = []


class SignInFailed(DomainError):
    pass


class DirectoryDown(SignInFailed):
    """The directory did not answer in time: fail closed; a directory account is charged nothing."""


class NotProvisioned(SignInFailed):
    """A directory person IT has not given an account to (reached only with their right password)."""


def normalise_username(username: str) -> str:
    return (nfc(username) or "").strip().lower()


def find_user(username: str) -> User | None:
    return session.execute(
        select(User)
        .where(User.username == normalise_username(username))
        .options(selectinload(User.positions).selectinload(Position.roles))
    ).scalar_one_or_none()


def _settings() -> Mapping[str, Any]:
    return current_app.config


def directory_settings() -> directory.DirectorySettings:
    return directory.DirectorySettings.from_config(_settings())


def lock_hint() -> str:
    cfg = _settings()
    minutes = int(cfg["LOCKOUT_MINUTES"])
    until = f"{minutes} phút" if minutes else "đến khi quản trị mở khóa"
    return (f"Nhập sai mật khẩu {cfg['LOCKOUT_ATTEMPTS']} lần trong {cfg['LOCKOUT_WINDOW_MINUTES']} phút "
            f"thì tài khoản bị tạm khóa {until}.")


def sign_in(username: str, password: str, client: Client) -> tuple[User, str]:
    """Check the credentials and open a session; returns the person and the cookie token.

    Refused at once (``throttle.Throttled``) when the client's address has failed too often. Every
    outcome is audited; failures against an existing account count towards its lockout, except
    those of a directory account while the directory is down.
    """
    throttle.check(client.ip)
    try:
        return _sign_in(normalise_username(username), password, client)
    except SignInFailed:
        throttle.failed(client.ip)
        raise


def _sign_in(username: str, password: str, client: Client) -> tuple[User, str]:
    cfg = _settings()
    dir_settings = directory_settings()
    if not password or not password.strip():
        # refused before any bind: an empty password is an unauthenticated bind (RFC 4513 §5.1.2);
        # the form refuses it first, so only direct callers get here
        passwords.verify(None, "-")
        _failed(username, None, "empty_password")
        raise SignInFailed(BAD_CREDENTIALS)
    user = find_user(username) if USERNAME_RE.fullmatch(username) else None
    now = utcnow()
    if user is not None and user.status == UserStatus.LOCKED and user.locked_until and user.locked_until <= now:
        lift_lockout(user)
    local = user is not None and user.source == UserSource.LOCAL
    # the one argon2 verification of this attempt, whoever it is for (SPEC §13.3)
    ok = passwords.verify(user.password_hash if local else None, password)
    if user is None and not USERNAME_RE.fullmatch(username):
        _refuse(dir_settings, username, None, "malformed_username", client)
    if local:
        assert user is not None
        if not ok:
            _refuse(dir_settings, username, user, "bad_credentials", client, count=True)
        if user.status != UserStatus.ACTIVE:
            _refuse(dir_settings, username, user, f"status_{user.status.value}", client)
        if passwords.needs_rehash(user.password_hash or ""):
            user.password_hash = passwords.hash_password(password)
    elif dir_settings.enabled:
        user = _directory_sign_in(dir_settings, username, password, user, client)
    else:
        _refuse(dir_settings, username, user, "bad_credentials", client)
    if (user.must_change_password and user.temporary_password_expires_at is not None
            and user.temporary_password_expires_at <= now):
        _failed(username, user, "temporary_password_expired")
        raise SignInFailed("Mật khẩu tạm thời đã hết hạn. Liên hệ quản trị để được cấp mật khẩu mới.")
    positions = user.active_positions()
    if not positions:
        _failed(username, user, "no_active_position")
        raise SignInFailed("Tài khoản chưa được phân công chức vụ đang hiệu lực. Liên hệ quản trị.")
    session.execute(delete(AuthFailure).where(AuthFailure.user_id == user.id))
    position = next((p for p in positions if p.is_primary), positions[0])
    token = open_session(user, position, client)
    user.last_login_at = now
    break_glass = bool(cfg["BREAK_GLASS_USERNAME"]) and user.username == cfg["BREAK_GLASS_USERNAME"] \
        and user.source == UserSource.LOCAL
    audit.record(user, "auth.sign_in", user, organisation_id=position.organisation_id,
                 details={"source": user.source.value, "break_glass": break_glass})
    if break_glass:
        # the emergency account: every use is visible to whoever reviews the log (SPEC §13.4)
        audit.record(user, "auth.break_glass", user, organisation_id=position.organisation_id,
                     details={"directory_enabled": dir_settings.enabled})
        log.warning("Tài khoản khẩn cấp %s vừa đăng nhập từ %s", user.username, client.ip)
    return user, token


def _refuse(settings: directory.DirectorySettings, username: str, user: User | None, reason: str, client: Client,
            *, count: bool = False) -> NoReturn:
    """A failure the portal decides on its own. It still costs the directory work of a refusal
    (``directory.probe``), and while the directory is down it answers like every other failure
    then; a wrong local password counts towards the lockout even so, or an outage would open the
    break-glass account to guessing."""
    if count and user is not None:
        _count_failure(user, client)
    _failed(username, user, reason)
    if settings.enabled:
        try:
            directory.probe(settings, username)
        except directory.DirectoryUnavailable as exc:
            _directory_down(username, user, exc)
    raise SignInFailed(BAD_CREDENTIALS)


def _directory_down(username: str, user: User | None, exc: directory.DirectoryUnavailable) -> NoReturn:
    audit.record(None, "auth.directory_unavailable", user, actor_name=username[:100],
                 details={"username": username[:64], "error": exc.detail[:200]})
    raise DirectoryDown(DIRECTORY_DOWN) from exc


def _directory_sign_in(settings: directory.DirectorySettings, username: str, password: str,
                       user: User | None, client: Client) -> User:
    if user is not None and user.status != UserStatus.ACTIVE:
        # the portal locks before the directory does: a locked account never reaches a bind as itself
        _refuse(settings, username, user, f"status_{user.status.value}", client)
    try:
        person = directory.authenticate(settings, username, password)
    except directory.DirectoryUnavailable as exc:
        _directory_down(username, user, exc)  # counted against nobody (SPEC §13.4)
    if person is None:
        if user is not None:
            _count_failure(user, client)
        _failed(username, user, "bad_credentials")
        raise SignInFailed(BAD_CREDENTIALS)
    # the directory's stable id decides who this is, never the DN or the name
    matched = session.execute(
        select(User).where(User.directory_id == person.directory_id)
        .options(selectinload(User.positions).selectinload(Position.roles))
    ).scalar_one_or_none()
    if matched is None:
        audit.record(None, "auth.not_provisioned", actor_name=username[:100],
                     details={"username": username[:64], "directory_id": person.directory_id})
        raise NotProvisioned(NOT_PROVISIONED)
    if matched.status != UserStatus.ACTIVE:
        _failed(username, matched, f"status_{matched.status.value}")
        raise SignInFailed(BAD_CREDENTIALS)
    refresh_from_directory(matched, person)
    return matched


def refresh_from_directory(user: User, person: directory.DirectoryPerson) -> None:
    """Name, e-mail and title follow the directory at every sign-in (SPEC §13.4)."""
    changes: dict[str, str | None] = {}
    full_name = (nfc(person.full_name) or "")[:100]
    if full_name and full_name != user.full_name:
        changes["full_name"] = full_name
        user.full_name = full_name
        user.full_name_folded = fold(full_name)
    email = (nfc(person.email) or None) and (nfc(person.email) or "")[:100]
    if email != user.email:
        changes["email"] = email
        user.email = email
    title = (nfc(person.title) or "")[:100]
    primary = next((p for p in user.active_positions() if p.is_primary), None)
    if title and primary is not None and primary.title != title:
        changes["title"] = title
        primary.title = title
    if changes:
        audit.record(None, "people.directory_refresh", user, actor_name="danh bạ", details=changes)


def _failed(username: str, user: User | None, reason: str) -> None:
    audit.record(None, "auth.sign_in_failed", user, actor_name=username[:100],
                 details={"username": username[:64], "reason": reason})


def _count_failure(user: User, client: Client) -> None:
    """Five failures within fifteen minutes lock the account (SPEC §13.3; configurable)."""
    cfg = _settings()
    now = utcnow()
    session.add(AuthFailure(user_id=user.id, at=now, ip=client.ip))
    session.flush()
    recent = session.execute(
        select(func.count()).select_from(AuthFailure)
        .where(AuthFailure.user_id == user.id,
               AuthFailure.at > now - timedelta(minutes=int(cfg["LOCKOUT_WINDOW_MINUTES"])))
    ).scalar_one()
    if recent >= int(cfg["LOCKOUT_ATTEMPTS"]) and user.status == UserStatus.ACTIVE:
        minutes = int(cfg["LOCKOUT_MINUTES"])
        user.status = UserStatus.LOCKED
        user.locked_until = now + timedelta(minutes=minutes) if minutes else None
        user.lock_reason = f"Nhập sai mật khẩu {recent} lần trong {cfg['LOCKOUT_WINDOW_MINUTES']} phút."
        end_all_sessions(user, "locked")
        _tell_locked(user, now, recent)
        audit.record(None, "auth.locked", user, actor_name="hệ thống",
                     details={"failures": recent, "until": user.locked_until, "ip": client.ip})


def confirm_password(user: User, password: str, client: Client, purpose: str) -> bool:
    """Re-authentication before a weighty act (signing): the person's own password, checked like
    a sign-in (local argon2 or the directory); a wrong one counts towards the lockout and is
    audited. The caller must keep the transaction (do not roll back) so the failure stays."""
    if user.status != UserStatus.ACTIVE:
        return False
    if user.source == UserSource.LOCAL:
        ok = passwords.verify(user.password_hash, password or "")
    else:
        try:
            person = directory.authenticate(directory_settings(), user.username, password or "")
        except directory.DirectoryUnavailable as exc:
            raise DirectoryDown(str(exc)) from exc
        ok = person is not None and person.directory_id == user.directory_id
    if not ok:
        _count_failure(user, client)
        audit.record(user, "auth.reauth_failed", user, details={"purpose": purpose})
    return ok


def lift_lockout(user: User) -> None:
    """The automatic lockout's time is up."""
    user.status = UserStatus.ACTIVE
    user.locked_until = None
    user.lock_reason = None
    session.execute(delete(AuthFailure).where(AuthFailure.user_id == user.id))
    audit.record(None, "auth.lockout_expired", user, actor_name="hệ thống")


def _tell_locked(user: User, at: Any, failures: int) -> None:
    """The person learns of the lockout, and until when, in the portal: ``users.notice`` is shown
    on the page they land on after their next successful sign-in. The sign-in page itself says no
    more than :data:`BAD_CREDENTIALS`, which an attacker learns nothing from.

    The same text goes to ``user.email`` through the outbox, in this transaction: the e-mail is
    sent after the lockout commits, and never if it rolls back; and to the lock's listeners (the
    notification under the bell), in the same transaction."""
    until = (f"đến {format_datetime(user.locked_until)}" if user.locked_until
             else "đến khi quản trị mở khóa")
    text = (f"Tài khoản của bạn đã bị tạm khóa lúc {format_datetime(at)} {until} vì có {failures} lần nhập sai "
            "mật khẩu. Nếu không phải bạn nhập, hãy đổi mật khẩu ngay và báo cho quản trị.")
    user.notice = f"{user.notice} {text}"[-500:] if user.notice else text
    announce_locked(user, at, text, outbox_messages.account_locked(user, at, text), by_admin=False)


def on_locked(listener: LockListener) -> None:
    if listener not in LOCK_LISTENERS:
        LOCK_LISTENERS.append(listener)


def announce_locked(user: User, at: datetime, text: str, emailed: bool, *, by_admin: bool) -> None:
    """A lock (the automatic lockout, or an administrator's) to its listeners. Nothing here reaches the
    answer to the attempt that caused it: that stays :data:`BAD_CREDENTIALS`."""
    for listener in LOCK_LISTENERS:
        listener(user, at, text, emailed, by_admin)

