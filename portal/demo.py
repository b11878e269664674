"""The demo province (``flask --app wsgi portal seed-demo``): a fictional Tỉnh Hà Nam with its
Văn phòng, three sở and two xã/phường, their phòng, a person in every role, the NĐ 30 document
types, one incoming and one outgoing book per organisation, and a few dozen documents over this
year and the last.

Organisations and people go through the services an administrator uses (``orgs.services.create``,
``accounts.create_person``), so the demo obeys the same validation and lands in the audit chain.
Documents have no issuing service yet and are written as rows, but their numbers come from
``numbering.take_next`` in time order, so every book reads 1..n per year like a real one.

Running it again creates nothing: organisations are recognised by mã định danh, units by parent
and abbreviation, people by username, types by name, books by organisation and name, and
documents by owner and trích yếu (their numbers depend on what the database held before, so the
numbers cannot name them). ``seed`` only flushes; the CLI commits.

The demo passwords are published in docs/DEMO.md: never load them into a production database.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from portal import audit
from portal.auth import accounts
from portal.auth.models import Role, User
from portal.db import session
from portal.documents import numbering
from portal.documents.models import (
    Channel,
    Direction,
    DocumentType,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
    OutgoingStatus,
    RegisterBook,
    Urgency,
)
from portal.incoming.models import IncomingEvent
from portal.incoming.services import code_key as incoming_code_key
from portal.incoming.services import sort_key as incoming_sort_key
from portal.orgs import services as orgs
from portal.orgs.models import Organisation, OrgKind
from portal.text import fold
from portal.timeutil import local_today, local_year, now_utc, zone

# ---------------------------------------------------------------------------------------------
# Organisations


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


PROVINCE = DemoOrganisation(
    "H35", "Ủy ban nhân dân tỉnh Hà Nam", "UBND", OrgKind.PEOPLE_COMMITTEE, "000.00.00.H35",
    (DemoUnit("Phòng Tổng hợp", "TH"), DemoUnit("Phòng Kinh tế", "KT"), DemoUnit("Phòng Nội chính", "NC")),
    "Số 90 đường Trần Phú, phường Phủ Lý, tỉnh Hà Nam", "ubnd@hanam.example",
)
VAN_PHONG = DemoOrganisation(
    "H35.01", "Văn phòng Ủy ban nhân dân tỉnh", "VP", OrgKind.DEPARTMENT, "000.00.01.H35",
    (DemoUnit("Phòng Hành chính - Tổ chức", "HCTC"), DemoUnit("Phòng Quản trị - Tài vụ", "QTTV"),
     DemoUnit("Trung tâm Công báo - Tin học", "CBTH")),
    "Số 90 đường Trần Phú, phường Phủ Lý, tỉnh Hà Nam", "vanphong@hanam.example",
)
SO_NOI_VU = DemoOrganisation(
    "H35.02", "Sở Nội vụ", "SNV", OrgKind.DEPARTMENT, "000.00.02.H35",
    (DemoUnit("Văn phòng Sở", "VP"), DemoUnit("Phòng Tổ chức - Biên chế", "TCBC"),
     DemoUnit("Phòng Cải cách hành chính", "CCHC")),
    "Số 12 đường Lê Hoàn, phường Phủ Lý, tỉnh Hà Nam", "sonoivu@hanam.example",
)
SO_TAI_CHINH = DemoOrganisation(
    "H35.03", "Sở Tài chính", "STC", OrgKind.DEPARTMENT, "000.00.03.H35",
    (DemoUnit("Văn phòng Sở", "VP"), DemoUnit("Phòng Quản lý ngân sách", "QLNS"),
     DemoUnit("Phòng Quản lý giá và công sản", "QLGCS")),
    "Số 5 đường Biên Hòa, phường Phủ Lý, tỉnh Hà Nam", "sotaichinh@hanam.example",
)
SO_KHCN = DemoOrganisation(
    "H35.04", "Sở Khoa học và Công nghệ", "SKHCN", OrgKind.DEPARTMENT, "000.00.04.H35",
    (DemoUnit("Văn phòng Sở", "VP"), DemoUnit("Phòng Quản lý khoa học", "QLKH"),
     DemoUnit("Phòng Quản lý công nghệ và chuyên ngành", "QLCN")),
    "Số 40 đường Quy Lưu, phường Phủ Lý, tỉnh Hà Nam", "sokhcn@hanam.example",
)
KIM_BANG = DemoOrganisation(
    "H35.101", "Ủy ban nhân dân xã Kim Bảng", "UBND", OrgKind.COMMUNE, None,
    (DemoUnit("Văn phòng Hội đồng nhân dân và Ủy ban nhân dân", "VP"), DemoUnit("Phòng Kinh tế", "KT"),
     DemoUnit("Phòng Văn hóa - Xã hội", "VHXH")),
    "Thôn Quế Sơn, xã Kim Bảng, tỉnh Hà Nam", "kimbang@hanam.example",
)
PHU_LY = DemoOrganisation(
    "H35.102", "Ủy ban nhân dân phường Phủ Lý", "UBND", OrgKind.COMMUNE, None,
    (DemoUnit("Văn phòng Hội đồng nhân dân và Ủy ban nhân dân", "VP"),
     DemoUnit("Phòng Kinh tế, Hạ tầng và Đô thị", "KTHTDT"), DemoUnit("Phòng Văn hóa - Xã hội", "VHXH")),
    "Số 2 đường Lê Lợi, phường Phủ Lý, tỉnh Hà Nam", "phuly@hanam.example",
)
# the province first: every other organisation hangs under it
ORGANISATIONS = (PROVINCE, VAN_PHONG, SO_NOI_VU, SO_TAI_CHINH, SO_KHCN, KIM_BANG, PHU_LY)

# Senders outside the province: `external` nodes without a parent (SPEC §1.1). They issue their
# own documents, hence is_issuing, but nobody of this system works there.
EXTERNALS = (
    DemoOrganisation("G09", "Bộ Nội vụ", "BNV", OrgKind.EXTERNAL, "000.00.00.G09"),
    DemoOrganisation("G10", "Bộ Tài chính", "BTC", OrgKind.EXTERNAL, "000.00.00.G10"),
    DemoOrganisation("G22", "Văn phòng Chính phủ", "VPCP", OrgKind.EXTERNAL, "000.00.00.G22"),
)
_BY_ORGAN_ID = {org.organ_id: org for org in ORGANISATIONS + EXTERNALS}

# ---------------------------------------------------------------------------------------------
# People


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
        return _BY_ORGAN_ID[self.organ_id].name


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
        ("truongphong", "Lục Thị Diệu Linh", "Trưởng phòng Quản lý công nghệ và chuyên ngành", (_UH,), "QLCN"),
        ("kiemtra", "Tăng Văn Phong", "Chánh Văn phòng Sở", (_FC,), "VP"),
        ("luutru", "Mạc Thị Hoa", "Lưu trữ viên", (_AR,), "VP"),
        ("laplich", "Ninh Đức Anh", "Chuyên viên Văn phòng Sở", (_SE,), "VP"),
        ("quantri", "Giáp Văn Kiên", "Chuyên viên công nghệ thông tin", (_OA,), "VP"),
    ]),
    # A commune's clerk is its công chức Văn phòng - Thống kê (Hà Nam Điều 8.4) and keeps the
    # archive too; small staffs hold several roles, one account per person all the same.
    *_staff(KIM_BANG, "kimbang", "KimBang", [
        ("lanhdao", "Nguyễn Văn Thành", "Chủ tịch Ủy ban nhân dân xã", (_AL,), None),
        ("vanthu", "Trần Thị Loan", "Công chức Văn phòng - Thống kê", (_C, _AR), "VP"),
        ("truongphong", "Lê Văn Hòa", "Chánh Văn phòng Hội đồng nhân dân và Ủy ban nhân dân xã", (_UH, _FC), "VP"),
        ("chuyenvien", "Phạm Thị Thu Hà", "Chuyên viên Phòng Kinh tế", (_O, _SE), "KT"),
        ("quantri", "Vũ Đức Mạnh", "Chuyên viên Văn phòng (phụ trách công nghệ thông tin)", (_OA,), "VP"),
    ]),
    *_staff(PHU_LY, "phuly", "PhuLy", [
        ("lanhdao", "Hoàng Thị Thanh Tâm", "Chủ tịch Ủy ban nhân dân phường", (_AL,), None),
        ("vanthu", "Đỗ Văn Quý", "Công chức Văn phòng - Thống kê", (_C, _AR), "VP"),
        ("truongphong", "Bùi Thị Ngọc Lan", "Chánh Văn phòng Hội đồng nhân dân và Ủy ban nhân dân phường",
         (_UH, _FC), "VP"),
        ("chuyenvien", "Ngô Văn Tiến", "Chuyên viên Phòng Văn hóa - Xã hội", (_O, _SE), "VHXH"),
        ("quantri", "Lại Thị Hằng", "Chuyên viên Văn phòng (phụ trách công nghệ thông tin)", (_OA,), "VP"),
    ]),
]

# ---------------------------------------------------------------------------------------------
# Document types (NĐ 30 Điều 7, abbreviations Phụ lục III; SPEC §3.4). "(cá biệt)" keeps the
# names free for the normative types an issuer of normative documents adds with is_normative.

DOCUMENT_TYPES: tuple[tuple[str, str | None], ...] = (
    ("Nghị quyết (cá biệt)", "NQ"), ("Quyết định (cá biệt)", "QĐ"), ("Chỉ thị", "CT"), ("Quy chế", "QC"),
    ("Quy định", "QyĐ"), ("Thông cáo", "TC"), ("Thông báo", "TB"), ("Hướng dẫn", "HD"),
    ("Chương trình", "CTr"), ("Kế hoạch", "KH"), ("Phương án", "PA"), ("Đề án", "ĐA"), ("Dự án", "DA"),
    ("Báo cáo", "BC"), ("Biên bản", "BB"), ("Tờ trình", "TTr"), ("Hợp đồng", "HĐ"), ("Công văn", None),
    ("Công điện", "CĐ"), ("Bản ghi nhớ", "BGN"), ("Bản thỏa thuận", "BTT"), ("Giấy ủy quyền", "GUQ"),
    ("Giấy mời", "GM"), ("Giấy giới thiệu", "GGT"), ("Giấy nghỉ phép", "GNP"), ("Phiếu gửi", "PG"),
    ("Phiếu chuyển", "PC"), ("Phiếu báo", "PB"), ("Thư công", None),
    ("Bản sao y", "SY"), ("Bản trích sao", "TrS"), ("Bản sao lục", "SL"),
)
INCOMING_BOOK = "Sổ văn bản đến"
OUTGOING_BOOK = "Sổ văn bản đi"
OUTGOING_TEMPLATE = "{so}/{loai}-{co_quan}"
# công văn have no type abbreviation: the drafting unit takes its place (NĐ 30 Phụ lục I II.3)
CONG_VAN_TEMPLATE = "{so}/{co_quan}-{don_vi}"

# ---------------------------------------------------------------------------------------------
# Documents. ``when`` is (years back, fraction of that year); this year's fractions run over the
# days so far, so nothing is dated in the future. "{nam}" in a trích yếu becomes the year.


@dataclass(frozen=True)
class DemoOutgoing:
    key: str
    organ_id: str
    type_name: str
    unit: str
    subject: str
    when: tuple[int, float]
    urgency: Urgency = Urgency.NORMAL
    recipients: str = "Như trên"
    pages: int = 2


@dataclass(frozen=True)
class DemoIncoming:
    """Either a demo outgoing document received by another demo organisation (``source``) or a
    document from an external sender, described by the sender's own metadata."""

    organ_id: str
    status: IncomingStatus
    source: str | None = None
    channel: Channel = Channel.INTERNAL
    sender: str | None = None
    type_name: str = "Công văn"
    code: str = ""
    subject: str = ""
    signer: tuple[str, str] = ("", "")
    when: tuple[int, float] = (0, 0.5)
    urgency: Urgency = Urgency.NORMAL
    due_days: int | None = None


