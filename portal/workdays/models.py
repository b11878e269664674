"""The calendar's one table: the days IT adds per year on top of weekends and the public holidays of
the ``holidays`` package (SPEC §16): a day off (nghỉ bù, a day off by decision) or a working day (làm
bù, e.g. a Saturday worked to bridge a holiday). One row per day; the row decides over the package."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, str_enum, utcnow


class OverrideKind(enum.StrEnum):
    DAY_OFF = "nghi"
    WORKING = "lam_bu"

    @property
    def label(self) -> str:
        return {"nghi": "Ngày nghỉ", "lam_bu": "Ngày làm bù"}[self.value]


class WorkdayOverride(Base):
    __tablename__ = "workday_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[OverrideKind] = mapped_column(str_enum(OverrideKind, 8))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
