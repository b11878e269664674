"""Sending what the outbox holds: ``drain_once()`` runs every minute on the job queue (or
``flask portal outbox-drain``). Call it outside a request: it commits its own short transactions.

Each message goes through three steps, each its own transaction:

1. **claim**: the oldest due row (state queued, or sending with its lease run out) is locked
   (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two drains take different rows; SQLite's
   ``BEGIN IMMEDIATE`` serialises them), set to *sending* with ``attempts + 1`` and a lease of ten
   minutes, and committed before anything is sent;
2. **send** by SMTP, outside any transaction (no row or database lock is held while the network
   is slow);
3. **record**: *sent* with the time, or the error with the next try after 1, 2, 4 … 64 minutes;
   after :data:`MAX_ATTEMPTS` tries, or at once when the server refuses the message for good
   (5xx), *failed*.

The trade-off, stated: a crash between 2 and 3 (the server has the message, the row still says
*sending*) cannot be told apart from a crash before 2. When the lease runs out the message is sent
again, never silently: the row's ``last_error`` says the previous try was interrupted, and the
e-mail carries the same Message-ID (the outbox key), so a duplicate is recognisable and mail systems
that deduplicate drop it. The other choice, never retrying an interrupted send, would lose the
message with no one knowing; a lockout notice that arrives twice is the lesser harm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from portal.db import session, utcnow
from portal.outbox import attachments, sender
from portal.outbox.models import MessageState, OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # 1 + 2 + 4 + … + 64 minutes: about two hours of an unreachable server
LEASE = timedelta(minutes=10)  # a send that has not finished by then is taken to have crashed
INTERRUPTED = ("Lần gửi trước bị gián đoạn trước khi ghi nhận kết quả; nếu thư đã đến, bản gửi lại có cùng "
               "Message-ID.")


@dataclass
class DrainResult:
    sent: list[str] = field(default_factory=list)  # keys
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    configured: bool = True

    def message(self) -> str:
        if not self.configured:
            return "Chưa cấu hình máy chủ thư (PORTAL_SMTP_HOST): thư vẫn chờ trong hộp thư đi."
        return (f"Đã gửi {len(self.sent)} thư; {len(self.retrying)} thư sẽ thử lại; "
                f"{len(self.failed)} thư gửi không được.")


def backoff(attempts: int) -> timedelta:
    """1 minute after the first failure, then 2, 4, … (attempts counts the tries made)."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def drain_once(now: datetime | None = None, limit: int = 100) -> DrainResult:
    """Send every due message, at most ``limit``. ``now`` is for tests that move the clock."""
    settings = sender.SmtpSettings.from_config(current_app.config)
    result = DrainResult(configured=settings.enabled)
    if not settings.enabled:
        return result
    for _ in range(limit):
        at = now or utcnow()
        claimed = _claim(at)
        if claimed is None:
            break
        message, attempts = claimed
        try:
            sender.send(message, settings, at)
        except sender.PermanentFailure as exc:
            _record_failure(message.key, str(exc), attempts, at, permanent=True)
            result.failed.append(message.key)
        except Exception as exc:  # OSError, SMTPException, or a bug: recorded and retried, never stuck
            final = _record_failure(message.key, f"{type(exc).__name__}: {exc}", attempts, at)
            (result.failed if final else result.retrying).append(message.key)
        else:
            _record_sent(message.key, at)
            result.sent.append(message.key)
    return result


def _claim(now: datetime) -> tuple[sender.Outgoing, int] | None:
    query = (select(OutboxMessage)
             .where(OutboxMessage.state.in_([MessageState.QUEUED, MessageState.SENDING]),
                    OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    try:
        row = session.execute(query).scalar_one_or_none()
        while row is not None and row.state == MessageState.SENDING and row.attempts >= MAX_ATTEMPTS:
            row.state, row.last_error = MessageState.FAILED, INTERRUPTED  # its last try was interrupted
            session.flush()
            row = session.execute(query).scalar_one_or_none()
        if row is None:
            session.commit()
            return None
        if row.state == MessageState.SENDING:
            log.warning("Thư %s: lần gửi trước bị gián đoạn; gửi lại (cùng Message-ID)", row.key)
            row.last_error = INTERRUPTED
        row.attempts += 1
        row.state = MessageState.SENDING
        row.next_attempt_at = now + LEASE
        claimed = sender.Outgoing(key=row.key, recipient=row.recipient, subject=row.subject, body=row.body,
                                  attachments=attachments.decode(row.attachments))
        attempts = row.attempts
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return claimed, attempts


def _record_sent(key: str, now: datetime) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.key == key)
                    .values(state=MessageState.SENT, sent_at=now))
    session.commit()


def _record_failure(key: str, error: str, attempts: int, now: datetime, *, permanent: bool = False) -> bool:
    """Returns True when the message is given up."""
    final = permanent or attempts >= MAX_ATTEMPTS
    log.warning("Thư %s: lần gửi %d không được: %s", key, attempts, error)
    values = {"state": MessageState.FAILED} if final else \
        {"state": MessageState.QUEUED, "next_attempt_at": now + backoff(attempts)}
    session.execute(update(OutboxMessage).where(OutboxMessage.key == key).values(last_error=error[:500], **values))
    session.commit()
    return final
