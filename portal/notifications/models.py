"""Notifications' tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, utcnow


class Notification(Base):
    """One notice to one person. ``key`` names the event (with the person): the same event reported twice is
    one row. ``emailed`` says whether it went out by e-mail (at once or in a digest)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_notifications_user_key"),
        # the bell's one question (unread of a person) and the page (newest first)
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_user_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(150))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)


class NotificationSetting(Base):
    """Which kinds a person also wants by e-mail, each at once or in the one daily digest."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email_kinds: Mapped[str] = mapped_column(String(500), default="")  # "kind" (at once), "kind:digest"; commas
    digest: Mapped[bool] = mapped_column(Boolean, default=False)  # some kind goes in the digest: the job's filter
