"""The organisation tree (SPEC §1.1).

One table holds every node, of any depth: the province, its departments and communes, their
units, and external bodies. ``is_issuing`` marks an *organisation* (own clerk, seal, books);
other nodes are *units* and belong to their nearest issuing ancestor (``owner_id``), kept
denormalised so that "documents of organisation O" never walks the tree. ``path`` is the
materialised path of ids (``/1/4/9/``) so a subtree is one indexed prefix match.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, LabelledEnum, UTCDateTime, str_enum, utcnow


class OrgKind(LabelledEnum):
    PEOPLE_COMMITTEE = "people_committee", "Ủy ban nhân dân"
    PEOPLE_COUNCIL = "people_council", "Hội đồng nhân dân"
    DEPARTMENT = "department", "Sở, ban, ngành"
    COMMUNE = "commune", "Xã, phường"
    PUBLIC_SERVICE_UNIT = "public_service_unit", "Đơn vị sự nghiệp"
    INTERNAL_UNIT = "internal_unit", "Phòng, ban (đơn vị nội bộ)"
    ADVISORY_BODY = "advisory_body", "Hội đồng, ban, tổ tư vấn"
    EXTERNAL = "external", "Cơ quan ngoài hệ thống"


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        Index("ix_organisations_path", "path"),
        Index("ix_organisations_parent_id", "parent_id"),
        Index("ix_organisations_owner_id", "owner_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    path: Mapped[str] = mapped_column(String(500), default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[OrgKind] = mapped_column(
        str_enum(OrgKind, 30)
    )
    is_issuing: Mapped[bool] = mapped_column(Boolean, default=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), default="")
    short_name: Mapped[str] = mapped_column(String(30))
    organ_id: Mapped[str | None] = mapped_column(String(35), unique=True)
    legacy_organ_id: Mapped[str | None] = mapped_column(String(13), unique=True)
    address: Mapped[str | None] = mapped_column(String(250))
    email: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    fax: Mapped[str | None] = mapped_column(String(20))
    website: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Organisation | None] = relationship(
        remote_side=[id], foreign_keys=[parent_id], back_populates="children"
    )
    children: Mapped[list[Organisation]] = relationship(
        foreign_keys=[parent_id], back_populates="parent", order_by="Organisation.name"
    )
    owner: Mapped[Organisation | None] = relationship(remote_side=[id], foreign_keys=[owner_id])

    @property
    def is_unit(self) -> bool:
        return not self.is_issuing

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.short_name}>"
