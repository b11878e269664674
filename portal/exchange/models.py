"""Exchange's tables (issue 17). Each section below belongs to one part of exchange; keep them apart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, LabelledEnum, UTCDateTime, str_enum, utcnow

# --- the national agency directory (issue 17 item 5) ------------------------------------------------------------


class AgencySource(LabelledEnum):
    AXIS = "axis", "Danh sách của trục liên thông"
    CSV = "csv", "Tệp CSV mã định danh"
    MANUAL = "manual", "Nhập tay"


class ExternalAgency(Base):
    """An agency outside the portal that documents can be sent to through the national axis or an LGSP: the
    directory outside recipients are picked from (by type-ahead over ``search_folded``).

    ``organ_id`` is the code the axis routes on, kept as the source gave it (only cleaned: NFKC, no spaces or
    invisible characters, a QĐ 20 code in upper case), so a gateway code such as ``vxp.saas.03`` is stored too,
    with ``code_ok`` false. ``imported_at`` is when the agency first came in, ``updated_at`` the last import that
    changed it: importing the same list again changes nothing."""

    __tablename__ = "external_agencies"
    __table_args__ = (
        # PostgreSQL: trigram GIN for the type-ahead's substring and prefix LIKEs (pg_trgm comes from 0003);
        # SQLite takes a plain index and scans, which is fine at a directory's size
        Index("ix_external_agencies_search_trgm", "search_folded", postgresql_using="gin",
              postgresql_ops={"search_folded": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organ_id: Mapped[str] = mapped_column(String(35), unique=True)  # edXML OrganId ≤ 35
    name: Mapped[str] = mapped_column(String(300))
    in_charge: Mapped[str] = mapped_column(String(200), default="")  # edXML OrganizationInCharge ≤ 200, as given
    source: Mapped[AgencySource] = mapped_column(str_enum(AgencySource, 10))
    code_ok: Mapped[bool] = mapped_column(Boolean)  # organ_id follows QĐ 20 (NNN.NN.NN.XNN)
    # fold(organ_id + " " + name): a code prefix and the words of the name, diacritics-free, in one column
    search_folded: Mapped[str] = mapped_column(String(340))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ExternalAgency {self.organ_id}>"


# --- packages sent and received (issue 17 items 3, 4, 5) --------------------------------------------------------


class Direction(LabelledEnum):
    OUT = "out", "Gửi đi"
    IN = "in", "Nhận về"


class PackageState(LabelledEnum):
    QUEUED = "queued", "Đang chờ gửi"
    SENT = "sent", "Đã gửi"
    FAILED = "failed", "Gửi không được"
    PROCESSED = "processed", "Đã xử lý"
    REFUSED = "refused", "Từ chối"


class ExchangePackage(Base):
    """One edXML package that left or reached this portal through a transport (the axis, an LGSP, or a file a
    clerk imported). Outgoing: written in the transaction that issues (or changes status), then sent by the job
    queue (``state`` queued → sent, or failed after the last attempt, "Gửi lại"). Incoming: processed once,
    keyed by the transport's id and by (sender, DocumentId, business type or status code, receiver).

    ``sha256`` is the package exactly as built or received (stored inert)."""

    __tablename__ = "exchange_packages"
    __table_args__ = (
        UniqueConstraint("direction", "transport", "transport_id", name="uq_exchange_packages_transport_id"),
        UniqueConstraint("direction", "dedup_key", name="uq_exchange_packages_dedup_key"),
        Index("ix_exchange_packages_outgoing", "outgoing_document_id"),
        Index("ix_exchange_packages_incoming", "incoming_document_id"),
        Index("ix_exchange_packages_document_id", "document_id"),
        Index("ix_exchange_packages_state", "direction", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction, 3))
    kind: Mapped[str] = mapped_column(String(6))  # "edoc" | "status"
    business_type: Mapped[int | None] = mapped_column(SmallInteger)  # 0 new, 1 recall, 2 update, 3 replace
    status_code: Mapped[str | None] = mapped_column(String(2))  # a status package's code
    transport: Mapped[str] = mapped_column(String(10))  # "axis" | "file"
    transport_id: Mapped[str | None] = mapped_column(String(100))
    dedup_key: Mapped[str | None] = mapped_column(String(300))
    sender_organ_id: Mapped[str] = mapped_column(String(35), default="")
    receiver_organ_id: Mapped[str] = mapped_column(String(35), default="")
    receiver_name: Mapped[str] = mapped_column(String(300), default="")
    document_id: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str | None] = mapped_column(String(1000))  # a status's reason, an edoc's subject
    sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    state: Mapped[PackageState] = mapped_column(str_enum(PackageState, 10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[str | None] = mapped_column(Text)  # JSON list of Vietnamese lines
    outgoing_document_id: Mapped[int | None] = mapped_column(ForeignKey("outgoing_documents.id"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("draft_recipients.id"))
    incoming_document_id: Mapped[int | None] = mapped_column(ForeignKey("incoming_documents.id"))
    job_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # out: accepted by the transport
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a status's own Timestamp (the peer's time)
