"""Notifications: written in the transaction of the change that causes them, read by the bell and the page, and
sent by e-mail through the outbox when the person asked for it (each at once, or a daily digest)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

KINDS = {  # every kind, in the order the settings list them
    "to_act": "Có việc chờ bạn xử lý",
    "assigned": "Được giao xử lý văn bản",
    "returned": "Bị trả lại",
    "approved": "Dự thảo đã được duyệt",
    "signed": "Văn bản đã được ký số",
    "issued": "Văn bản đã phát hành",
    "arrived": "Văn bản đến mới",
    "reminder": "Nhắc việc, đôn đốc",
    "deadline": "Sắp đến hạn",
    "overdue": "Quá hạn",
    "extension": "Gia hạn xử lý (đề nghị, ý kiến trả lời)",
    "recall_request": "Yêu cầu thu hồi văn bản",
    "replaced": "Văn bản bị thay thế, phần việc đã đóng",
    "recipient_status": "Nơi nhận trả lời, báo trạng thái",
    "account_locked": "Tài khoản bị khóa",
}
# kinds whose e-mail another path always sends (the lockout notice, a security message nobody turns off): the
# notice records whether it went and never sends a second one
EMAILED_ELSEWHERE = frozenset({"account_locked"})
CHOOSABLE = {k: v for k, v in KINDS.items() if k not in EMAILED_ELSEWHERE}
MODES = {"now": "Gửi thư ngay", "digest": "Gộp vào thư tổng hợp hằng ngày", "none": "Không gửi thư"}
# an extension request holds the handler until whoever set the deadline answers, and the answer moves the deadline:
# both by e-mail unless the person says otherwise
DEFAULT_EMAIL = frozenset({"assigned", "returned", "signed", "recall_request", "deadline", "overdue", "extension"})
BELL_CAP = 99


def _insert():  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def notify(user_ids: Iterable[int | None], kind: str, title: str, url: str | None, key: str, *,
           emailed: bool = False) -> int:
    """One notice per person for one event (``key`` names the event; a repeat is ignored). Returns how many were
    new. E-mails go through the outbox in the same transaction for those who asked for this kind at once;
    ``emailed``: the e-mail of a kind sent elsewhere went (it is recorded, never sent again from here)."""
    assert kind in KINDS, kind
    now = utcnow()
    new = 0
    for user_id in dict.fromkeys(u for u in user_ids if u):
        result = session.execute(
            _insert()(Notification).values(user_id=user_id, kind=kind, key=key[:150],
                                           title=" ".join(title.split())[:300], url=(url or None) and url[:300],
                                           created_at=now, emailed=emailed and kind in EMAILED_ELSEWHERE)
            .on_conflict_do_nothing(index_elements=["user_id", "key"])
            .returning(Notification.id))
        if result.scalar_one_or_none() is None:  # nothing returned: this person was told of this event already
            continue
        new += 1
        if kind not in EMAILED_ELSEWHERE:
            _email_now(user_id, kind, title, url, key)
    return new


def _modes(user_id: int) -> dict[str, str]:
    """Kind → "now" or "digest", for the kinds this person gets by e-mail (the others: none). Stored as
    comma-separated ``kind`` (at once) and ``kind:digest`` tokens; ``digest`` says whether any kind goes in the
    daily digest, the digest job's one question."""
    row = session.get(NotificationSetting, user_id)
    if row is None:
        return dict.fromkeys(sorted(DEFAULT_EMAIL), "now")
    modes = {}
    for token in row.email_kinds.split(","):
        kind, _, mode = token.partition(":")
        if kind in CHOOSABLE:
            modes[kind] = "digest" if mode == "digest" else "now"
    return modes


def _base_url() -> str:
    return str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")


def _email_now(user_id: int, kind: str, title: str, url: str | None, key: str) -> None:
    from portal.outbox import service as outbox

    user = session.get(User, user_id)
    if _modes(user_id).get(kind) != "now" or user is None or not user.email or user.status != UserStatus.ACTIVE:
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


def _holders(*roles: Role):  # type: ignore[no-untyped-def]
    today = local_today()
    return (select(Position.organisation_id, Position.user_id)
            .join(PositionRole, PositionRole.position_id == Position.id).join(User, User.id == Position.user_id)
            .where(PositionRole.role.in_(roles), User.status == UserStatus.ACTIVE,
                   or_(Position.valid_from.is_(None), Position.valid_from <= today),
                   or_(Position.valid_to.is_(None), Position.valid_to >= today)))


def holders_of_role(organisation_id: int, *roles: Role, unit_id: int | None = None) -> list[int]:
    """The active people holding one of ``roles`` in an organisation (or one of its units)."""
    stmt = _holders(*roles).where(Position.organisation_id == organisation_id)
    if unit_id is not None:
        stmt = stmt.where(Position.unit_id == unit_id)
    return list(dict.fromkeys(user_id for _, user_id in session.execute(stmt)))


def holders_by_organisation(*roles: Role) -> dict[int, list[int]]:
    """Organisation → the active people holding one of ``roles`` there, for every organisation at once."""
    found: dict[int, list[int]] = {}
    for organisation_id, user_id in session.execute(_holders(*roles).order_by(Position.organisation_id)):
        people = found.setdefault(organisation_id, [])
        if user_id not in people:
            people.append(user_id)
    return found


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


def settings_of(user: User) -> dict[str, str]:
    """Kind → "now", "digest" or "none" for every kind a person chooses."""
    modes = _modes(user.id)
    return {kind: modes.get(kind, "none") for kind in CHOOSABLE}


def save_settings(user: User, modes: Mapping[str, str | None]) -> None:
    """Each choosable kind at once, in the daily digest or not by e-mail; a kind left out is not e-mailed."""
    errors = {kind: "Loại thông báo không hợp lệ." for kind in modes if kind not in CHOOSABLE}
    errors.update({kind: "Hãy chọn gửi thư ngay, gộp thư hằng ngày hoặc không gửi thư." for kind, mode in modes.items()
                   if kind in CHOOSABLE and (mode or "none") not in MODES})
    if errors:
        raise ValidationFailed(errors)
    chosen = {kind: modes.get(kind) or "none" for kind in CHOOSABLE}
    row = session.get(NotificationSetting, user.id)
    if row is None:
        row = NotificationSetting(user_id=user.id)
        session.add(row)
    row.email_kinds = ",".join(kind if mode == "now" else f"{kind}:digest" for kind, mode in chosen.items()
                               if mode != "none")
    row.digest = "digest" in chosen.values()
    audit.record(user, "notifications.settings", details={k: m for k, m in chosen.items() if m != "none"})


def send_digests(now: datetime | None = None) -> int:
    """Once a day: for each person who put some kinds in the digest, one e-mail listing the notices of those kinds
    not yet sent by e-mail (read ones included: the digest is a record). Returns how many e-mails were queued."""
    from portal.outbox import service as outbox

    now = now or utcnow()
    since = now - timedelta(days=2)
    people = session.execute(select(NotificationSetting).where(NotificationSetting.digest.is_(True))).scalars().all()
    sent = 0
    for setting in people:
        kinds = [k for k, mode in _modes(setting.user_id).items() if mode == "digest"]
        user = session.get(User, setting.user_id)
        if not kinds or user is None or user.status != UserStatus.ACTIVE or outbox.usable_address(user.email) is None:
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
