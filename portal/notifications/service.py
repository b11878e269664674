"""Notifications: written in the transaction of the change that causes them, read by the bell and the page, and
sent by e-mail through the outbox when the person asked for it (each at once, or a daily digest)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from portal import audit
from portal.auth.models import Position, PositionRole, Role, User, UserStatus
from portal.db import session, utcnow
from portal.errors import NotFound, ValidationFailed
from portal.notifications.models import Notification, NotificationSetting
from portal.timeutil import format_datetime, local_today

KINDS = {
    "to_act": "Có việc chờ bạn xử lý",
    "assigned": "Được giao xử lý văn bản",
    "returned": "Bị trả lại",
    "approved": "Dự thảo đã được duyệt",
    "signed": "Văn bản đã được ký số",
    "issued": "Văn bản đã phát hành",
    "arrived": "Văn bản đến mới",
    "reminder": "Nhắc việc, đôn đốc",
    "deadline": "Sắp đến hạn, quá hạn",
    "recall_request": "Yêu cầu thu hồi văn bản",
    "recipient_status": "Nơi nhận trả lời",
}
DEFAULT_EMAIL = frozenset({"assigned", "returned", "signed", "recall_request", "deadline"})
BELL_CAP = 99


def _insert():  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def notify(user_ids: Iterable[int | None], kind: str, title: str, url: str | None, key: str) -> int:
    """One notice per person for one event (``key`` names the event; a repeat is ignored). Returns how many were
    new. E-mails go through the outbox in the same transaction for those who asked for this kind."""
    assert kind in KINDS, kind
    now = utcnow()
    new = 0
    for user_id in dict.fromkeys(u for u in user_ids if u):
        result = session.execute(
            _insert()(Notification).values(user_id=user_id, kind=kind, key=key[:150],
                                           title=" ".join(title.split())[:300], url=(url or None) and url[:300],
                                           created_at=now, emailed=False)
            .on_conflict_do_nothing(index_elements=["user_id", "key"])
            .returning(Notification.id))
        if result.scalar_one_or_none() is None:  # nothing returned: this person was told of this event already
            continue
        new += 1
        _email_now(user_id, kind, title, url, key)
    return new


def _wants(user_id: int) -> tuple[frozenset[str], bool]:
    row = session.get(NotificationSetting, user_id)
    if row is None:
        return DEFAULT_EMAIL, False
    return frozenset(k for k in row.email_kinds.split(",") if k), row.digest


def _base_url() -> str:
    return str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")


def _email_now(user_id: int, kind: str, title: str, url: str | None, key: str) -> None:
    from portal.outbox import service as outbox

    kinds, digest = _wants(user_id)
    user = session.get(User, user_id)
    if kind not in kinds or digest or user is None or not user.email or user.status != UserStatus.ACTIVE:
        return
    if outbox.usable_address(user.email) is None:
        return
    link = f"\n\nMở trên hệ thống: {_base_url()}{url}" if url else ""
    body = f"Kính gửi {user.full_name},\n\n{title}{link}\n\nThư này gửi tự động từ Hệ thống quản lý văn bản và " \
           "điều hành; không trả lời thư này. Đổi loại thông báo nhận qua thư: trang Thông báo → Cài đặt."
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in key)[:120]
    outbox.add("notification", user.email, f"[QLVB] {title}", body, f"n.{user_id}.{safe}", user_id=user_id)
    session.execute(update(Notification).where(Notification.user_id == user_id, Notification.key == key[:150])
                    .values(emailed=True))


# --- who ----------------------------------------------------------------------------------------------------


def holders_of_role(organisation_id: int, *roles: Role, unit_id: int | None = None) -> list[int]:
    """The active people holding one of ``roles`` in an organisation (or one of its units)."""
    today = local_today()
    stmt = (select(Position.user_id).join(PositionRole, PositionRole.position_id == Position.id)
            .join(User, User.id == Position.user_id)
            .where(Position.organisation_id == organisation_id, PositionRole.role.in_(roles),
                   User.status == UserStatus.ACTIVE,
                   or_(Position.valid_from.is_(None), Position.valid_from <= today),
                   or_(Position.valid_to.is_(None), Position.valid_to >= today)))
    if unit_id is not None:
        stmt = stmt.where(Position.unit_id == unit_id)
    return list(dict.fromkeys(session.execute(stmt).scalars()))


# --- the bell, the page, the settings ----------------------------------------------------------------------


def unread_count(user: User) -> int:
    """Unread notices (capped: the bell shows 99+)."""
    inner = select(Notification.id).where(Notification.user_id == user.id, Notification.read_at.is_(None)) \
        .limit(BELL_CAP + 1).subquery()
    return int(session.execute(select(func.count()).select_from(inner)).scalar_one())


def recent(user: User, limit: int = 100) -> list[Notification]:
    return list(session.execute(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id.desc()).limit(limit)).scalars())


def mark_read(user: User, notification_id: int) -> Notification:
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound()
    if row.read_at is None:
        row.read_at = utcnow()
    return row


def mark_all_read(user: User) -> int:
    result = session.execute(update(Notification).where(Notification.user_id == user.id,
                                                        Notification.read_at.is_(None)).values(read_at=utcnow()))
    return int(result.rowcount or 0)


def settings_of(user: User) -> tuple[frozenset[str], bool]:
    return _wants(user.id)


def save_settings(user: User, kinds: Iterable[str], digest: bool) -> None:
    chosen = [k for k in dict.fromkeys(kinds) if k]
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise ValidationFailed({"kinds": "Loại thông báo không hợp lệ."})
    row = session.get(NotificationSetting, user.id)
    if row is None:
        row = NotificationSetting(user_id=user.id)
        session.add(row)
    row.email_kinds = ",".join(chosen)
    row.digest = bool(digest)
    audit.record(user, "notifications.settings", details={"kinds": chosen, "digest": bool(digest)})


def send_digests(now: datetime | None = None) -> int:
    """Once a day: for each person who chose the digest, one e-mail listing the notices of their chosen kinds not
    yet sent by e-mail (read ones included: the digest is a record). Returns how many e-mails were queued."""
    from portal.outbox import service as outbox

    now = now or utcnow()
    since = now - timedelta(days=2)
    people = session.execute(select(NotificationSetting).where(NotificationSetting.digest.is_(True))).scalars().all()
    sent = 0
    for setting in people:
        kinds = [k for k in setting.email_kinds.split(",") if k]
        user = session.get(User, setting.user_id)
        if not kinds or user is None or not user.email or outbox.usable_address(user.email) is None:
            continue
        rows = session.execute(select(Notification).where(
            Notification.user_id == user.id, Notification.emailed.is_(False), Notification.kind.in_(kinds),
            Notification.created_at >= since).order_by(Notification.id)).scalars().all()
        if not rows:
            continue
        lines = "\n".join(f"- {format_datetime(r.created_at)}: {r.title}" for r in rows)
        day = local_today().strftime("%d/%m/%Y")
        outbox.add("notification_digest", user.email, f"[QLVB] Tổng hợp thông báo ngày {day} ({len(rows)})",
                   f"Kính gửi {user.full_name},\n\nCác thông báo trong ngày:\n{lines}\n\n"
                   "Thư gửi tự động; không trả lời.",
                   f"digest.{user.id}.{local_today().isoformat()}", user_id=user.id)
        session.execute(update(Notification).where(and_(Notification.id.in_([r.id for r in rows])))
                        .values(emailed=True))
        sent += 1
    return sent
