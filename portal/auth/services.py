"""Signing in and out, and loading the signed-in person for each request. No Flask here.

The cookie holds a random token naming a server-side ``AuthSession``; the row decides whether
the cookie still works. Issue 3 adds the directory backend, password policy and lockout around
``sign_in`` without changing its callers.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload, selectinload

from portal import audit
from portal.auth import directory, passwords, policy
from portal.auth.accounts import USERNAME_RE
from portal.auth.models import (
    ADMIN_ROLES,
    AuthFailure,
    AuthSession,
    PasswordHistory,
    Position,
    User,
    UserSource,
    UserStatus,
)
from portal.db import session, utcnow
from portal.errors import DomainError, NotAllowed, ValidationFailed
from portal.text import fold, nfc

log = logging.getLogger(__name__)

# the one message for an unknown user, a wrong password and an unusable account: an attacker
# must not learn which usernames exist (SPEC §13.3)
BAD_CREDENTIALS = "Tên đăng nhập hoặc mật khẩu không đúng."
DIRECTORY_DOWN = ("Không kết nối được máy chủ danh bạ. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, "
                  "liên hệ quản trị. Lần thử này không bị tính là nhập sai.")
NOT_PROVISIONED = "Tài khoản chưa được cấp quyền trên hệ thống. Vui lòng liên hệ quản trị."
LAST_SEEN_GRANULARITY = timedelta(seconds=30)


class SignInFailed(DomainError):
    pass


class DirectoryDown(SignInFailed):
    """The directory did not answer in time: fail closed, count nothing (SPEC §13.4)."""


class NotProvisioned(SignInFailed):
    """A directory person IT has not given an account to."""


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str | None


def normalise_username(username: str) -> str:
    return (nfc(username) or "").strip().lower()


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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

    Local accounts are checked against their argon2 hash, directory accounts by a bind to the
    provincial directory (``portal.auth.directory``). Every outcome is audited. Failures against
    an existing account count towards the lockout; a directory outage never does.
    """
    cfg = _settings()
    username = normalise_username(username)
    if not password or not password.strip():
        # refused before any bind: an empty password is an unauthenticated bind (RFC 4513 §5.1.2)
        _failed(username, None, "empty_password")
        raise SignInFailed(BAD_CREDENTIALS)
    if not USERNAME_RE.fullmatch(username):
        passwords.verify(None, password)  # the same work as for a real account
        _failed(username, None, "malformed_username")
        raise SignInFailed(BAD_CREDENTIALS)
    user = find_user(username)
    now = utcnow()
    if user is not None and user.status == UserStatus.LOCKED and user.locked_until and user.locked_until <= now:
        lift_lockout(user)
    dir_settings = directory_settings()
    if dir_settings.enabled and (user is None or user.source == UserSource.DIRECTORY):
        user = _directory_sign_in(dir_settings, username, password, user, client)
    else:
        stored = user.password_hash if user is not None and user.source == UserSource.LOCAL else None
        ok = passwords.verify(stored, password)  # runs even for unknown users: equal timing
        if user is None or not ok:
            if user is not None:
                _count_failure(user, client)
            _failed(username, user, "bad_credentials")
            raise SignInFailed(BAD_CREDENTIALS)
        if user.status != UserStatus.ACTIVE:
            _failed(username, user, f"status_{user.status.value}")
            raise SignInFailed(BAD_CREDENTIALS)
        if passwords.needs_rehash(user.password_hash or ""):
            user.password_hash = passwords.hash_password(password)
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


def _directory_sign_in(settings: directory.DirectorySettings, username: str, password: str,
                       user: User | None, client: Client) -> User:
    if user is not None and user.status != UserStatus.ACTIVE:
        # the portal locks before the directory does: a locked account never reaches a bind
        _failed(username, user, f"status_{user.status.value}")
        raise SignInFailed(BAD_CREDENTIALS)
    try:
        person = directory.authenticate(settings, username, password)
    except directory.DirectoryUnavailable as exc:
        audit.record(None, "auth.directory_unavailable", user, actor_name=username[:100],
                     details={"username": username[:64], "error": str(exc)[:200]})
        raise DirectoryDown(DIRECTORY_DOWN) from exc
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


