"""Prepared documents (register books and reports) built in the background: the person who asked
sees the progress and downloads the PDF when it is ready (issue 6)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, str_enum, utcnow
from portal.jobs.models import Job


class JobStatus(enum.StrEnum):
    QUEUED = "cho"
    RUNNING = "dang_lam"
    DONE = "xong"
    FAILED = "loi"

    @property
    def label(self) -> str:
        return {"cho": "Đang chờ", "dang_lam": "Đang tạo", "xong": "Đã xong", "loi": "Lỗi"}[self.value]


class ReportJob(Base):
    __tablename__ = "report_jobs"
    __table_args__ = (Index("ix_report_jobs_requested_by", "requested_by_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    params: Mapped[str] = mapped_column(String(1000), default="{}")  # JSON: year, dates, book, period…
    title: Mapped[str] = mapped_column(String(300), default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, 10), default=JobStatus.QUEUED)
    done_rows: Mapped[int] = mapped_column(Integer, default=0)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    file_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    filename: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(500))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))  # the queue's row of a big book
    queue_job: Mapped[Job | None] = relationship(Job)  # attempts and the last error, for the job page
