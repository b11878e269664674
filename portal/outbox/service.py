"""Queueing a message: one row, in the caller's transaction (the transactional outbox).

The row is written by the same transaction as the change that causes it, so a change that rolls
back sends nothing, and a change that commits always leaves its message behind, even if the
process dies a moment later. Nothing is sent here: the drain (``drain.py``) sends committed rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from portal.db import session, utcnow
from portal.outbox import attachments as files
from portal.outbox.attachments import Attachment
from portal.outbox.models import MessageState, OutboxMessage

# the key names the event (``account-locked.12.20261207T101500123456``): it is unique in the table
# and becomes the e-mail's Message-ID, so it keeps to the characters a Message-ID allows
KEY = re.compile(r"[A-Za-z0-9._-]{1,150}")
ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


def usable_address(text: str | None) -> str | None:
    """The address the outbox accepts (trimmed), or None: the one rule for every caller that takes an
    address from a person or a directory and must say so before queueing."""
    to = (text or "").strip()
    return to if ADDRESS.fullmatch(to) and len(to) <= 254 else None


def add(kind: str, to: str, subject: str, body: str, key: str, *, user_id: int | None = None,
        attachments: Iterable[Attachment] | None = None) -> bool:
    """Queue an e-mail; True when queued now, False when the same key was queued before (the same
    event reported twice is one message, with what the first one carried). ``attachments`` name files
    already in ``portal.storage``. Raises ValueError on a malformed key, address or attachment: those
    are the caller's bugs, never a person's input."""
    if not KEY.fullmatch(key):
        raise ValueError(f"Khóa thư không hợp lệ: {key!r}")
    address = usable_address(to)
    if address is None:
        raise ValueError(f"Địa chỉ nhận không hợp lệ: {to!r}")
    carried = files.encode(files.checked(attachments or ()))
    subject = " ".join(subject.split())[:300]  # one line: a newline in a header is an injection
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    result = session.execute(
        insert(OutboxMessage)
        .values(key=key, kind=kind[:40], channel="email", recipient=address, subject=subject, body=body,
                attachments=carried, user_id=user_id, state=MessageState.QUEUED, attempts=0, next_attempt_at=now,
                created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(OutboxMessage.id))
    return result.scalar_one_or_none() is not None  # nothing returned: the key was there already


def get(key: str) -> OutboxMessage | None:
    return session.execute(select(OutboxMessage).where(OutboxMessage.key == key)).scalar_one_or_none()


def recent(limit: int = 200, state: MessageState | None = None) -> list[OutboxMessage]:
    """The newest messages first, for the administrators' page."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    return list(session.execute(query).scalars())