_PROVINCE_WIDE = "Các sở, ban, ngành; UBND các xã, phường"

OUTGOING: tuple[DemoOutgoing, ...] = (
    DemoOutgoing("ubnd-quy-che", "H35", "Quyết định (cá biệt)", "TH",
                 "Về việc ban hành Quy chế làm việc của Ủy ban nhân dân tỉnh Hà Nam nhiệm kỳ 2021 - 2026",
                 (1, 0.10), recipients=_PROVINCE_WIDE, pages=12),
    DemoOutgoing("ubnd-ky-cuong", "H35", "Chỉ thị", "TH",
                 "Về tăng cường kỷ luật, kỷ cương hành chính trong các cơ quan hành chính nhà nước trên địa bàn tỉnh",
                 (1, 0.55), recipients=_PROVINCE_WIDE, pages=4),
    DemoOutgoing("ubnd-mua-lon", "H35", "Công văn", "KT",
                 "Về việc chủ động ứng phó với mưa lớn, ngập úng trên địa bàn tỉnh", (1, 0.70),
                 Urgency.EXPRESS, recipients=_PROVINCE_WIDE),
    DemoOutgoing("ubnd-ke-hoach-vtlt", "H35", "Kế hoạch", "TH",
                 "Kế hoạch triển khai công tác văn thư, lưu trữ năm {nam}", (0, 0.20),
                 recipients=_PROVINCE_WIDE, pages=6),
    DemoOutgoing("ubnd-vb-dien-tu", "H35", "Công văn", "NC",
                 "Về việc đẩy mạnh gửi, nhận văn bản điện tử có ký số giữa các cơ quan trên địa bàn tỉnh",
                 (0, 0.50), Urgency.URGENT, recipients=_PROVINCE_WIDE),
    DemoOutgoing("vp-ket-luan", "H35.01", "Thông báo", "HCTC",
                 "Kết luận của Chủ tịch Ủy ban nhân dân tỉnh tại buổi làm việc với Sở Khoa học và Công nghệ",
                 (1, 0.30), recipients="Sở Khoa học và Công nghệ"),
    DemoOutgoing("vp-tap-huan", "H35.01", "Giấy mời", "HCTC",
                 "Mời dự hội nghị tập huấn sử dụng Hệ thống quản lý văn bản và điều hành", (1, 0.75),
                 recipients="Văn thư các sở, ban, ngành", pages=1),
    DemoOutgoing("vp-chu-ky-so", "H35.01", "Công văn", "CBTH",
                 "Về việc hướng dẫn sử dụng chữ ký số chuyên dùng Chính phủ trên Hệ thống quản lý văn bản và điều hành",
                 (0, 0.10), recipients=_PROVINCE_WIDE),
    DemoOutgoing("vp-bao-cao", "H35.01", "Báo cáo", "HCTC",
                 "Báo cáo tình hình tiếp nhận, xử lý văn bản điện tử tại Văn phòng Ủy ban nhân dân tỉnh",
                 (0, 0.60), recipients="Ủy ban nhân dân tỉnh", pages=5),
    DemoOutgoing("snv-cchc", "H35.02", "Kế hoạch", "CCHC", "Kế hoạch cải cách hành chính năm {nam}", (1, 0.05),
                 recipients=_PROVINCE_WIDE, pages=8),
    DemoOutgoing("snv-huong-dan-ho-so", "H35.02", "Hướng dẫn", "VP",
                 "Hướng dẫn lập hồ sơ và nộp lưu hồ sơ, tài liệu vào Lưu trữ cơ quan", (1, 0.60),
                 recipients=_PROVINCE_WIDE, pages=10),
    DemoOutgoing("snv-boi-duong", "H35.02", "Quyết định (cá biệt)", "TCBC",
                 "Về việc phê duyệt danh sách công chức tham gia bồi dưỡng nghiệp vụ văn thư, lưu trữ", (1, 0.90),
                 recipients="Các cơ quan có công chức tham gia", pages=3),
    DemoOutgoing("snv-vi-tri-viec-lam", "H35.02", "Tờ trình", "TCBC",
                 "Về việc đề nghị phê duyệt Đề án vị trí việc làm của Sở Nội vụ", (0, 0.45),
                 recipients="Ủy ban nhân dân tỉnh", pages=4),
    DemoOutgoing("snv-vtlt", "H35.02", "Công văn", "VP", "Về việc triển khai công tác văn thư, lưu trữ năm {nam}",
                 (0, 0.75), recipients=_PROVINCE_WIDE),
    DemoOutgoing("stc-du-toan-6-thang", "H35.03", "Báo cáo", "QLNS",
                 "Báo cáo tình hình thực hiện dự toán ngân sách địa phương 6 tháng đầu năm {nam}", (1, 0.50),
                 recipients="Ủy ban nhân dân tỉnh", pages=7),
    DemoOutgoing("stc-xay-dung-du-toan", "H35.03", "Công văn", "QLNS",
                 "Về việc hướng dẫn xây dựng dự toán ngân sách nhà nước năm sau", (1, 0.80), Urgency.URGENT,
                 recipients=_PROVINCE_WIDE, pages=3),
    DemoOutgoing("stc-thanh-ly", "H35.03", "Thông báo", "QLGCS",
                 "Về việc thẩm định giá tài sản thanh lý của các cơ quan, đơn vị", (0, 0.35),
                 recipients="Các cơ quan có tài sản thanh lý"),
    DemoOutgoing("skhcn-nhiem-vu", "H35.04", "Quyết định (cá biệt)", "QLKH",
                 "Về việc phê duyệt danh mục nhiệm vụ khoa học và công nghệ cấp tỉnh đặt hàng", (1, 0.25),
                 recipients="Các tổ chức chủ trì nhiệm vụ", pages=5),
    DemoOutgoing("skhcn-de-xuat", "H35.04", "Công văn", "QLKH",
                 "Về việc đề xuất nhiệm vụ khoa học và công nghệ cấp tỉnh", (0, 0.55), Urgency.URGENT,
                 recipients=_PROVINCE_WIDE),
    DemoOutgoing("skhcn-hoi-thao", "H35.04", "Giấy mời", "QLCN",
                 "Mời dự hội thảo chuyển đổi số trong cơ quan nhà nước tỉnh Hà Nam", (0, 0.85),
                 Urgency.VERY_URGENT, recipients="Sở Nội vụ; Văn phòng Ủy ban nhân dân tỉnh", pages=1),
    DemoOutgoing("kimbang-tong-ket", "H35.101", "Báo cáo", "VP",
                 "Báo cáo tổng kết công tác văn thư, lưu trữ năm {nam}", (1, 0.95),
                 recipients="Sở Nội vụ", pages=4),
    DemoOutgoing("kimbang-ho-tro", "H35.101", "Công văn", "KT",
                 "Về việc đề nghị hỗ trợ kinh phí khắc phục hậu quả mưa lớn", (0, 0.80), Urgency.URGENT,
                 recipients="Sở Tài chính"),
    DemoOutgoing("phuly-to-cong-tac", "H35.102", "Quyết định (cá biệt)", "VHXH",
                 "Về việc thành lập Tổ công tác rà soát thủ tục hành chính phường Phủ Lý", (1, 0.60),
                 recipients="Các thành viên Tổ công tác"),
    DemoOutgoing("phuly-tiep-dan", "H35.102", "Thông báo", "VP",
                 "Về lịch tiếp công dân của Chủ tịch Ủy ban nhân dân phường", (0, 0.40),
                 recipients="Các tổ dân phố", pages=1),
)

