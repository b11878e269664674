"""A person in every role of every demo organisation, with the passwords docs/DEMO.md publishes.

People go through ``accounts.create_person``, as an administrator would create them, so the demo obeys
the same validation and lands in the audit chain. Names are fictional.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from portal.auth import accounts
from portal.auth.models import Role, User
from portal.db import session
from portal.demo.organisations import (
    BY_ORGAN_ID,
    HOA_LU,
    NAM_DINH,
    PHU_LY,
    PROVINCE,
    SO_KHCN,
    SO_NOI_VU,
    SO_TAI_CHINH,
    VAN_PHONG,
    DemoOrganisation,
    Node,
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    full_name: str
    title: str
    organ_id: str
    roles: tuple[Role, ...]
    unit: str | None = None  # abbreviation of a unit of the organisation

    @property
    def organisation(self) -> str:
        return BY_ORGAN_ID[self.organ_id].name


# username prefix → password prefix: every password reads "<prefix>@<tag>2026!", e.g. vanthu.snv
# has VanThu@SNV2026!, so a demo audience can guess none but remember all.
_PASSWORD_PREFIX = {
    "vanthu": "VanThu", "lanhdao": "LanhDao", "chuyenvien": "ChuyenVien", "truongphong": "TruongPhong",
    "kiemtra": "KiemTra", "luutru": "LuuTru", "laplich": "LapLich", "quantri": "QuanTri", "theodoi": "TheoDoi",
    "khancap": "KhanCap",
}

_Row = tuple[str, str, str, tuple[Role, ...], str | None]  # prefix, họ tên, chức vụ, roles, unit


def _staff(org: DemoOrganisation, suffix: str, tag: str, rows: list[_Row]) -> list[DemoAccount]:
    return [DemoAccount(f"{prefix}.{suffix}", f"{_PASSWORD_PREFIX[prefix]}@{tag}2026!", name, title,
                        org.organ_id, roles, unit)
            for prefix, name, title, roles, unit in rows]


def _commune(org: DemoOrganisation, suffix: str, tag: str, names: tuple[str, str, str, str, str],
             officer_unit: tuple[str, str]) -> list[DemoAccount]:
    """A phường's five people: its clerk is its công chức Văn phòng - Thống kê (Hà Nam QĐ 44/2024 Điều
    8.4) and keeps the archive too; small staffs hold several roles, one account per person all the same."""
    leader, clerk, head, officer, admin = names
    unit_name, unit = officer_unit
    return _staff(org, suffix, tag, [
        ("lanhdao", leader, "Chủ tịch Ủy ban nhân dân phường", (_AL,), None),
        ("vanthu", clerk, "Công chức Văn phòng - Thống kê", (_C, _AR), "VP"),
        ("truongphong", head, "Chánh Văn phòng Hội đồng nhân dân và Ủy ban nhân dân phường", (_UH, _FC), "VP"),
        ("chuyenvien", officer, f"Chuyên viên {unit_name}", (_O, _SE), unit),
        ("quantri", admin, "Chuyên viên Văn phòng (phụ trách công nghệ thông tin)", (_OA,), "VP"),
    ])


_C, _O, _UH, _AL = Role.CLERK, Role.OFFICER, Role.UNIT_HEAD, Role.AGENCY_LEADER
_FC, _AR, _SE, _OA = Role.FORMAT_CHECKER, Role.ARCHIVIST, Role.SCHEDULE_EDITOR, Role.ORG_ADMIN

ACCOUNTS: list[DemoAccount] = [
    *_staff(PROVINCE, "ubnd", "UBND", [
        ("lanhdao", "Trương Quốc Hùng", "Chủ tịch Ủy ban nhân dân tỉnh", (_AL,), None),
        ("vanthu", "Đỗ Thị Thanh Huyền", "Văn thư", (_C,), None),
        ("chuyenvien", "Lê Hoàng Phúc", "Chuyên viên Phòng Tổng hợp", (_O,), "TH"),
        ("truongphong", "Phạm Văn Khải", "Trưởng phòng Kinh tế", (_UH,), "KT"),
        ("kiemtra", "Nguyễn Thị Minh Thư", "Phó Trưởng phòng Tổng hợp", (_FC,), "TH"),
        ("luutru", "Vũ Thị Lan Anh", "Lưu trữ viên", (_AR,), None),
        ("laplich", "Hoàng Minh Tuấn", "Chuyên viên Phòng Tổng hợp", (_SE,), "TH"),
        ("quantri", "Đặng Quang Vinh", "Chuyên viên công nghệ thông tin", (_OA,), None),
    ]),
    *_staff(VAN_PHONG, "vp", "VP", [
        ("lanhdao", "Trần Văn Đức", "Chánh Văn phòng", (_AL,), None),
        ("vanthu", "Nguyễn Thị Hồng Nhung", "Văn thư", (_C,), "HCTC"),
        ("chuyenvien", "Phạm Thu Hương", "Chuyên viên Phòng Hành chính - Tổ chức", (_O,), "HCTC"),
        ("truongphong", "Bùi Đức Thắng", "Trưởng phòng Hành chính - Tổ chức", (_UH,), "HCTC"),
        ("kiemtra", "Ngô Thị Bích Ngọc", "Phó Chánh Văn phòng", (_FC,), None),
        ("luutru", "Đinh Thị Mai", "Lưu trữ viên", (_AR,), "HCTC"),
        ("laplich", "Lương Văn Toàn", "Chuyên viên tổng hợp", (_SE,), "HCTC"),
        ("quantri", "Tạ Minh Khoa", "Chuyên viên Trung tâm Công báo - Tin học", (_OA,), "CBTH"),
    ]),
    # province-wide roles: the provincial IT administrator and the observer sit in the Văn phòng
    *_staff(VAN_PHONG, "tinh", "Tinh", [
        ("quantri", "Cao Thành Long", "Phó Giám đốc Trung tâm Công báo - Tin học", (Role.SYSTEM_ADMIN,), "CBTH"),
        ("theodoi", "Hà Thị Kim Oanh", "Chuyên viên theo dõi, tổng hợp toàn tỉnh", (Role.OVERVIEW,), None),
        # the local break-glass administrator (PORTAL_BREAK_GLASS_USERNAME): signs in when the
        # directory is down; every use is audited
        ("khancap", "Cao Thành Nam", "Quản trị khẩn cấp hệ thống", (Role.SYSTEM_ADMIN,), "CBTH"),
    ]),
    *_staff(SO_NOI_VU, "snv", "SNV", [
        ("lanhdao", "Mai Xuân Trường", "Giám đốc Sở Nội vụ", (_AL,), None),
        ("vanthu", "Trịnh Thị Thu Trang", "Văn thư", (_C,), "VP"),
        ("chuyenvien", "Phan Văn Hải", "Chuyên viên Phòng Cải cách hành chính", (_O,), "CCHC"),
        ("truongphong", "Lý Thị Hồng Vân", "Trưởng phòng Tổ chức - Biên chế", (_UH,), "TCBC"),
        ("kiemtra", "Đoàn Minh Quân", "Chánh Văn phòng Sở", (_FC,), "VP"),
        ("luutru", "Kiều Thị Thúy", "Lưu trữ viên", (_AR,), "VP"),
        ("laplich", "Tô Văn Nam", "Chuyên viên Văn phòng Sở", (_SE,), "VP"),
        ("quantri", "Võ Thanh Tùng", "Chuyên viên công nghệ thông tin", (_OA,), "VP"),
    ]),
    *_staff(SO_TAI_CHINH, "stc", "STC", [
        ("lanhdao", "Dương Văn Thịnh", "Giám đốc Sở Tài chính", (_AL,), None),
        ("vanthu", "Lã Thị Ngọc Ánh", "Văn thư", (_C,), "VP"),
        ("chuyenvien", "Quách Minh Đạt", "Chuyên viên Phòng Quản lý ngân sách", (_O,), "QLNS"),
        ("truongphong", "Hồ Thị Phương Thảo", "Trưởng phòng Quản lý giá và công sản", (_UH,), "QLGCS"),
        ("kiemtra", "Vương Đình Sơn", "Phó Chánh Văn phòng Sở", (_FC,), "VP"),
        ("luutru", "Triệu Thị Hạnh", "Lưu trữ viên", (_AR,), "VP"),
        ("laplich", "Thái Văn Lộc", "Chuyên viên Văn phòng Sở", (_SE,), "VP"),
        ("quantri", "Châu Ngọc Hiếu", "Chuyên viên công nghệ thông tin", (_OA,), "VP"),
    ]),
    *_staff(SO_KHCN, "skhcn", "SKHCN", [
        ("lanhdao", "Nghiêm Xuân Bách", "Phó Giám đốc Sở", (_AL,), None),
        ("vanthu", "Khúc Thị Yến", "Văn thư", (_C,), "VP"),
        ("chuyenvien", "Đàm Quang Huy", "Chuyên viên Phòng Quản lý khoa học", (_O,), "QLKH"),
        ("truongphong", "Lục Thị Diệu Linh", "Trưởng phòng Chuyển đổi số", (_UH,), "CĐS"),
        ("kiemtra", "Tăng Văn Phong", "Chánh Văn phòng Sở", (_FC,), "VP"),
        ("luutru", "Mạc Thị Hoa", "Lưu trữ viên", (_AR,), "VP"),
        ("laplich", "Ninh Đức Anh", "Chuyên viên Văn phòng Sở", (_SE,), "VP"),
        ("quantri", "Giáp Văn Kiên", "Chuyên viên công nghệ thông tin", (_OA,), "VP"),
    ]),
    *_commune(HOA_LU, "hoalu", "HoaLu",
              ("Nguyễn Văn Thành", "Trần Thị Loan", "Lê Văn Hòa", "Phạm Thị Thu Hà", "Vũ Đức Mạnh"),
              ("Phòng Kinh tế, Hạ tầng và Đô thị", "KTHTDT")),
    *_commune(PHU_LY, "phuly", "PhuLy",
              ("Hoàng Thị Thanh Tâm", "Đỗ Văn Quý", "Bùi Thị Ngọc Lan", "Ngô Văn Tiến", "Lại Thị Hằng"),
              ("Phòng Văn hóa - Xã hội", "VHXH")),
    *_commune(NAM_DINH, "namdinh", "NamDinh",
              ("Vũ Minh Quang", "Trần Thị Thu Hiền", "Đặng Văn Hưng", "Lương Thị Bích Hạnh", "Phùng Văn Khánh"),
              ("Phòng Kinh tế, Hạ tầng và Đô thị", "KTHTDT")),
]


def seed_people(nodes: dict[str, Node], created: Counter[str]) -> None:
    existing = set(session.execute(
        select(User.username).where(User.username.in_([a.username for a in ACCOUNTS]))).scalars())
    for account in ACCOUNTS:
        if account.username in existing:
            continue
        node = nodes[account.organ_id]
        accounts.create_person(None, accounts.PersonData(
            username=account.username, full_name=account.full_name, email=f"{account.username}@ninhbinh.example",
            positions=[accounts.PositionData(
                organisation_id=node.org.id, title=account.title, roles=list(account.roles),
                unit_id=node.units[account.unit].id if account.unit else None)],
        ), password=account.password)
        created["people"] += 1


def leader(organ_id: str) -> DemoAccount:
    return next(a for a in ACCOUNTS if a.organ_id == organ_id and Role.AGENCY_LEADER in a.roles)


def clerk(organ_id: str) -> User:
    username = next(a.username for a in ACCOUNTS if a.organ_id == organ_id and Role.CLERK in a.roles)
    return session.execute(select(User).where(User.username == username)).scalar_one()
