"""The generator's constants and realistic Vietnamese content: names of organisations, places,
issuers, document types and subjects, the people of every organisation (``STAFF``), the status
mix by age and the way of a draft; the names of people and the sample PDF every row refers to.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import BytesIO

from portal.auth.models import Role
from portal.text import fold

PASSWORD = "Đo-Hiệu-Năng@2026"  # noqa: S105  (printed on purpose: throwaway accounts of a load-test database)
CLERK = "vanthu.bench"  # the clerk of the biggest organisation (Sở Nội vụ)
SEED = 20261121
YEARS = 5
CLERK_SHARE = 0.05  # the first organisation receives 5 % of all documents, the rest a Zipf-like spread
OUTGOING_SHARE = 0.2  # of --documents: issued by the organisations (each with its draft)
OPEN_DRAFT_SHARE = 0.03  # drafts still on their way, relative to the outgoing documents
CHUNK = 10_000
LOCAL = timedelta(hours=7)  # Asia/Ho_Chi_Minh, no daylight saving

# --- realistic Vietnamese content ---------------------------------------------------------------------

DEPARTMENTS = [
    ("Sở Nội vụ", "SNV"), ("Sở Tài chính", "STC"), ("Sở Kế hoạch và Đầu tư", "SKHĐT"), ("Sở Tư pháp", "STP"),
    ("Sở Xây dựng", "SXD"), ("Sở Giao thông vận tải", "SGTVT"), ("Sở Tài nguyên và Môi trường", "STNMT"),
    ("Sở Nông nghiệp và Phát triển nông thôn", "SNNPTNT"), ("Sở Y tế", "SYT"), ("Sở Giáo dục và Đào tạo", "SGDĐT"),
    ("Sở Công Thương", "SCT"), ("Sở Thông tin và Truyền thông", "STTTT"),
    ("Sở Lao động - Thương binh và Xã hội", "SLĐTBXH"), ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL"),
    ("Sở Khoa học và Công nghệ", "SKHCN"), ("Thanh tra tỉnh", "TTr"), ("Văn phòng Ủy ban nhân dân tỉnh", "VPUBND"),
    ("Ban Dân tộc", "BDT"),
]
PLACES = ["Phủ Lý", "Duy Tiên", "Kim Bảng", "Thanh Liêm", "Bình Lục", "Lý Nhân", "Châu Sơn", "Lam Hạ", "Tiên Tân",
          "Liêm Chính", "Thanh Châu", "Đồng Văn", "Hòa Mạc", "Ba Sao", "Quế", "Kiện Khê", "Tân Thanh", "Vĩnh Trụ",
          "Nhân Hậu", "Đạo Lý", "Bồ Đề", "An Nội", "Trịnh Xá", "Liêm Tuyết", "Thi Sơn", "Tượng Lĩnh", "Nguyễn Úy"]
DEPARTMENT_UNITS = [("Văn phòng", "VP"), ("Phòng Kế hoạch - Tài chính", "KHTC"), ("Phòng Quản lý chuyên ngành", "QLCN")]
COMMUNE_UNITS = [("Văn phòng - Thống kê", "VP"), ("Phòng Kinh tế", "KT"), ("Phòng Văn hóa - Xã hội", "VHXH")]
ISSUERS = [  # organ name, its short name in ký hiệu, weight
    ("Ủy ban nhân dân tỉnh Ninh Bình", "UBND", 30), ("Văn phòng Ủy ban nhân dân tỉnh Ninh Bình", "VPUBND", 10),
    ("Tỉnh ủy Ninh Bình", "TU", 5), ("Hội đồng nhân dân tỉnh Ninh Bình", "HĐND", 3), ("Bộ Nội vụ", "BNV", 4),
    ("Văn phòng Chính phủ", "VPCP", 4), ("Bộ Tài chính", "BTC", 3), ("Bộ Khoa học và Công nghệ", "BKHCN", 3),
    ("Sở Nội vụ tỉnh Ninh Bình", "SNV", 8), ("Sở Tài chính tỉnh Ninh Bình", "STC", 6),
    ("Sở Xây dựng tỉnh Ninh Bình", "SXD", 5), ("Sở Nông nghiệp và Môi trường tỉnh Ninh Bình", "SNNMT", 5),
    ("Ủy ban nhân dân phường Hoa Lư", "UBND", 3), ("Ủy ban nhân dân phường Phủ Lý", "UBND", 3),
    ("Ủy ban nhân dân phường Nam Định", "UBND", 3), ("Ủy ban nhân dân phường Duy Tiên", "UBND", 3),
    ("Công an tỉnh Ninh Bình", "CAT", 3), ("Bảo hiểm xã hội tỉnh Ninh Bình", "BHXH", 2),
]
TYPES = [  # name, abbreviation (None: công văn), weight, subject openings
    ("Công văn", None, 40, ["Về việc", "V/v triển khai", "Về việc báo cáo", "Về việc tăng cường"]),
    ("Quyết định", "QĐ", 20, ["Quyết định về", "Quyết định ban hành Quy chế", "Quyết định phê duyệt Kế hoạch"]),
    ("Kế hoạch", "KH", 10, ["Kế hoạch thực hiện", "Kế hoạch triển khai", "Kế hoạch kiểm tra"]),
    ("Thông báo", "TB", 8, ["Thông báo kết luận của Chủ tịch Ủy ban nhân dân tỉnh về", "Thông báo về"]),
    ("Báo cáo", "BC", 8, ["Báo cáo kết quả", "Báo cáo tình hình"]),
    ("Giấy mời", "GM", 8, ["Giấy mời dự hội nghị về", "Giấy mời họp về"]),
    ("Tờ trình", "TTr", 3, ["Tờ trình về việc"]),
    ("Chỉ thị", "CT", 3, ["Chỉ thị về"]),
]
TOPICS = [
    "công tác văn thư, lưu trữ", "cải cách hành chính", "chuyển đổi số", "phòng, chống thiên tai và tìm kiếm cứu nạn",
    "phòng cháy, chữa cháy", "bảo đảm an toàn thông tin mạng", "tổ chức Tết Nguyên đán", "quản lý đầu tư công",
    "xây dựng nông thôn mới", "thi đua, khen thưởng", "tuyển dụng công chức", "đánh giá, xếp loại cán bộ, công chức",
    "phòng, chống dịch bệnh", "bồi thường, hỗ trợ, tái định cư", "quản lý đất đai", "giải quyết khiếu nại, tố cáo",
    "thu ngân sách nhà nước", "cấp giấy chứng nhận quyền sử dụng đất", "bảo đảm trật tự an toàn giao thông",
    "bảo vệ môi trường", "giáo dục và đào tạo", "y tế cơ sở", "bảo hiểm xã hội, bảo hiểm y tế",
    "cải cách thủ tục hành chính", "dịch vụ công trực tuyến", "tiếp công dân", "quốc phòng, an ninh",
    "phòng, chống tham nhũng, tiêu cực", "sắp xếp đơn vị hành chính cấp xã", "thực hành tiết kiệm, chống lãng phí",
    "công tác dân tộc, tôn giáo", "quản lý chất lượng hàng hóa", "phát triển du lịch", "ứng dụng công nghệ thông tin",
]
ENDINGS = ["", "", " năm {year}", " trên địa bàn tỉnh", " giai đoạn 2021 - 2025", " quý {quarter} năm {year}"]
CHANNELS = ["truc", "lgsp", "noi_bo", "giay", "email"]
CHANNEL_WEIGHTS = [35, 30, 20, 12, 3]
SIGNERS = [("Chủ tịch", "Nguyễn Văn An"), ("Phó Chủ tịch", "Trần Thị Bình"), ("Giám đốc", "Lê Minh Cường"),
           ("Phó Giám đốc", "Phạm Thu Hà"), ("Chánh Văn phòng", "Hoàng Quốc Khánh")]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý"]
MEN = (["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Công"],
       ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn", "Thắng",
        "Tuấn", "Việt"])
WOMEN = (["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Kim"],
         ["Anh", "Chi", "Dung", "Giang", "Hà", "Hằng", "Hương", "Lan", "Linh", "Mai", "Oanh", "Phương", "Thảo",
          "Trang", "Yến"])
DIRECTIVES = ["Giao {unit} chủ trì, tham mưu xử lý.", "Giao {unit} nghiên cứu, đề xuất; báo cáo trước hạn.",
              "Giao {unit} chủ trì phối hợp các đơn vị liên quan triển khai thực hiện."]

# (username prefix, title, roles, unit index or None) of the people of every organisation
STAFF: list[tuple[str, str, tuple[Role, ...], int | None]] = [
    ("vanthu", "Văn thư", (Role.CLERK,), 0),
    ("lanhdao", "{head}", (Role.AGENCY_LEADER,), None),
    ("pholanhdao", "Phó {head}", (Role.AGENCY_LEADER,), None),
    ("chanhvanphong", "Chánh Văn phòng", (Role.UNIT_HEAD, Role.FORMAT_CHECKER), 0),
    ("chuyenvienvp", "Chuyên viên", (Role.OFFICER, Role.SCHEDULE_EDITOR), 0),
    ("truongphong", "Trưởng phòng", (Role.UNIT_HEAD,), 1),
    ("chuyenvien", "Chuyên viên", (Role.OFFICER,), 1),
    ("chuyenvienb", "Chuyên viên chính", (Role.OFFICER,), 1),
    ("truongphongb", "Trưởng phòng", (Role.UNIT_HEAD,), 2),
    ("chuyenvienc", "Chuyên viên", (Role.OFFICER,), 2),
    ("luutru", "Lưu trữ viên", (Role.ARCHIVIST,), 0),
    ("quantri", "Quản trị hệ thống cơ quan", (Role.ORG_ADMIN,), 0),
]
CLERK_I, LEADER_I, DEPUTY_I, VP_HEAD_I = 0, 1, 2, 3
UNIT_HEADS = (3, 5, 8)  # index in STAFF of the head of unit 0, 1, 2
UNIT_OFFICERS = ((4,), (6, 7), (9,))

STATUSES = ("01", "03", "03p", "04", "05", "06")
STATUS_BANDS = (  # age in days below which, weights of STATUSES: recent documents are still open
    (3, (20, 10, 15, 25, 20, 10)),
    (30, (0, 2, 4, 20, 30, 44)),
    (180, (0, 0, 0.5, 2.5, 7, 90)),
    (float("inf"), (0, 0, 0, 0.3, 0.7, 99)),
)
OPEN_DRAFT_STATUSES = ("soan_thao", "cho_duyet", "cho_the_thuc", "cho_ky", "da_ky")
DRAFT_CHAIN = (  # action, status afterwards: the way of an issued draft (SPEC §6)
    ("create", "soan_thao"), ("submit", "cho_duyet"), ("approve", "cho_the_thuc"), ("format_ok", "cho_ky"),
    ("sign", "da_ky"), ("issue", "da_phat_hanh"),
)



def _skew(k: int) -> list[float]:
    """Zipf-like sizes: a few departments are big, most communes small."""
    raw = [1 / (rank + 1) ** 0.9 for rank in range(k)]
    total = sum(raw)
    return [w / total for w in raw]


def _fold_cache() -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def cached(value: str) -> str:
        folded = cache.get(value)
        if folded is None:
            folded = cache[value] = fold(value)
        return folded

    return cached


def person_name(uid: int) -> str:
    middle, given = WOMEN if uid % 3 == 1 else MEN
    return f"{FAMILY[uid * 7 % len(FAMILY)]} {middle[uid % len(middle)]} {given[uid * 5 % len(given)]}"


def sample_pdf(n: int) -> bytes:
    """A one-page PDF (a few kilobytes) standing in for a scanned or signed document."""
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    pdf.setTitle(f"Van ban mau {n}")
    pdf.drawString(72, 760, f"UY BAN NHAN DAN TINH NINH BINH - van ban mau so {n}")
    for line in range(8 * n):
        pdf.drawString(72, 730 - 14 * (line % 45), f"Noi dung dong {line + 1}: {fold(TOPICS[line % len(TOPICS)])}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