_A, _R = IncomingStatus.ARRIVED, IncomingStatus.REGISTERED

INCOMING: tuple[DemoIncoming, ...] = (
    DemoIncoming("H35.02", _R, "ubnd-ke-hoach-vtlt", due_days=30),
    DemoIncoming("H35.01", _R, "ubnd-ke-hoach-vtlt"),
    DemoIncoming("H35.101", _R, "ubnd-mua-lon", due_days=2),
    DemoIncoming("H35.102", _R, "ubnd-ky-cuong"),
    DemoIncoming("H35.04", _R, "ubnd-vb-dien-tu", due_days=15),
    DemoIncoming("H35.04", _R, "vp-ket-luan"),
    DemoIncoming("H35.03", _R, "vp-tap-huan"),
    DemoIncoming("H35", _R, "stc-du-toan-6-thang"),
    DemoIncoming("H35.04", _R, "stc-xay-dung-du-toan", due_days=20),
    DemoIncoming("H35", _R, "snv-vi-tri-viec-lam", due_days=10),
    DemoIncoming("H35.101", _R, "snv-vtlt"),
    DemoIncoming("H35.102", _A, "snv-vtlt"),
    DemoIncoming("H35.03", _A, "kimbang-ho-tro", due_days=7),
    DemoIncoming("H35.02", _A, "skhcn-hoi-thao"),
    DemoIncoming("H35.02", _R, channel=Channel.PAPER, sender="G09", code="4125/BNV-VP",
                 subject="Về việc hướng dẫn thực hiện chế độ báo cáo thống kê ngành Nội vụ",
                 signer=("Thứ trưởng", "Hoàng Văn Quyết"), when=(1, 0.40), due_days=30),
    DemoIncoming("H35", _R, channel=Channel.AXIS, sender="G22", type_name="Thông báo", code="312/TB-VPCP",
                 subject="Kết luận của Thủ tướng Chính phủ tại hội nghị trực tuyến về chuyển đổi số quốc gia",
                 signer=("Phó Chủ nhiệm", "Lê Minh Châu"), when=(0, 0.30), urgency=Urgency.URGENT),
    DemoIncoming("H35.01", _R, channel=Channel.PAPER, sender="G22", code="2087/VPCP-KSTT",
                 subject="Về việc gửi, nhận văn bản điện tử trên Trục liên thông văn bản quốc gia",
                 signer=("Phó Chủ nhiệm", "Lê Minh Châu"), when=(0, 0.65)),
    DemoIncoming("H35.03", _R, channel=Channel.PAPER, sender="G10", code="9804/BTC-NSNN",
                 subject="Về việc hướng dẫn quyết toán ngân sách nhà nước năm trước",
                 signer=("Thứ trưởng", "Đinh Quang Vũ"), when=(0, 0.15), due_days=45),
    DemoIncoming("H35.01", _A, channel=Channel.AXIS, sender="G09", code="5310/BNV-VTLTNN",
                 subject="Về việc kiểm tra công tác văn thư, lưu trữ năm {nam}",
                 signer=("Cục trưởng Cục Văn thư và Lưu trữ nhà nước", "Trịnh Thu Hà"), when=(0, 0.92),
                 urgency=Urgency.URGENT),
)