def open_session(user: User, position: Position, client: Client) -> str:
    token = secrets.token_urlsafe(32)  # 256 bits
    session.add(AuthSession(id=_token_key(token), user_id=user.id, position_id=position.id,
                            ip=client.ip, user_agent=(client.user_agent or "")[:300] or None))
    session.flush()
    user.current_position = position
    user.current_session_id = token
    return token


def load(token: str, *, idle: timedelta | None = None, absolute: timedelta | None = None,
         touch: bool = True) -> User | None:
    """The person behind a cookie token, or None when the session ended, timed out or the account
    can no longer be used; then the cookie is worthless at once. ``touch`` is False for
    background requests (polling is not activity, SPEC §13.3)."""
    if not token:
        return None
    row = session.get(AuthSession, _token_key(token))
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    if absolute is not None and now - row.created_at >= absolute:
        _end(row, "absolute_timeout")
        return None
    if idle is not None and now - row.last_seen_at >= idle:
        _end(row, "idle_timeout")
        return None
    user = session.execute(
        select(User).where(User.id == row.user_id)
        .options(selectinload(User.positions).options(selectinload(Position.roles), joinedload(Position.organisation),
                                                      joinedload(Position.unit)))
    ).scalar_one()
    if user.status != UserStatus.ACTIVE:
        return None
    position = next((p for p in user.positions if p.id == row.position_id and p.is_active()), None)
    if position is None:
        return None
    if touch and now - row.last_seen_at >= LAST_SEEN_GRANULARITY:
        row.last_seen_at = now
    user.current_position = position
    user.current_session_id = token
    user.session_last_seen_at = row.last_seen_at
    return user


def _end(row: AuthSession, reason: str) -> None:
    row.ended_at = utcnow()
    row.end_reason = reason
    audit.record(None, "auth.session_expired", object_type="users", object_id=row.user_id,
                 actor_name="hệ thống", details={"reason": reason})


def sign_out(user: User) -> None:
    if user.current_session_id:
        end_session(user.current_session_id, "sign_out")
    audit.record(user, "auth.sign_out", user)


def end_session(token: str, reason: str) -> None:
    row = session.get(AuthSession, _token_key(token))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason


def end_all_sessions(user: User, reason: str) -> int:
    """Sign-out everywhere: used by lock, disable and password change."""
    result = session.execute(
        update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    return result.rowcount or 0


def switch_position(user: User, position_id: int) -> Position:
    """Concurrent posts (kiêm nhiệm): the person chooses which one they work in now."""
    position = next((p for p in user.active_positions() if p.id == position_id), None)
    if position is None or not user.current_session_id:
        raise NotAllowed("auth.switch_position", "Chức vụ này không thuộc về bạn hoặc đã hết hiệu lực.")
    row = session.get(AuthSession, _token_key(user.current_session_id))
    if row is None:
        raise NotAllowed("auth.switch_position")
    row.position_id = position.id
    user.current_position = position
    audit.record(user, "auth.switch_position", position, organisation_id=position.organisation_id)
    return position


# --- passwords -------------------------------------------------------------------------------


def policy_settings() -> policy.PolicySettings:
    return policy.settings_from(_settings())


def is_admin(user: User) -> bool:
    return any(p.role_set & ADMIN_ROLES for p in user.active_positions())


@dataclass(frozen=True)
class PasswordState:
    must_change: bool
    reason: str | None  # why the change is forced, in Vietnamese
    days_left: int | None  # None when the password never expires (no date known)
    warn: bool


def password_state(user: User, now: datetime | None = None) -> PasswordState:
    """Forced at first sign-in, after a reset, and when older than the maximum age (90 days,
    60 for IT admins); a warning in the last 7 days (SPEC §13.2)."""
    now = now or utcnow()
    settings = policy_settings()
    admin = is_admin(user)
    days = policy.days_left(user.password_changed_at, admin, settings, now)
    if user.must_change_password:
        return PasswordState(True, "Bạn cần đổi mật khẩu tạm thời trước khi làm việc.", days, False)
    if days is not None and days <= 0:
        limit = settings.admin_max_age_days if admin else settings.max_age_days
        return PasswordState(True, f"Mật khẩu đã quá {limit} ngày; theo quy chế bạn cần đổi mật khẩu mới.",
                             days, False)
    return PasswordState(False, None, days, days is not None and days <= settings.warn_days)


def organisation_names(user: User) -> tuple[str, ...]:
    names: list[str] = []
    for position in user.positions:
        for org in (position.organisation, position.unit):
            if org is not None:
                names.extend(n for n in (org.short_name, org.name) if n)
    return tuple(dict.fromkeys(names))


def _history(user: User, limit: int) -> list[str]:
    return list(session.execute(
        select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc()).limit(limit)
    ).scalars())


