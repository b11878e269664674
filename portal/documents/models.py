"""Document records (SPEC §3, §4). Field lengths follow NĐ 30/2020 Phụ lục VI.

Incoming and outgoing records are separate tables: issuing to another organisation creates a
new incoming record owned by it (§2.2), and each side's queues need their own indexes.
``*_folded`` columns hold the diacritics-free copy used by search (§14).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UTCDateTime, str_enum, utcnow
from portal.orgs.models import Organisation


class Direction(enum.StrEnum):
    INCOMING = "in"
    OUTGOING = "out"


class Urgency(enum.IntEnum):
    """edXML Priority (SPEC §3.6); 4 = hỏa tốc hẹn giờ, accepted on input only."""

    NORMAL = 0
    URGENT = 1
    VERY_URGENT = 2
    EXPRESS = 3
    EXPRESS_TIMED = 4

    @property
    def label(self) -> str:
        return ("Thường", "Khẩn", "Thượng khẩn", "Hỏa tốc", "Hỏa tốc hẹn giờ")[self.value]


class Secrecy(enum.IntEnum):
    NONE = 0
    CONFIDENTIAL = 1
    SECRET = 2
    TOP_SECRET = 3

    @property
    def label(self) -> str:
        return ("Thường", "Mật", "Tối mật", "Tuyệt mật")[self.value]


class Channel(enum.StrEnum):
    AXIS = "truc"
    LGSP = "lgsp"
    INTERNAL = "noi_bo"
    PAPER = "giay"
    EMAIL = "email"
    OTHER = "khac"

    @property
    def label(self) -> str:
        return {"truc": "Trục liên thông quốc gia", "lgsp": "LGSP tỉnh", "noi_bo": "Liên thông nội tỉnh",
                "giay": "Văn bản giấy", "email": "Thư điện tử công vụ", "khac": "Khác"}[self.value]


class IncomingStatus(enum.StrEnum):
    """SPEC §5.2; the codes are the edXML status codes sent back to the sender, except the local ones: "03p"
    (presented, still 03 to the sender) and "tt" (replaced by a newer document, SPEC §5.8: no edXML code, never
    sent; the sender issued the replacement and is told of the new document's own steps)."""

    ARRIVED = "01"
    RETURNED = "02"
    REGISTERED = "03"
    PRESENTED = "03p"
    ASSIGNED = "04"
    IN_PROGRESS = "05"
    DONE = "06"
    RECALLED = "15"
    REPLACED = "tt"

    @property
    def label(self) -> str:
        return {"01": "Chờ tiếp nhận", "02": "Đã trả lại", "03": "Đã vào sổ", "03p": "Chờ phân phối",
                "04": "Đã phân công", "05": "Đang xử lý", "06": "Hoàn thành", "15": "Đã thu hồi",
                "tt": "Đã bị thay thế"}[self.value]


class OutgoingStatus(enum.StrEnum):
    ISSUED = "issued"
    RECALLED = "recalled"

    @property
    def label(self) -> str:
        return {"issued": "Đã phát hành", "recalled": "Đã thu hồi"}[self.value]


class DocumentType(Base):
    """Tên loại văn bản and its abbreviation (NĐ 30 Điều 7, Phụ lục III); data, not code."""

    __tablename__ = "document_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # None for công văn and thư công, which carry no type abbreviation in their ký hiệu
    abbreviation: Mapped[str | None] = mapped_column(String(10))
    is_normative: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RegisterBook(Base):
    """Sổ văn bản (SPEC §4.2): each has its own yearly sequence."""

    __tablename__ = "register_books"
    __table_args__ = (Index("ix_register_books_organisation_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, 3))
    name: Mapped[str] = mapped_column(String(200))
    is_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    # e.g. "{so}/{loai}-{co_quan}" or "{so}/{co_quan}-{don_vi}" (SPEC §3.5)
    notation_template: Mapped[str] = mapped_column(String(60), default="{so}/{loai}-{co_quan}")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    organisation: Mapped[Organisation] = relationship()


class RegisterCounter(Base):
    """The last number used per book and year. Locked (SELECT … FOR UPDATE, or SQLite's
    BEGIN IMMEDIATE) in the same transaction that writes the numbered row: never a sequence,
    which would leave gaps on rollback (SPEC §4.3)."""

    __tablename__ = "register_counters"
    __table_args__ = (PrimaryKeyConstraint("book_id", "year"),)

    book_id: Mapped[int] = mapped_column(ForeignKey("register_books.id"))
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class _DocumentFields:
    """The metadata both directions share (Phụ lục VI Mục I and II)."""

    type_name: Mapped[str] = mapped_column(String(100))
    code_number: Mapped[str | None] = mapped_column(String(11))
    code_notation: Mapped[str | None] = mapped_column(String(30))
    issued_date: Mapped[date | None] = mapped_column(Date)
    organ_name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500))
    subject_folded: Mapped[str] = mapped_column(String(500), default="")
    language: Mapped[str] = mapped_column(String(30), default="Tiếng Việt")
    page_amount: Mapped[int | None] = mapped_column(SmallInteger)
    description: Mapped[str | None] = mapped_column(String(500))
    signer_position: Mapped[str | None] = mapped_column(String(100))
    signer_name: Mapped[str | None] = mapped_column(String(50))
    urgency: Mapped[Urgency] = mapped_column(SmallInteger, default=Urgency.NORMAL)
    secrecy: Mapped[Secrecy] = mapped_column(SmallInteger, default=Secrecy.NONE)
    due_date: Mapped[date | None] = mapped_column(Date)
    main_file_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IncomingDocument(_DocumentFields, Base):
    __tablename__ = "incoming_documents"
    __table_args__ = (
        UniqueConstraint("book_id", "year", "arrival_number"),
        Index("ix_incoming_documents_queue", "organisation_id", "status", "urgency", "arrived_at"),
        Index("ix_incoming_documents_subject_folded", "subject_folded"),
        Index("ix_incoming_documents_org_sort", "organisation_id", "sort_key"),
        Index("ix_incoming_documents_sender", "sender_organisation_id"),
        Index("ix_incoming_documents_code_key", "organisation_id", "code_key"),
        Index("ix_incoming_documents_presented_sort", "presented_to_id", "sort_key"),
        Index("ix_incoming_documents_registered_sort", "registered_by_id", "sort_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[IncomingStatus] = mapped_column(str_enum(IncomingStatus, 3))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, 10))
    book_id: Mapped[int | None] = mapped_column(ForeignKey("register_books.id"))
    year: Mapped[int | None] = mapped_column(Integer)
    arrival_number: Mapped[int | None] = mapped_column(Integer)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # the sender: an organisation of this system when internal, else its code and printed name
    sender_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    sender_organ_id: Mapped[str | None] = mapped_column(String(35))
    source_outgoing_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))
    document_id: Mapped[str | None] = mapped_column(String(100))
    to_places: Mapped[str | None] = mapped_column(String(1000))
    has_paper: Mapped[bool] = mapped_column(Boolean, default=False)
    # --- workflow (SPEC §5); the full trail is in incoming_events
    document_type_id: Mapped[int | None] = mapped_column(ForeignKey("document_types.id"))
    organ_name_folded: Mapped[str] = mapped_column(String(200), default="")
    # "15/qđ-ubnd": số without leading zeros + ký hiệu case-folded, for exact search and the
    # duplicate check on both databases (SQLite's lower() knows only ASCII)
    code_key: Mapped[str | None] = mapped_column(String(45))
    arrival_date: Mapped[date | None] = mapped_column(Date)  # ArrivalDate, Vietnam time
    presented_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    presented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_category: Mapped[str | None] = mapped_column(String(40))
    return_reason: Mapped[str | None] = mapped_column(String(1000))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_text: Mapped[str | None] = mapped_column(String(2000))
    answer_outgoing_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))
    recall_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recall_reason: Mapped[str | None] = mapped_column(String(1000))
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recalled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # the newer document of this organisation that replaced this one (SPEC §5.8, status "tt"); the newest if twice
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    # the list's sort key: urgent first (Hỏa tốc 3 … Thường 0), then newest; kept as one column so
    # keyset pagination walks one index (SPEC §16)
    sort_key: Mapped[str] = mapped_column(String(40), default="")
    signature_verdict: Mapped[str | None] = mapped_column(String(40))  # of the main file, shown in lists
    # when the arrival must be registered (portal/workdays/limits.py), fixed at arrival from the urgency and
    # recomputed while it waits if IT changes the calendar; NULL: registered at once (paper) or arrived before 0019
    register_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])

    @property
    def status_label(self) -> str:
        """What the badges say. Status 03 covers "tiếp nhận" before and after the số đến is taken
        (the sender sees 03 either way); only a numbered document is "Đã vào sổ"."""
        if self.status == IncomingStatus.REGISTERED and self.arrival_number is None:
            return "Chờ vào sổ"
        return self.status.label


class OutgoingDocument(_DocumentFields, Base):
    __tablename__ = "outgoing_documents"
    __table_args__ = (
        UniqueConstraint("book_id", "year", "number"),
        UniqueConstraint("organisation_id", "year", "code_number", "code_notation"),
        Index("ix_outgoing_documents_list", "organisation_id", "status", "issued_at"),
        Index("ix_outgoing_documents_subject_folded", "subject_folded"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[OutgoingStatus] = mapped_column(str_enum(OutgoingStatus, 10))
    book_id: Mapped[int] = mapped_column(ForeignKey("register_books.id"))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    document_type_id: Mapped[int | None] = mapped_column(ForeignKey("document_types.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    document_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    identifier: Mapped[str | None] = mapped_column(String(120), unique=True)
    issued_amount: Mapped[int | None] = mapped_column(SmallInteger)
    recipients_text: Mapped[str | None] = mapped_column(String(1000))
    # issue 5: the issued PDF (signer + seal), recall, and the document it corrects or replaces
    file_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recall_reason: Mapped[str | None] = mapped_column(String(1000))
    recalled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