# ---------------------------------------------------------------------------------------------


def database_is_empty() -> bool:
    """No organisation yet: a fresh installation (``seed-demo --if-empty``)."""
    return session.execute(select(Organisation.id).limit(1)).first() is None


def seed() -> str:
    """Build whatever of the demo province is missing and say what was created, in Vietnamese."""
    created: Counter[str] = Counter()
    nodes = _seed_organisations(created)
    _seed_people(nodes, created)
    types = _seed_document_types(created)
    books = _seed_books(nodes, created)
    outgoing = _seed_outgoing(nodes, types, books, created)
    _seed_incoming(nodes, books, outgoing, created)
    _seed_schedule(nodes, created)
    if created:
        audit.record(None, "demo.seed", object_type="demo", actor_name="seed-demo", details=dict(created))
    return _report(created)


def _report(created: Counter[str]) -> str:
    if not created:
        return "Dữ liệu mẫu tỉnh Hà Nam đã có đủ; không tạo thêm gì."
    parts = [f"{created[key]} {label}" for key, label in (
        ("organisations", "cơ quan"), ("units", "phòng, ban"), ("people", "tài khoản"),
        ("document_types", "loại văn bản"), ("books", "sổ văn bản"), ("outgoing", "văn bản đi"),
        ("incoming", "văn bản đến"), ("schedule_entries", "mục lịch công tác")) if created[key]]
    return "Đã tạo dữ liệu mẫu tỉnh Hà Nam: " + "; ".join(parts) + "."


