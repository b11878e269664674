"""Failed sign-ins per client address (SPEC §13.3: 10 a minute, 100 an hour), counted where every
worker process sees them. No Flask request here; the settings come from the app config.

By default the count is read from the database: every failed sign-in already writes an audit row
(``auth.sign_in_failed``, ``auth.directory_unavailable`` or ``auth.not_provisioned``) with the
client address, so the rows of the last hour are the count, whichever worker wrote them. With
``PORTAL_REDIS_URL`` set, each failure is also added to a sorted set per address in Redis (one
member per failure, scored by its time: a sliding window like the database's), and the count is
read there; should Redis not answer, the database count stands in. A per-process memory count is
never used: with two workers it let 19 failures through a limit of 10.

Only failures count: a whole office signing in at 8 o'clock from behind one address is not an
attack. The check runs before the password is looked at; the failure that reaches the limit is
the last one answered normally.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select

from portal.audit import AuditEntry
from portal.db import session, utcnow
from portal.errors import DomainError

log = logging.getLogger(__name__)

FAILURE_ACTIONS = ("auth.sign_in_failed", "auth.directory_unavailable", "auth.not_provisioned")
THROTTLED = "Đăng nhập sai quá nhiều lần từ máy này. Vui lòng đợi ít phút rồi thử lại."
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?\s*", re.IGNORECASE)


class Throttled(DomainError):
    """Too many failed sign-ins from this address; nothing was checked."""


@dataclass(frozen=True)
class Limit:
    amount: int
    seconds: int


def parse(text: str) -> tuple[Limit, ...]:
    """"10 per minute; 100 per hour" (Flask-Limiter's syntax, also "10/minute", "5 per 2 hours")."""
    limits = []
    for part in filter(str.strip, re.split(r"[;,]", text or "")):
        match = _LIMIT.fullmatch(part)
        if not match:
            raise ValueError(f"Cấu hình PORTAL_RATELIMIT_LOGIN không hợp lệ: {part.strip()!r} "
                             "(ví dụ: 10 per minute; 100 per hour).")
        amount, count, unit = match.groups()
        limits.append(Limit(int(amount), int(count or 1) * UNITS[unit.lower()]))
    return tuple(limits)


def _config() -> Mapping[str, Any]:
    return current_app.config


def _limits() -> tuple[Limit, ...]:
    cfg = _config()
    return parse(str(cfg["RATELIMIT_LOGIN"])) if cfg.get("RATELIMIT_ENABLED", True) else ()


def redis_client() -> Any | None:
    """The app's Redis client when ``PORTAL_REDIS_URL`` is set (one per app, shared by threads)."""
    url = _config().get("REDIS_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault("portal_redis", {})
    if url not in clients:
        import redis  # the optional "redis" extra; only imported when configured

        clients[url] = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    return clients[url]


def _key(address: str) -> str:
    return f"{_config().get('REDIS_PREFIX') or ''}signin-failures:{address}"


def check(address: str | None) -> None:
    """Raise Throttled when ``address`` reached any limit within its window."""
    limits = _limits()
    if not limits:
        return
    address = address or "unknown"
    counts = _redis_counts(address, limits)
    if counts is None:
        counts = _database_counts(address, limits)
    if any(count >= limit.amount for count, limit in zip(counts, limits, strict=True)):
        raise Throttled(THROTTLED)


def failed(address: str | None) -> None:
    """One more failure from ``address``. The database needs nothing: the audit row is the count."""
    limits = _limits()
    client = redis_client() if limits else None
    if client is None:
        return
    now = time.time()
    key = _key(address or "unknown")
    longest = max(limit.seconds for limit in limits)
    try:
        with client.pipeline() as pipe:
            pipe.zadd(key, {f"{now:.6f}:{secrets.token_hex(4)}": now})
            pipe.zremrangebyscore(key, "-inf", now - longest)
            pipe.expire(key, longest)
            pipe.execute()
    except Exception as exc:  # any Redis trouble: the audit row still counts
        log.warning("Redis không ghi được lần đăng nhập sai (%s); dùng số đếm trong cơ sở dữ liệu", exc)


def _redis_counts(address: str, limits: tuple[Limit, ...]) -> list[int] | None:
    client = redis_client()
    if client is None:
        return None
    now = time.time()
    try:
        with client.pipeline() as pipe:
            for limit in limits:
                pipe.zcount(_key(address), now - limit.seconds, "+inf")
            return [int(n) for n in pipe.execute()]
    except Exception as exc:  # Redis down must not stop sign-in: count in the database
        log.warning("Redis không trả lời (%s); đếm lần đăng nhập sai trong cơ sở dữ liệu", exc)
        return None


def _database_counts(address: str, limits: tuple[Limit, ...]) -> list[int]:
    """One query over the audit rows of the longest window (indexed by time)."""
    now = utcnow()
    starts = [now - timedelta(seconds=limit.seconds) for limit in limits]
    row = session.execute(
        select(*(func.coalesce(func.sum(case((AuditEntry.occurred_at > start, 1), else_=0)), 0) for start in starts))
        .where(AuditEntry.occurred_at > min(starts), AuditEntry.action.in_(FAILURE_ACTIONS),
               AuditEntry.ip == address)
    ).one()
    return [int(n) for n in row]
