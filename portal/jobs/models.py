"""The row every job the portal cares about keeps, because Huey does not: Huey removes a task from
its queue before running it and has no lease, so a consumer killed mid-task loses the task. The row
says what to run (kind, arguments), how far it got (state, attempts) and who holds it (lease owner
and expiry, renewed by the heartbeat); the reaper reads the lease to find the dead."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, UTCDateTime, str_enum, utcnow


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"queued": "Đang chờ", "running": "Đang chạy", "done": "Đã xong", "failed": "Lỗi"}[self.value]


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # the reaper's two questions: running rows whose lease expired, queued rows nobody picked up
        Index("ix_jobs_state_lease", "state", "lease_expires_at"),
        Index("ix_jobs_state_not_before", "state", "not_before"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    args: Mapped[str] = mapped_column(Text, default="{}")  # JSON object: the handler's keyword arguments
    state: Mapped[JobState] = mapped_column(str_enum(JobState, 10), default=JobState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # attempts started so far
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the back-off's next start
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(120))  # host:pid:thread of the consumer
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