# ---------------------------------------------------------------------------------------------


@dataclass
class _Node:
    """A seeded organisation with its units by abbreviation."""

    org: Organisation
    units: dict[str, Organisation]


def _seed_organisations(created: Counter[str]) -> dict[str, _Node]:
    nodes: dict[str, _Node] = {}
    for spec in ORGANISATIONS + EXTERNALS:
        parent = None if spec in (PROVINCE, *EXTERNALS) else nodes[PROVINCE.organ_id].org
        org = session.execute(select(Organisation).where(Organisation.organ_id == spec.organ_id)).scalar_one_or_none()
        if org is None:
            org = orgs.create(None, orgs.OrgData(
                name=spec.name, short_name=spec.short_name, kind=spec.kind, is_issuing=True,
                parent_id=parent.id if parent else None, organ_id=spec.organ_id,
                legacy_organ_id=spec.legacy_organ_id, address=spec.address, email=spec.email))
            created["organisations"] += 1
        nodes[spec.organ_id] = _Node(org, {unit.short_name: _unit(org, unit, created) for unit in spec.units})
    return nodes


def _unit(org: Organisation, spec: DemoUnit, created: Counter[str]) -> Organisation:
    unit = session.execute(select(Organisation).where(
        Organisation.parent_id == org.id, Organisation.short_name == spec.short_name)).scalars().first()
    if unit is None:
        unit = orgs.create(None, orgs.OrgData(name=spec.name, short_name=spec.short_name,
                                              kind=OrgKind.INTERNAL_UNIT, is_issuing=False, parent_id=org.id))
        created["units"] += 1
    return unit


