"""Signing in and out, and loading the signed-in person for each request. No Flask here.

The cookie holds a random token naming a server-side ``AuthSession``; the row decides whether
the cookie still works. Issue 3 adds the directory backend, password policy and lockout around
``sign_in`` without changing its callers.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from portal import audit
from portal.auth import passwords
from portal.auth.models import AuthSession, Position, PositionRole, User, UserSource, UserStatus
from portal.db import session, utcnow
from portal.errors import DomainError, NotAllowed
from portal.text import nfc

# the one message for an unknown user, a wrong password and an unusable account: an attacker
# must not learn which usernames exist (SPEC §13.3)
BAD_CREDENTIALS = "Tên đăng nhập hoặc mật khẩu không đúng."
LAST_SEEN_GRANULARITY = timedelta(minutes=1)


class SignInFailed(DomainError):
    pass


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str | None


def normalise_username(username: str) -> str:
    return (nfc(username) or "").lower()


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_user(username: str) -> User | None:
    return session.execute(
        select(User)
        .where(User.username == normalise_username(username))
        .options(selectinload(User.positions).selectinload(Position.roles))
    ).scalar_one_or_none()


def sign_in(username: str, password: str, client: Client) -> tuple[User, str]:
    """Check the credentials of a local account and open a session; returns the person and the
    cookie token. Every outcome is audited, success and failure alike."""
    username = normalise_username(username)
    if not password or not password.strip():
        _failed(username, None, "empty_password")
        raise SignInFailed(BAD_CREDENTIALS)
    user = find_user(username)
    stored = user.password_hash if user is not None and user.source == UserSource.LOCAL else None
    ok = passwords.verify(stored, password)  # runs even for unknown users: equal timing
    if user is None or not ok:
        _failed(username, user, "bad_credentials")
        raise SignInFailed(BAD_CREDENTIALS)
    if user.status != UserStatus.ACTIVE:
        _failed(username, user, f"status_{user.status.value}")
        raise SignInFailed(BAD_CREDENTIALS)
    positions = user.active_positions()
    if not positions:
        _failed(username, user, "no_active_position")
        raise SignInFailed("Tài khoản chưa được phân công chức vụ đang hiệu lực. Liên hệ quản trị.")
    if passwords.needs_rehash(user.password_hash or ""):
        user.password_hash = passwords.hash_password(password)
    position = next((p for p in positions if p.is_primary), positions[0])
    token = open_session(user, position, client)
    user.last_login_at = utcnow()
    audit.record(user, "auth.sign_in", user, organisation_id=position.organisation_id,
                 details={"source": user.source.value})
    return user, token


def _failed(username: str, user: User | None, reason: str) -> None:
    audit.record(None, "auth.sign_in_failed", user, actor_name=username[:100],
                 details={"username": username[:64], "reason": reason})


def open_session(user: User, position: Position, client: Client) -> str:
    token = secrets.token_urlsafe(32)  # 256 bits
    session.add(AuthSession(id=_token_key(token), user_id=user.id, position_id=position.id,
                            ip=client.ip, user_agent=(client.user_agent or "")[:300] or None))
    session.flush()
    user.current_position = position
    user.current_session_id = token
    return token


def load(token: str) -> User | None:
    """The person behind a cookie token, or None when the session ended or the account can no
    longer be used; then the cookie is worthless at once."""
    if not token:
        return None
    row = session.get(AuthSession, _token_key(token))
    if row is None or row.ended_at is not None:
        return None
    user = session.execute(
        select(User).where(User.id == row.user_id)
        .options(selectinload(User.positions).selectinload(Position.roles).selectinload(PositionRole.position))
    ).scalar_one()
    if user.status != UserStatus.ACTIVE:
        return None
    position = next((p for p in user.positions if p.id == row.position_id and p.is_active()), None)
    if position is None:
        return None
    now = utcnow()
    if now - row.last_seen_at >= LAST_SEEN_GRANULARITY:
        row.last_seen_at = now
    user.current_position = position
    user.current_session_id = token
    return user


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
