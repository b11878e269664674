"""Exchange's tables (issue 17). Each section below belongs to one part of exchange; keep them apart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
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