def _remember(user: User, password_hash: str, keep: int) -> None:
    session.add(PasswordHistory(user_id=user.id, password_hash=password_hash))
    session.flush()
    stale = select(PasswordHistory.id).where(PasswordHistory.user_id == user.id) \
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc()).offset(max(keep, 1))
    session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(list(session.execute(stale).scalars()))))


def change_password(user: User, current_password: str, new_password: str, client: Client) -> str:
    """The person changes their own password after re-entering the current one. Local accounts
    change their hash; directory accounts their directory password (RFC 3062), after the same
    policy check. Every other session ends; the caller gets a fresh session token."""
    settings = policy_settings()
    if user.source == UserSource.LOCAL and not passwords.verify(user.password_hash, current_password or ""):
        _count_failure(user, client)
        audit.record(user, "auth.password_change_failed", user, details={"reason": "bad_current"})
        raise ValidationFailed({"current_password": "Mật khẩu hiện tại không đúng."})
    history = _history(user, settings.history)
    if user.source == UserSource.LOCAL and user.password_hash:
        history = [user.password_hash, *history][: settings.history]
    context = policy.Context(username=user.username, full_name=user.full_name,
                             organisation_names=organisation_names(user), current_password=current_password,
                             previous_hashes=tuple(history))
    problems = policy.check(new_password, context, settings)
    if problems:
        audit.record(user, "auth.password_change_failed", user, details={"reason": "policy", "rules": len(problems)})
        raise ValidationFailed({"new_password": "\n".join(problems)})
    new_hash = passwords.hash_password(new_password)
    if user.source == UserSource.LOCAL:
        if user.password_hash:
            _remember(user, user.password_hash, settings.history)
        user.password_hash = new_hash
    else:
        try:
            directory.change_password(directory_settings(), user.username, current_password, new_password)
        except directory.PasswordRejected as exc:
            audit.record(user, "auth.password_change_failed", user, details={"reason": "directory_refused"})
            raise ValidationFailed({"current_password": str(exc)}) from exc
        except directory.DirectoryUnavailable as exc:
            raise DirectoryDown(DIRECTORY_DOWN) from exc
        # the directory keeps the password; we keep its hash only to refuse reuse
        _remember(user, new_hash, settings.history)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    user.temporary_password_expires_at = None
    position = user.current_position
    ended = end_all_sessions(user, "password_change")
    audit.record(user, "auth.password_change", user, details={"source": user.source.value, "sessions_ended": ended})
    if position is None:
        raise NotAllowed("auth.password_change")
    return open_session(user, position, client)


def report_compromise(user: User) -> int:
    """"Báo mất quyền kiểm soát tài khoản" (Hà Nam Điều 21.2.b, SPEC §13.3): every session ends at
    once, including this one, and the next sign-in must set a new password. The audit row is what
    IT staff watch for."""
    user.must_change_password = True
    user.temporary_password_expires_at = None
    ended = end_all_sessions(user, "compromise_reported")
    audit.record(user, "auth.compromise_reported", user,
                 organisation_id=user.organisation.id if user.organisation else None,
                 details={"sessions_ended": ended})
    log.warning("Người dùng %s báo mất quyền kiểm soát tài khoản", user.username)
    return ended
