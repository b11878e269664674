"""Gửi lại: provincial IT puts a message the outbox gave up on (*failed*) back in the queue, once.

- **Who**: provincial IT (Quản trị hệ thống) only. The outbox is the province's: a row carries no organisation,
  and the rows hold every organisation's documents and people's addresses, so an organisation's admin is
  refused (403) like anyone else.
- **Once**: the row is locked and re-read (``workflow.relock``: ``FOR UPDATE`` on PostgreSQL, SQLite's
  ``BEGIN IMMEDIATE``), and the ``RESEND`` table lets only a *failed* message through. A double click, or two
  admins at the same moment, finds it queued (or sending, or sent) and is told what happened (``AlreadyDone``);
  the row and its key stay one, so the drain sends one e-mail, with the same Message-ID.
- **What changes**: state queued, due now, attempts back to 0 (a full new series of tries: with the old count
  the first new failure would give up at once), the last error cleared. What they were is in the audit row
  (``outbox.resend``), in the same transaction.
- **Never what is no longer true** (:func:`stale`): a message queued more than :data:`STALE_AFTER` ago, one
  whose files are gone from storage, and, by kind, a lockout notice for an account no longer locked, a reset or
  expiry notice overtaken by a new password, an expiry notice past its date, a document since recalled. The
  answer says why (422) and nothing changes; the action that made the message can make a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from portal import audit, storage
from portal.audit import AuditEntry
from portal.auth.models import Role, User, UserStatus
from portal.db import session, utcnow
from portal.documents.models import OutgoingDocument, OutgoingStatus
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.outbox import attachments, messages
from portal.outbox.models import MessageState, OutboxMessage
from portal.timeutil import format_datetime, to_local
from portal.workflow import Workflow, relock, step

STALE_AFTER = timedelta(days=7)  # a notice a week old misleads more than it informs
REFUSAL = "Chỉ quản trị hệ thống (CNTT cấp tỉnh) được xem và gửi lại thư trong hộp thư đi."
M = MessageState


def can_manage(actor: User | None) -> bool:
    return actor is not None and actor.has_role(Role.SYSTEM_ADMIN)


def get(actor: User, message_id: int) -> OutboxMessage:
    """The message, for the one who may see the outbox (403 first: nobody else learns which ids exist)."""
    if not can_manage(actor):
        raise NotAllowed("outbox.view", REFUSAL)
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound()
    return message


# --- what a repeat is told ---------------------------------------------------------------------------------

def last_resend(message: OutboxMessage) -> AuditEntry | None:
    return session.execute(
        select(AuditEntry).where(AuditEntry.object_type == OutboxMessage.__tablename__,
                                 AuditEntry.object_id == str(message.id), AuditEntry.action == "outbox.resend")
        .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()


def _already(_user: User, message: OutboxMessage) -> str | None:
    to = message.recipient
    if message.state == M.SENT:
        return f"Thư tới {to} đã được gửi lúc {format_datetime(message.sent_at)}; không gửi lại lần nữa."
    if message.state == M.SENDING:
        return f"Thư tới {to} đang được gửi (lần thử {message.attempts}); không xếp thêm bản nào."
    if message.state == M.QUEUED:
        last = last_resend(message)
        if last is not None:
            at = to_local(last.occurred_at)
            by = f" bởi {last.actor_name}" if last.actor_name else ""
            return (f"Thư tới {to} đã được xếp gửi lại lúc {at:%H:%M} ngày {at:%d/%m/%Y}{by} và đang chờ gửi; "
                    "không xếp thêm bản nào.")
        return (f"Thư tới {to} đang chờ gửi (lần thử tới lúc {format_datetime(message.next_attempt_at)}); "
                "không cần gửi lại.")
    return None


RESEND: Workflow[OutboxMessage] = Workflow("outbox", {
    "resend": step("resend", "Gửi lại thư", {M.FAILED}, lambda user, _m: can_manage(user), to=M.QUEUED,
                   done=_already, refusal=REFUSAL),
}, state=lambda m: m.state, label=lambda m: m.state.label)


# --- content no longer true --------------------------------------------------------------------------------

Rule = Callable[[OutboxMessage, datetime], "str | None"]


def _person(message: OutboxMessage) -> User | None:
    return session.get(User, message.user_id) if message.user_id else None


def _lock_over(message: OutboxMessage, now: datetime) -> str | None:
    user = _person(message)
    if user is None:
        return None
    if user.status != UserStatus.LOCKED or (user.locked_until is not None and user.locked_until <= now):
        return "tài khoản đã được mở khóa (hoặc hết thời gian tạm khóa), thư báo khóa không còn đúng."
    return None


def _new_password(message: OutboxMessage, _now: datetime) -> str | None:
    user = _person(message)
    changed = user.password_changed_at if user is not None else None
    if changed is not None and changed > message.created_at:
        return (f"mật khẩu của người nhận đã được đổi (hoặc đặt lại) lúc {format_datetime(changed)}, "
                "sau khi thư được xếp.")
    return None


def _expiry_passed(message: OutboxMessage, now: datetime) -> str | None:
    expires = messages.expiry_of(message.key)
    if expires is not None and expires <= now:
        return f"mật khẩu đã hết hạn lúc {format_datetime(expires)}, thư báo “sắp hết hạn” không còn đúng."
    return _new_password(message, now)


def outgoing_of(message: OutboxMessage) -> int | None:
    """The issued document a ``document.<outgoing id>.<recipient id>`` key names (``portal.exchange.mail.key_of``)."""
    parts = message.key.split(".")
    return int(parts[1]) if len(parts) == 3 and parts[1].isascii() and parts[1].isdigit() else None


def _recalled(message: OutboxMessage, _now: datetime) -> str | None:
    outgoing_id = outgoing_of(message)
    out = session.get(OutgoingDocument, outgoing_id) if outgoing_id else None
    if out is not None and out.status == OutgoingStatus.RECALLED:
        return f"văn bản đã bị thu hồi lúc {format_datetime(out.recalled_at)}; không gửi văn bản đã thu hồi."
    return None


RULES: dict[str, Rule] = {
    "account_locked": _lock_over,
    "password_reset": _new_password,
    "password_expiring": _expiry_passed,
    "document": _recalled,
}


def _files_gone(message: OutboxMessage) -> str | None:
    gone = []
    for item in attachments.decode(message.attachments):
        try:
            if not storage.object_path(item.sha256).is_file():
                gone.append(item.filename)
        except storage.StorageError:  # the list was changed into something unreadable
            return "danh sách tệp đính kèm của thư không đọc được."
    if gone:
        return f"tệp đính kèm không còn trong kho lưu trữ: {', '.join(gone)}."
    return None


def stale(message: OutboxMessage, now: datetime | None = None) -> str | None:
    """Why the message must not be sent again (Vietnamese, to follow "Không gửi lại: "), or None."""
    now = now or utcnow()
    if now - message.created_at > STALE_AFTER:
        return (f"thư được xếp lúc {format_datetime(message.created_at)}, đã quá {STALE_AFTER.days} ngày nên nội "
                "dung có thể không còn đúng; nếu vẫn cần, hãy thực hiện lại thao tác tạo ra thư.")
    rule = RULES.get(message.kind)
    return _files_gone(message) or (rule(message, now) if rule else None)


def warm(rows: list[OutboxMessage]) -> None:
    """Load the people and documents the rules read for a page of rows in two statements, so that
    :func:`stale` per row finds them in the session instead of asking once per row."""
    people = {m.user_id for m in rows if m.user_id and m.kind in RULES}
    documents = {o for m in rows if m.kind == "document" and (o := outgoing_of(m))}
    if people:
        session.execute(select(User).where(User.id.in_(people))).scalars().all()
    if documents:
        session.execute(select(OutgoingDocument).where(OutgoingDocument.id.in_(documents))).scalars().all()


# --- the step ----------------------------------------------------------------------------------------------

def resend(actor: User, message: OutboxMessage, now: datetime | None = None) -> OutboxMessage:
    """Queue a failed message again (see the module's docstring). Raises NotAllowed, AlreadyDone (a repeat)
    or ValidationFailed (``resend``: the content is no longer true)."""
    message = relock(session, message)
    RESEND.guard(actor, "resend", message)
    now = now or utcnow()
    reason = stale(message, now)
    if reason:
        raise ValidationFailed({"resend": f"Không gửi lại thư tới {message.recipient}: {reason}"})
    before = {"attempts": message.attempts, "last_error": (message.last_error or "")[:300]}
    message.state, message.attempts, message.next_attempt_at, message.last_error = M.QUEUED, 0, now, None
    session.flush()
    audit.record(actor, "outbox.resend", message,
                 organisation_id=actor.organisation.id if actor.organisation else None,
                 details={"key": message.key, "kind": message.kind, "recipient": message.recipient, **before})
    return message