def _seed_people(nodes: dict[str, _Node], created: Counter[str]) -> None:
    existing = set(session.execute(
        select(User.username).where(User.username.in_([a.username for a in ACCOUNTS]))).scalars())
    for account in ACCOUNTS:
        if account.username in existing:
            continue
        node = nodes[account.organ_id]
        accounts.create_person(None, accounts.PersonData(
            username=account.username, full_name=account.full_name, email=f"{account.username}@hanam.example",
            positions=[accounts.PositionData(
                organisation_id=node.org.id, title=account.title, roles=list(account.roles),
                unit_id=node.units[account.unit].id if account.unit else None)],
        ), password=account.password)
        created["people"] += 1


def _seed_document_types(created: Counter[str]) -> dict[str, DocumentType]:
    types = {t.name: t for t in session.execute(select(DocumentType)).scalars()}
    for name, abbreviation in DOCUMENT_TYPES:
        if name not in types:
            types[name] = DocumentType(name=name, abbreviation=abbreviation, is_normative=False)
            session.add(types[name])
            created["document_types"] += 1
    session.flush()
    return types


def _seed_books(nodes: dict[str, _Node], created: Counter[str]) -> dict[tuple[str, Direction], RegisterBook]:
    books: dict[tuple[str, Direction], RegisterBook] = {}
    for spec in ORGANISATIONS:
        org = nodes[spec.organ_id].org
        for direction, name in ((Direction.INCOMING, INCOMING_BOOK), (Direction.OUTGOING, OUTGOING_BOOK)):
            book = session.execute(select(RegisterBook).where(
                RegisterBook.organisation_id == org.id, RegisterBook.direction == direction,
                RegisterBook.name == name)).scalars().first()
            if book is None:
                book = RegisterBook(organisation_id=org.id, direction=direction, name=name,
                                    notation_template=OUTGOING_TEMPLATE)
                session.add(book)
                created["books"] += 1
            books[spec.organ_id, direction] = book
    session.flush()
    return books


def _moment(when: tuple[int, float], slot: int) -> datetime:
    """An instant in office hours on a weekday, ``fraction`` of the way through the year (this
    year: through the days so far), never in the future. ``slot`` spreads documents over the day."""
    years_back, fraction = when
    now = now_utc()
    first = date(local_year(now) - years_back, 1, 1)
    last = local_today() if years_back == 0 else date(first.year, 12, 31)
    day = first + timedelta(days=round(fraction * (last - first).days))
    while day.weekday() >= 5 and day > first:  # Saturday, Sunday: the Friday before
        day -= timedelta(days=1)
    start = datetime.combine(day, time(7, 30), tzinfo=zone()) + timedelta(minutes=slot * 23 % 540)
    return min(start.astimezone(UTC), now)


