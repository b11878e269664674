"""A person's own password: its state (forced change, expiry warning), changing it (local hash or
the directory, after the policy) and "báo mất quyền kiểm soát". No Flask here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select

from portal import audit
from portal.auth import directory, passwords, policy
from portal.auth.models import ADMIN_ROLES, PasswordHistory, User, UserSource
from portal.auth.sessions import Client, end_all_sessions, open_session
from portal.auth.signin import DirectoryDown, _count_failure, _settings, directory_settings
from portal.db import session, utcnow
from portal.errors import NotAllowed, ValidationFailed
from portal.orgs import province
from portal.text import fold

log = logging.getLogger(__name__)

# a password change needs the directory; unlike a sign-in, nothing else can stand in for it
DIRECTORY_UNREACHABLE = ("Không kết nối được máy chủ danh bạ. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, "
                         "liên hệ quản trị. Lần thử này không bị tính là nhập sai.")


def policy_settings() -> policy.PolicySettings:
    return policy.settings_from(_settings())


def checking_settings() -> policy.PolicySettings:
    """The rules a new password is checked against: the configured ones with the province's own name
    (read from its row, "ninhbinh") among the context words, so "Ninhbinh@2026!" is as guessable
    here as "Ubnd@2026!". Only a password check pays for the lookup, not every page."""
    settings = policy_settings()
    place = fold(province.place_name()).split()
    if not place:
        return settings
    return replace(settings, context_words=tuple(dict.fromkeys([*settings.context_words, "".join(place)])))


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
    problems = policy.check(new_password, context, checking_settings())
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
            raise DirectoryDown(DIRECTORY_UNREACHABLE) from exc
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
