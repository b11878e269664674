"""The demo province's tree under the two-level model (SPEC §1.1, §18): tỉnh Ninh Bình (Hà Nam, Nam
Định and Ninh Bình since 1 July 2025) with its Văn phòng, three sở and three phường directly under the
province, no district level, and the ministries that write to it as external nodes.

The mã định danh are demo codes in the QĐ 20 format under the level-1 group ``H99``, which no province
has (H01–H63): the real codes of the new province's bodies are the province's to publish, and a demo
must not pass for them. Communes are numbered from 101, as SPEC §1.1's ``H01.151``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from portal.db import session
from portal.errors import ValidationFailed
from portal.orgs import services as orgs
from portal.orgs.models import Organisation, OrgKind


@dataclass(frozen=True)
class DemoUnit:
    name: str
    short_name: str


@dataclass(frozen=True)
class DemoOrganisation:
    organ_id: str
    name: str
    short_name: str
    kind: OrgKind
    legacy_organ_id: str | None = None
    units: tuple[DemoUnit, ...] = ()
    address: str | None = None
    email: str | None = None


_SEAT = "phường Hoa Lư, tỉnh Ninh Bình"  # the new province's administrative centre
_VP_XA = DemoUnit("Văn phòng Hội đồng nhân dân và Ủy ban nhân dân", "VP")

PROVINCE = DemoOrganisation(
    "H99", "Ủy ban nhân dân tỉnh Ninh Bình", "UBND", OrgKind.PEOPLE_COMMITTEE, "000.00.00.H99",
    (DemoUnit("Phòng Tổng hợp", "TH"), DemoUnit("Phòng Kinh tế", "KT"), DemoUnit("Phòng Nội chính", "NC")),
    f"Số 2 đường Lê Đại Hành, {_SEAT}", "ubnd@ninhbinh.example",
)
VAN_PHONG = DemoOrganisation(
    "H99.01", "Văn phòng Ủy ban nhân dân tỉnh", "VP", OrgKind.DEPARTMENT, "000.00.01.H99",
    (DemoUnit("Phòng Hành chính - Tổ chức", "HCTC"), DemoUnit("Phòng Quản trị - Tài vụ", "QTTV"),
     DemoUnit("Trung tâm Công báo - Tin học", "CBTH")),
    f"Số 2 đường Lê Đại Hành, {_SEAT}", "vanphong@ninhbinh.example",
)
SO_NOI_VU = DemoOrganisation(
    "H99.02", "Sở Nội vụ", "SNV", OrgKind.DEPARTMENT, "000.00.02.H99",
    (DemoUnit("Văn phòng Sở", "VP"), DemoUnit("Phòng Tổ chức - Biên chế", "TCBC"),
     DemoUnit("Phòng Cải cách hành chính", "CCHC")),
    f"Số 12 đường Trần Hưng Đạo, {_SEAT}", "sonoivu@ninhbinh.example",
)
SO_TAI_CHINH = DemoOrganisation(
    "H99.03", "Sở Tài chính", "STC", OrgKind.DEPARTMENT, "000.00.03.H99",
    (DemoUnit("Văn phòng Sở", "VP"), DemoUnit("Phòng Quản lý ngân sách", "QLNS"),
     DemoUnit("Phòng Quản lý giá và công sản", "QLGCS")),
    f"Số 5 đường Lương Văn Thăng, {_SEAT}", "sotaichinh@ninhbinh.example",
)
# the Sở Thông tin và Truyền thông merged into it on 1 March 2025 (SPEC §18): chuyển đổi số is its work now
SO_KHCN = DemoOrganisation(
    "H99.04", "Sở Khoa học và Công nghệ", "SKHCN", OrgKind.DEPARTMENT, "000.00.04.H99",
    (DemoUnit("Văn phòng Sở", "VP"), DemoUnit("Phòng Quản lý khoa học", "QLKH"),
     DemoUnit("Phòng Chuyển đổi số", "CĐS")),
    f"Số 40 đường Đinh Tiên Hoàng, {_SEAT}", "sokhcn@ninhbinh.example",
)
HOA_LU = DemoOrganisation(
    "H99.101", "Ủy ban nhân dân phường Hoa Lư", "UBND", OrgKind.COMMUNE, None,
    (_VP_XA, DemoUnit("Phòng Kinh tế, Hạ tầng và Đô thị", "KTHTDT"), DemoUnit("Phòng Văn hóa - Xã hội", "VHXH")),
    f"Số 1 đường Tràng An, {_SEAT}", "hoalu@ninhbinh.example",
)
PHU_LY = DemoOrganisation(
    "H99.102", "Ủy ban nhân dân phường Phủ Lý", "UBND", OrgKind.COMMUNE, None,
    (_VP_XA, DemoUnit("Phòng Kinh tế, Hạ tầng và Đô thị", "KTHTDT"), DemoUnit("Phòng Văn hóa - Xã hội", "VHXH")),
    "Số 2 đường Lê Lợi, phường Phủ Lý, tỉnh Ninh Bình", "phuly@ninhbinh.example",
)
NAM_DINH = DemoOrganisation(
    "H99.103", "Ủy ban nhân dân phường Nam Định", "UBND", OrgKind.COMMUNE, None,
    (_VP_XA, DemoUnit("Phòng Kinh tế, Hạ tầng và Đô thị", "KTHTDT"), DemoUnit("Phòng Văn hóa - Xã hội", "VHXH")),
    "Số 8 đường Hùng Vương, phường Nam Định, tỉnh Ninh Bình", "namdinh@ninhbinh.example",
)
# the province first: every other organisation hangs directly under it (no district level)
ORGANISATIONS = (PROVINCE, VAN_PHONG, SO_NOI_VU, SO_TAI_CHINH, SO_KHCN, HOA_LU, PHU_LY, NAM_DINH)

# Senders outside the province: `external` nodes without a parent (SPEC §1.1). They issue their
# own documents, hence is_issuing, but nobody of this system works there. Real codes (QĐ 20).
EXTERNALS = (
    DemoOrganisation("G09", "Bộ Nội vụ", "BNV", OrgKind.EXTERNAL, "000.00.00.G09"),
    DemoOrganisation("G10", "Bộ Tài chính", "BTC", OrgKind.EXTERNAL, "000.00.00.G10"),
    DemoOrganisation("G22", "Văn phòng Chính phủ", "VPCP", OrgKind.EXTERNAL, "000.00.00.G22"),
)
BY_ORGAN_ID = {org.organ_id: org for org in ORGANISATIONS + EXTERNALS}


@dataclass
class Node:
    """A seeded organisation with its units by abbreviation."""

    org: Organisation
    units: dict[str, Organisation]


def seed_organisations(created: Counter[str]) -> dict[str, Node]:
    _refuse_another_province()
    nodes: dict[str, Node] = {}
    for spec in ORGANISATIONS + EXTERNALS:
        parent = None if spec in (PROVINCE, *EXTERNALS) else nodes[PROVINCE.organ_id].org
        org = session.execute(select(Organisation).where(Organisation.organ_id == spec.organ_id)).scalar_one_or_none()
        if org is None:
            org = orgs.create(None, orgs.OrgData(
                name=spec.name, short_name=spec.short_name, kind=spec.kind, is_issuing=True,
                parent_id=parent.id if parent else None, organ_id=spec.organ_id,
                legacy_organ_id=spec.legacy_organ_id, address=spec.address, email=spec.email))
            created["organisations"] += 1
        nodes[spec.organ_id] = Node(org, {unit.short_name: _unit(org, unit, created) for unit in spec.units})
    return nodes


def _refuse_another_province() -> None:
    """A tree has one root (SPEC §1.1): a database holding another province, such as the Hà Nam
    demo of earlier versions, cannot take this one beside it."""
    root = session.execute(select(Organisation).where(
        Organisation.parent_id.is_(None), Organisation.kind != OrgKind.EXTERNAL)).scalars().first()
    if root is not None and root.organ_id != PROVINCE.organ_id:
        raise ValidationFailed({"parent_id": f"Cơ sở dữ liệu đã có tỉnh khác ({root.name}); dữ liệu mẫu "
                                             f"{PROVINCE.name} cần một cơ sở dữ liệu mới."})


def _unit(org: Organisation, spec: DemoUnit, created: Counter[str]) -> Organisation:
    unit = session.execute(select(Organisation).where(
        Organisation.parent_id == org.id, Organisation.short_name == spec.short_name)).scalars().first()
    if unit is None:
        unit = orgs.create(None, orgs.OrgData(name=spec.name, short_name=spec.short_name,
                                              kind=OrgKind.INTERNAL_UNIT, is_issuing=False, parent_id=org.id))
        created["units"] += 1
    return unit
