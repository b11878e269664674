"""The outbox's one table: a message waits here, written in the transaction of the change that
causes it, until the drain sends it (issue 15)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, LabelledEnum, UTCDateTime, str_enum, utcnow


class MessageState(LabelledEnum):
    QUEUED = "queued", "Đang chờ gửi"
    SENDING = "sending", "Đang gửi"
    SENT = "sent", "Đã gửi"
    FAILED = "failed", "Gửi không được"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    # the drain's one question: which waiting messages are due? And the sender's: what became of the document
    # e-mailed to this address (portal.exchange.mail.status_of)?
    __table_args__ = (Index("ix_outbox_messages_state_due", "state", "next_attempt_at"),
                      Index("ix_outbox_messages_recipient", "recipient"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # idempotency: the same event queued twice is one row, and the e-mail's Message-ID
    key: Mapped[str] = mapped_column(String(150), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20), default="email")
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # files it carries: JSON [{"sha256", "filename", "content_type"}, …], the bytes in portal.storage
    attachments: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(Integer)  # whom it concerns (no foreign key: a log)
    state: Mapped[MessageState] = mapped_column(str_enum(MessageState, 10), default=MessageState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