def _leader(organ_id: str) -> DemoAccount:
    return next(a for a in ACCOUNTS if a.organ_id == organ_id and Role.AGENCY_LEADER in a.roles)


def _clerk(organ_id: str) -> User:
    username = next(a.username for a in ACCOUNTS if a.organ_id == organ_id and Role.CLERK in a.roles)
    return session.execute(select(User).where(User.username == username)).scalar_one()


def _seed_outgoing(nodes: dict[str, _Node], types: dict[str, DocumentType],
                   books: dict[tuple[str, Direction], RegisterBook],
                   created: Counter[str]) -> dict[str, OutgoingDocument]:
    """Existing ones are looked up; new ones are numbered in order of issue, as a clerk would."""
    found: dict[str, OutgoingDocument] = {}
    planned: list[tuple[datetime, int, DemoOutgoing, str]] = []
    for slot, spec in enumerate(OUTGOING):
        issued_at = _moment(spec.when, slot)
        subject = spec.subject.format(nam=local_year(issued_at))
        doc = session.execute(select(OutgoingDocument).where(
            OutgoingDocument.organisation_id == nodes[spec.organ_id].org.id,
            OutgoingDocument.subject == subject)).scalars().first()
        if doc is None:
            planned.append((issued_at, slot, spec, subject))
        else:
            found[spec.key] = doc
    for issued_at, _slot, spec, subject in sorted(planned, key=lambda p: p[:2]):
        found[spec.key] = _issue(spec, subject, issued_at, nodes[spec.organ_id], types[spec.type_name],
                                 books[spec.organ_id, Direction.OUTGOING])
        created["outgoing"] += 1
    session.flush()
    return found


def _issue(spec: DemoOutgoing, subject: str, issued_at: datetime, node: _Node, doc_type: DocumentType,
           book: RegisterBook) -> OutgoingDocument:
    org, unit = node.org, node.units[spec.unit]
    year = local_year(issued_at)
    number = numbering.take_next(book, year)
    so = numbering.display(number)
    template = book.notation_template if doc_type.abbreviation else CONG_VAN_TEMPLATE
    notation = template.format(so=so, loai=doc_type.abbreviation, co_quan=org.short_name,
                               don_vi=unit.short_name, nam=year).removeprefix(f"{so}/")
    issued_date = issued_at.astimezone(zone()).date()
    leader = _leader(spec.organ_id)
    doc = OutgoingDocument(
        organisation_id=org.id, unit_id=unit.id, status=OutgoingStatus.ISSUED, book_id=book.id, year=year,
        number=number, document_type_id=doc_type.id, issued_at=issued_at, issued_by_id=_clerk(spec.organ_id).id,
        type_name=_printed_type(doc_type.name), code_number=so, code_notation=notation, issued_date=issued_date,
        organ_name=org.name, subject=subject, subject_folded=fold(subject), page_amount=spec.pages,
        signer_position=leader.title, signer_name=leader.full_name, urgency=spec.urgency,
        document_id=f"{org.organ_id},{issued_date:%Y/%m/%d},{so}/{notation}",
        identifier=f"{org.organ_id}-{year}.{so}/{notation}",
        recipients_text=f"{spec.recipients}; Lưu: VT, {unit.short_name}.",
    )
    session.add(doc)
    return doc


def _printed_type(name: str) -> str:
    """TypeName as printed on the document: "Quyết định", not the catalogue's "(cá biệt)"."""
    return name.removesuffix(" (cá biệt)")


def _seed_incoming(nodes: dict[str, _Node], books: dict[tuple[str, Direction], RegisterBook],
                   outgoing: dict[str, OutgoingDocument], created: Counter[str]) -> None:
    """Receipts are registered in order of arrival: that order is what the số đến record."""
    now = now_utc()
    planned: list[tuple[datetime, int, IncomingDocument]] = []
    for slot, spec in enumerate(INCOMING):
        org = nodes[spec.organ_id].org
        doc = _received(spec, slot, nodes, outgoing) if spec.source else _from_outside(spec, slot, nodes)
        doc.organisation_id = org.id
        doc.status = spec.status
        existing = session.execute(select(IncomingDocument.id).where(
            IncomingDocument.organisation_id == org.id, IncomingDocument.subject == doc.subject,
            IncomingDocument.organ_name == doc.organ_name)).first()
        if existing is None:
            planned.append((doc.arrived_at, slot, doc))
    for arrived_at, slot, doc in sorted(planned, key=lambda p: p[:2]):
        spec = INCOMING[slot]
        if spec.due_days is not None:
            doc.due_date = arrived_at.astimezone(zone()).date() + timedelta(days=spec.due_days)
        if spec.status == IncomingStatus.REGISTERED:
            doc.registered_at = min(arrived_at + timedelta(minutes=25), now)
            doc.registered_by_id = _clerk(spec.organ_id).id
            book = books[spec.organ_id, Direction.INCOMING]
            doc.book_id, doc.year = book.id, local_year(doc.registered_at)
            doc.arrival_number = numbering.take_next(book, doc.year)
            doc.arrival_date = arrived_at.astimezone(zone()).date()
        doc.organ_name_folded = fold(doc.organ_name)
        doc.code_key = incoming_code_key(doc.code_number, doc.code_notation)
        session.add(doc)
        created["incoming"] += 1
    session.flush()
    for _arrived_at, _slot, doc in planned:
        doc.sort_key = incoming_sort_key(doc)
        session.add(IncomingEvent(document_id=doc.id, at=doc.arrived_at, actor_name=doc.organ_name[:100],
                                  action="arrive", status=IncomingStatus.ARRIVED.value, status_changed=True))
        if doc.registered_at is not None:
            clerk = session.get(User, doc.registered_by_id)
            session.add(IncomingEvent(document_id=doc.id, at=doc.registered_at, actor_id=clerk.id,
                                      actor_name=clerk.full_name, action="register", status=doc.status.value,
                                      status_changed=True,
                                      text=f"Số đến {numbering.display(doc.arrival_number)}"))
    session.flush()


