"""Files, assignments, history and reminders of incoming documents (SPEC §5.6).

An assignment is one row of the phiếu giải quyết: the agency leader assigns units or persons
(level 1), a unit head assigns persons within the unit (level 2, ``parent_id`` = the unit's row).
Each level has exactly one lead (chủ trì) among its rows.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, str_enum, utcnow


class FileRole(enum.StrEnum):
    MAIN = "main"
    ATTACHMENT = "attachment"
    RESULT = "result"

    @property
    def label(self) -> str:
        return {"main": "Tệp văn bản", "attachment": "Phụ lục, tệp đính kèm", "result": "Kết quả xử lý"}[self.value]


class AssignmentRole(enum.StrEnum):
    LEAD = "chu_tri"
    COOPERATE = "phoi_hop"
    INFORM = "de_biet"

    @property
    def label(self) -> str:
        return {"chu_tri": "Chủ trì", "phoi_hop": "Phối hợp", "de_biet": "Để biết"}[self.value]


class AssignmentState(enum.StrEnum):
    NEW = "moi"
    SEEN = "da_xem"
    WORKING = "dang_xu_ly"
    DONE = "hoan_thanh"

    @property
    def label(self) -> str:
        return {"moi": "Mới", "da_xem": "Đã xem", "dang_xu_ly": "Đang xử lý", "hoan_thanh": "Hoàn thành"}[self.value]


class AssignmentOutcome(enum.StrEnum):
    """How a row closed other than by its work being done: nobody is shown "Hoàn thành" for work they did not do."""

    REPLACED = "thay_the"  # the sender replaced the document (SPEC §5.8): the work goes on with the new one

    @property
    def label(self) -> str:
        return {"thay_the": "Đã đóng (văn bản bị thay thế)"}[self.value]


class ReminderKind(enum.StrEnum):
    REMIND = "nhac_nho"
    CRITICISE = "phe_binh"
    REVIEW = "kiem_diem"
    DUE_SOON = "sap_den_han"
    OVERDUE = "qua_han"

    @property
    def label(self) -> str:
        return {"nhac_nho": "Nhắc nhở", "phe_binh": "Phê bình", "kiem_diem": "Kiểm điểm",
                "sap_den_han": "Sắp đến hạn", "qua_han": "Quá hạn"}[self.value]


class IncomingFile(Base):
    __tablename__ = "incoming_files"
    __table_args__ = (Index("ix_incoming_files_document_id", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_documents.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    role: Mapped[FileRole] = mapped_column(str_enum(FileRole, 12))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    # signatures checked at arrival (SPEC §7.5): "Hợp lệ" / "Không hợp lệ" / "Chưa xác định", "" = unsigned
    signature_verdict: Mapped[str | None] = mapped_column(String(40))
    signature_report: Mapped[str | None] = mapped_column(Text)
    # a file received from outside whose content does not match its name or is not a kind we accept: kept
    # inert (downloaded, never opened by the portal) and flagged, not refused (issue 17)
    warning: Mapped[str | None] = mapped_column(String(300))


class Assignment(Base):
    __tablename__ = "incoming_assignments"
    __table_args__ = (
        Index("ix_incoming_assignments_document_id", "document_id"),
        Index("ix_incoming_assignments_user", "assignee_user_id", "state"),
        Index("ix_incoming_assignments_unit", "assignee_unit_id", "state"),
        Index("ix_incoming_assignments_deadline", "deadline"),
        # the unit row's children (level 2): measured at 1M documents, a unit head's page 310 → 167 ms
        Index("ix_incoming_assignments_parent_id", "parent_id"),
        # a participant's list walks these newest first and stops after one page, whatever the
        # person's history (queries.page; docs/PERFORMANCE.md)
        Index("ix_incoming_assignments_user_sort", "assignee_user_id", "sort_key"),
        Index("ix_incoming_assignments_unit_sort", "assignee_unit_id", "sort_key"),
        Index("ix_incoming_assignments_by_sort", "assigned_by_id", "sort_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_documents.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_assignments.id"))
    level: Mapped[int] = mapped_column(SmallInteger, default=1)
    assignee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[AssignmentRole] = mapped_column(str_enum(AssignmentRole, 10))
    deadline: Mapped[date | None] = mapped_column(Date)
    directive: Mapped[str | None] = mapped_column(String(2000))
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[AssignmentState] = mapped_column(str_enum(AssignmentState, 12), default=AssignmentState.NEW)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # set when the row closed (state hoan_thanh, so every "open" predicate leaves it) without its work being done
    outcome: Mapped[AssignmentOutcome | None] = mapped_column(str_enum(AssignmentOutcome, 12))
    # a copy of the document's sort key, kept equal by services.set_sort_key
    sort_key: Mapped[str] = mapped_column(String(40), default="", server_default="")

    assignee_user = relationship("User", foreign_keys=[assignee_user_id])
    assignee_unit = relationship("Organisation", foreign_keys=[assignee_unit_id])
    assigned_by = relationship("User", foreign_keys=[assigned_by_id])
    # gia hạn requests, oldest first (the page loads them with the rows: reading.assignments_of)
    extensions = relationship("Extension", order_by="Extension.id", foreign_keys="Extension.assignment_id")

    @property
    def state_label(self) -> str:
        return self.outcome.label if self.outcome is not None else self.state.label

    @property
    def assignee_name(self) -> str:
        if self.assignee_user is not None:
            return self.assignee_user.full_name
        return self.assignee_unit.name if self.assignee_unit is not None else ""


class IncomingEvent(Base):
    """One step of the processing history, in order: who, what, when, the text they wrote, and
    the status the document had afterwards (what the sender sees, SPEC §5.2)."""

    __tablename__ = "incoming_events"
    __table_args__ = (Index("ix_incoming_events_document_id", "document_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_documents.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(3))
    status_changed: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str | None] = mapped_column(String(2000))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_assignments.id"))


class Reminder(Base):
    """Đôn đốc: by a person (nhắc nhở, phê bình, kiểm điểm) or by the daily job (sắp đến hạn, quá
    hạn). The job's rows carry the day and are unique per assignment, kind and day, so running it
    twice sends nothing twice."""

    __tablename__ = "incoming_reminders"
    __table_args__ = (
        Index("ix_incoming_reminders_assignment_id", "assignment_id"),
        # for_date is set only by the daily job; NULLs never collide, so people may remind freely
        UniqueConstraint("assignment_id", "kind", "for_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("incoming_assignments.id"))
    kind: Mapped[ReminderKind] = mapped_column(str_enum(ReminderKind, 12))
    text: Mapped[str | None] = mapped_column(String(1000))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    for_date: Mapped[date | None] = mapped_column(Date)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExtensionState(enum.StrEnum):
    PENDING = "cho_y_kien"
    APPROVED = "dong_y"
    REFUSED = "tu_choi"
    CLOSED = "da_dong"  # its row closed undecided (the document was replaced); decided_by stays empty

    @property
    def label(self) -> str:
        return {"cho_y_kien": "Chờ ý kiến", "dong_y": "Đồng ý", "tu_choi": "Không đồng ý", "da_dong": "Đã đóng"}[
            self.value]


class Extension(Base):
    """Gia hạn (SPEC §5.6): the lead handler asks, with a reason and a new date, whoever set the
    deadline decides. The row keeps the deadline before and after, so the history and the reports
    read the deadline in force and count extensions."""

    __tablename__ = "incoming_extensions"
    __table_args__ = (Index("ix_incoming_extensions_assignment_id", "assignment_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("incoming_assignments.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("incoming_documents.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(1000))
    old_deadline: Mapped[date] = mapped_column(Date)
    proposed_deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[ExtensionState] = mapped_column(str_enum(ExtensionState, 12), default=ExtensionState.PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(1000))

    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
