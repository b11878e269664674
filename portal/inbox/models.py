"""The inbox's two tables (issue 18 item 1): every work item now waiting, and its counts per owner, queue and
due day, both written in the transaction that moves the work (``maintain``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime

NO_DAY = date(9999, 12, 31)  # the counters' day for items without a limit (a key column is never NULL)


class WorkItem(Base):
    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("source", "subject_id", "owner_kind", "owner_id", "queue", name="uq_work_items_key"),
        # the inbox: an owner's items, earliest limit first
        Index("ix_work_items_owner", "owner_kind", "owner_id", "due_day", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    owner_kind: Mapped[str] = mapped_column(String(8))
    owner_id: Mapped[int] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(40))
    due_day: Mapped[date | None] = mapped_column(Date)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    urgency: Mapped[int] = mapped_column(SmallInteger, default=0)
    title: Mapped[str] = mapped_column(String(300), default="")
    reference: Mapped[str] = mapped_column(String(120), default="")
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkCount(Base):
    __tablename__ = "work_counts"

    owner_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_day: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
