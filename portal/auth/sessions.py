"""Server-side sign-in sessions (SPEC §13.3). No Flask here.

The cookie holds a random token naming an ``AuthSession`` row (stored as the token's SHA-256); the
row decides whether the cookie still works. Idle and absolute limits are checked at every request;
background requests (htmx polling, marked ``X-Portal-Background: 1``) do not count as activity.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from portal import audit
from portal.auth.models import AuthSession, Position, User, UserStatus
from portal.db import session, utcnow
from portal.errors import NotAllowed

LAST_SEEN_GRANULARITY = timedelta(seconds=30)


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str | None


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    found = _session_and_person(_token_key(token))
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None:
        return None
    now = utcnow()
    if absolute is not None and now - row.created_at >= absolute:
        _end(row, "absolute_timeout")
        return None
    if idle is not None and now - row.last_seen_at >= idle:
        _end(row, "idle_timeout")
        return None
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


def _session_and_person(key: str) -> tuple[AuthSession, User] | None:
    """Every request's one statement for who is asking: the session row, its person and all their posts
    with each post's roles, organisation and unit, joined (a row per role of each post, so a handful)."""
    posts = joinedload(User.positions)
    found = session.execute(
        select(AuthSession, User).join(User, User.id == AuthSession.user_id).where(AuthSession.id == key)
        .options(posts.joinedload(Position.roles), posts.joinedload(Position.organisation),
                 posts.joinedload(Position.unit))
    ).unique().one_or_none()
    return None if found is None else (found[0], found[1])


def _end(row: AuthSession, reason: str) -> None:
    row.ended_at = utcnow()
    row.end_reason = reason
    audit.record(None, "auth.session_expired", object_type="users", object_id=row.user_id,
                 actor_name="hệ thống", details={"reason": reason})


def sign_out(user: User) -> None:
    """"Đăng xuất": this session only; the person's other browsers and devices stay signed in."""
    if user.current_session_id:
        end_session(user.current_session_id, "sign_out")
    audit.record(user, "auth.sign_out", user)


def sign_out_everywhere(user: User) -> int:
    """"Đăng xuất khỏi mọi thiết bị": every open session of the person ends, this one included."""
    ended = end_all_sessions(user, "sign_out_all")
    audit.record(user, "auth.sign_out_all", user, details={"sessions_ended": ended})
    return ended


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
