"""Weekly work schedules (lịch công tác tuần, SPEC §9).

A ``Calendar`` belongs to an organisation (the leaders' lịch cơ quan, ``unit_id`` NULL) or to one
of its units. A ``Week`` is one Monday of one calendar and carries the workflow state; its
entries are the rows of the printed schedule. After publication nothing is deleted: a cancelled
entry stays, marked, and a changed one keeps the values readers saw (``previous``), so the page
and the PDF can strike them through. ``uid`` and ``sequence`` are what calendar programs see
(RFC 5545): the UID never changes, SEQUENCE goes up with every change they must pick up.
"""

from __future__ import annotations

import enum
import json
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import Base, UTCDateTime, str_enum, utcnow
from portal.orgs.models import Organisation


class WeekState(enum.StrEnum):
    DRAFT = "du_thao"
    SUBMITTED = "cho_duyet"
    APPROVED = "da_duyet"
    PUBLISHED = "da_cong_bo"

    @property
    def label(self) -> str:
        return {"du_thao": "Dự thảo", "cho_duyet": "Chờ duyệt", "da_duyet": "Đã duyệt",
                "da_cong_bo": "Đã công bố"}[self.value]


class ChangeMark(enum.StrEnum):
    ADDED = "bo_sung"
    CHANGED = "dieu_chinh"
    CANCELLED = "huy"

    @property
    def label(self) -> str:
        return {"bo_sung": "Bổ sung", "dieu_chinh": "Điều chỉnh", "huy": "Hủy"}[self.value]


class Calendar(Base):
    __tablename__ = "schedule_calendars"
    __table_args__ = (Index("ix_schedule_calendars_organisation_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # "<organisation>" or "<organisation>/<unit>": unique, because NULL units never collide in SQL
    key: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    unit: Mapped[Organisation | None] = relationship(foreign_keys=[unit_id])

    @property
    def name(self) -> str:
        if self.unit is not None:
            return f"Lịch công tác {self.unit.name}"
        return f"Lịch công tác {self.organisation.name}"


class Week(Base):
    __tablename__ = "schedule_weeks"
    __table_args__ = (UniqueConstraint("calendar_id", "monday"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("schedule_calendars.id"))
    monday: Mapped[date] = mapped_column(Date)
    state: Mapped[WeekState] = mapped_column(str_enum(WeekState, 12), default=WeekState.DRAFT)
    # 0 until published; 1 at publication; +1 for every change that goes live afterwards
    revision: Mapped[int] = mapped_column(Integer, default=0)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_comment: Mapped[str | None] = mapped_column(String(1000))

    calendar: Mapped[Calendar] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id])
    entries: Mapped[list[Entry]] = relationship(back_populates="week", order_by="Entry.id")

    @property
    def is_published(self) -> bool:
        return self.state == WeekState.PUBLISHED


entry_presiding = Table(
    "schedule_entry_presiding", Base.metadata,
    Column("entry_id", ForeignKey("schedule_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)
entry_participants = Table(
    "schedule_entry_participants", Base.metadata,
    Column("entry_id", ForeignKey("schedule_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True),
)
entry_units = Table(
    "schedule_entry_units", Base.metadata,
    Column("entry_id", ForeignKey("schedule_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("organisations.id"), primary_key=True),
)


class Entry(Base):
    __tablename__ = "schedule_entries"
    __table_args__ = (Index("ix_schedule_entries_week_id", "week_id"),
                      Index("ix_schedule_entries_day", "day"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week_id: Mapped[int] = mapped_column(ForeignKey("schedule_weeks.id"))
    day: Mapped[date] = mapped_column(Date)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    start_time: Mapped[time | None] = mapped_column(Time)  # local (Asia/Ho_Chi_Minh) wall time
    end_time: Mapped[time | None] = mapped_column(Time)
    content: Mapped[str] = mapped_column(String(1000))
    presiding_text: Mapped[str | None] = mapped_column(String(300))
    participants_text: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(200))
    preparing_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    notes: Mapped[str | None] = mapped_column(String(500))
    change_mark: Mapped[ChangeMark | None] = mapped_column(str_enum(ChangeMark, 12))
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # JSON of the displayed values as readers last saw them before the first change after
    # publication; the page strikes through those that differ from the current ones
    previous: Mapped[str | None] = mapped_column(Text)
    # JSON list of entry ids this one overlapped when saved: the editor's recorded override
    conflicts: Mapped[str | None] = mapped_column(Text)
    uid: Mapped[str] = mapped_column(String(80), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    week: Mapped[Week] = relationship(back_populates="entries")
    preparing_unit: Mapped[Organisation | None] = relationship(foreign_keys=[preparing_unit_id])
    presiding: Mapped[list[User]] = relationship(secondary=entry_presiding, order_by=User.full_name)
    participants: Mapped[list[User]] = relationship(secondary=entry_participants, order_by=User.full_name)
    participant_units: Mapped[list[Organisation]] = relationship(secondary=entry_units,
                                                                 order_by=Organisation.name)

    @property
    def cancelled(self) -> bool:
        return self.change_mark == ChangeMark.CANCELLED

    @property
    def previous_values(self) -> dict[str, Any]:
        return json.loads(self.previous) if self.previous else {}


class FeedKind(enum.StrEnum):
    PERSON = "ca_nhan"
    ORGANISATION = "co_quan"

    @property
    def label(self) -> str:
        return {"ca_nhan": "Lịch của tôi", "co_quan": "Lịch cơ quan"}[self.value]


class FeedToken(Base):
    """A private iCalendar address. Only the SHA-256 of the secret is kept: the address is shown
    once, and a database dump cannot be turned into working feed URLs."""

    __tablename__ = "schedule_feed_tokens"
    __table_args__ = (Index("ix_schedule_feed_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[FeedKind] = mapped_column(str_enum(FeedKind, 10))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()