def _received(spec: DemoIncoming, slot: int, nodes: dict[str, _Node],
              outgoing: dict[str, OutgoingDocument]) -> IncomingDocument:
    """A province-internal exchange: the receiving copy repeats the sender's metadata (§2.2)."""
    source = outgoing[spec.source or ""]
    sender = source.organisation
    return IncomingDocument(
        channel=Channel.INTERNAL, sender_organisation_id=sender.id, sender_organ_id=sender.organ_id,
        source_outgoing_id=source.id, document_id=source.document_id,
        arrived_at=min(source.issued_at + timedelta(minutes=40 + slot % 5 * 10), now_utc()),
        type_name=source.type_name, code_number=source.code_number, code_notation=source.code_notation,
        issued_date=source.issued_date, organ_name=source.organ_name, subject=source.subject,
        subject_folded=source.subject_folded, page_amount=source.page_amount, urgency=source.urgency,
        signer_position=source.signer_position, signer_name=source.signer_name,
    )


def _from_outside(spec: DemoIncoming, slot: int, nodes: dict[str, _Node]) -> IncomingDocument:
    sender = nodes[spec.sender or ""].org
    arrived_at = _moment(spec.when, slot)
    issued_date = arrived_at.astimezone(zone()).date() - timedelta(days=3)
    subject = spec.subject.format(nam=local_year(arrived_at))
    number, notation = spec.code.split("/", 1)
    return IncomingDocument(
        channel=spec.channel, has_paper=spec.channel == Channel.PAPER, sender_organisation_id=sender.id,
        sender_organ_id=sender.organ_id, arrived_at=arrived_at, type_name=spec.type_name,
        code_number=number, code_notation=notation, issued_date=issued_date, organ_name=sender.name,
        subject=subject, subject_folded=fold(subject), page_amount=2, urgency=spec.urgency,
        signer_position=spec.signer[0], signer_name=spec.signer[1],
        document_id=(f"{sender.legacy_organ_id},{issued_date:%Y/%m/%d},{spec.code}"
                     if spec.channel == Channel.AXIS else None),
    )


DEMO_SCHEDULE = [  # (weekday, start, end, content, location)
    (0, time(8), time(9, 30), "Giao ban lãnh đạo Văn phòng đầu tuần", "Phòng họp tầng 2"),
    (2, time(14), None, "Làm việc với Sở Nội vụ về chuyển đổi số trong công tác văn thư", "Sở Nội vụ"),
    (4, None, None, "Tiếp công dân định kỳ", "Trụ sở tiếp công dân tỉnh"),
]


def _seed_schedule(nodes: dict[str, _Node], created: Counter[str]) -> None:
    """The Văn phòng's published schedule for the current week, once (a week already there is kept)."""
    from portal.schedules import services as schedules

    office = nodes["H35.01"].org
    cal = schedules.calendar_for(office)
    monday = schedules.monday_of(local_today())
    if schedules.find_week(cal, monday) is not None:
        return
    editor, leader = (session.execute(select(User).where(User.username == name)).scalar_one()
                      for name in ("laplich.vp", "lanhdao.vp"))
    editor.current_position, leader.current_position = editor.positions[0], leader.positions[0]
    for weekday, start, end, content, location in DEMO_SCHEDULE:
        schedules.add_entry(editor, cal, monday, schedules.EntryData(
            day=monday + timedelta(days=weekday), start=start, end=end, all_day=start is None, content=content,
            presiding_ids=[leader.id], location=location))
    week = schedules.submit(editor, cal, monday)
    schedules.approve(leader, week)
    schedules.publish(leader, week)
    created["schedule_entries"] += len(DEMO_SCHEDULE)
