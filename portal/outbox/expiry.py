"""The daily "your password expires soon" run: one message per person per expiry.

Run once a day (a periodic task; ``flask portal password-expiry-notices`` by hand). Running it
twice, or on every day of the warning window, queues nothing new: the key carries the expiry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.auth import password_change, policy
from portal.auth.models import Position, User, UserStatus
from portal.db import session, utcnow
from portal.outbox import messages


def queue_password_expiry_notices(now: datetime | None = None) -> int:
    """Queue the notice for every active person with an address whose password expires within
    ``PASSWORD_WARN_DAYS`` days and is not already expired or due to be changed; returns how many
    were queued now."""
    now = now or utcnow()
    settings = password_change.policy_settings()
    shortest = min(d for d in (settings.max_age_days, settings.admin_max_age_days, 10**6) if d > 0)
    if shortest == 10**6:
        return 0  # rotation switched off
    horizon = now - timedelta(days=shortest - settings.warn_days)  # older than this may be in the window
    people = session.execute(
        select(User)
        .where(User.status == UserStatus.ACTIVE, User.email.is_not(None), User.must_change_password.is_(False),
               User.password_changed_at.is_not(None), User.password_changed_at <= horizon)
        .options(selectinload(User.positions).selectinload(Position.roles))
        .order_by(User.id)
    ).scalars()
    queued = 0
    for user in people:
        admin = password_change.is_admin(user)
        expires = policy.expires_at(user.password_changed_at, admin, settings)
        left = policy.days_left(user.password_changed_at, admin, settings, now)
        if expires is None or left is None or not 0 < left <= settings.warn_days:
            continue
        queued += messages.password_expiring(user, expires, left)
    return queued
