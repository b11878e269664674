"""What the demo province issues and receives: the NĐ 30 document types, the two books of every
organisation, and a few dozen documents of this year and the last.

``when`` is (years back, fraction of that year); this year's fractions run over the days so far, so
nothing is dated in the future, and last year's start on 1 July 2025, when the new province and its
bodies came into being (SPEC §18). "{nam}" in a trích yếu becomes the year.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.documents.models import Channel, IncomingStatus, Urgency

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
# Documents


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
    DemoOutgoing("ubnd-quy-che", "H99", "Quyết định (cá biệt)", "TH",
                 "Về việc ban hành Quy chế làm việc của Ủy ban nhân dân tỉnh Ninh Bình nhiệm kỳ 2021 - 2026",
                 (1, 0.10), recipients=_PROVINCE_WIDE, pages=12),
    DemoOutgoing("ubnd-ky-cuong", "H99", "Chỉ thị", "TH",
                 "Về tăng cường kỷ luật, kỷ cương hành chính trong các cơ quan hành chính nhà nước trên địa bàn tỉnh",
                 (1, 0.55), recipients=_PROVINCE_WIDE, pages=4),
    DemoOutgoing("ubnd-mua-lon", "H99", "Công văn", "KT",
                 "Về việc chủ động ứng phó với mưa lớn, ngập úng trên địa bàn tỉnh", (1, 0.70),
                 Urgency.EXPRESS, recipients=_PROVINCE_WIDE),
    DemoOutgoing("ubnd-ke-hoach-vtlt", "H99", "Kế hoạch", "TH",
                 "Kế hoạch triển khai công tác văn thư, lưu trữ năm {nam}", (0, 0.20),
                 recipients=_PROVINCE_WIDE, pages=6),
    DemoOutgoing("ubnd-vb-dien-tu", "H99", "Công văn", "NC",
                 "Về việc đẩy mạnh gửi, nhận văn bản điện tử có ký số giữa các cơ quan trên địa bàn tỉnh",
                 (0, 0.50), Urgency.URGENT, recipients=_PROVINCE_WIDE),
    DemoOutgoing("vp-ket-luan", "H99.01", "Thông báo", "HCTC",
                 "Kết luận của Chủ tịch Ủy ban nhân dân tỉnh tại buổi làm việc với Sở Khoa học và Công nghệ",
                 (1, 0.30), recipients="Sở Khoa học và Công nghệ"),
    DemoOutgoing("vp-tap-huan", "H99.01", "Giấy mời", "HCTC",
                 "Mời dự hội nghị tập huấn sử dụng Hệ thống quản lý văn bản và điều hành", (1, 0.75),
                 recipients="Văn thư các sở, ban, ngành", pages=1),
    DemoOutgoing("vp-chu-ky-so", "H99.01", "Công văn", "CBTH",
                 "Về việc hướng dẫn sử dụng chữ ký số chuyên dùng Chính phủ trên Hệ thống quản lý văn bản và điều hành",
                 (0, 0.10), recipients=_PROVINCE_WIDE),
    DemoOutgoing("vp-bao-cao", "H99.01", "Báo cáo", "HCTC",
                 "Báo cáo tình hình tiếp nhận, xử lý văn bản điện tử tại Văn phòng Ủy ban nhân dân tỉnh",
                 (0, 0.60), recipients="Ủy ban nhân dân tỉnh", pages=5),
    DemoOutgoing("snv-cchc", "H99.02", "Kế hoạch", "CCHC", "Kế hoạch cải cách hành chính năm {nam}", (1, 0.05),
                 recipients=_PROVINCE_WIDE, pages=8),
    DemoOutgoing("snv-huong-dan-ho-so", "H99.02", "Hướng dẫn", "VP",
                 "Hướng dẫn lập hồ sơ và nộp lưu hồ sơ, tài liệu vào Lưu trữ cơ quan", (1, 0.60),
                 recipients=_PROVINCE_WIDE, pages=10),
    DemoOutgoing("snv-boi-duong", "H99.02", "Quyết định (cá biệt)", "TCBC",
                 "Về việc phê duyệt danh sách công chức tham gia bồi dưỡng nghiệp vụ văn thư, lưu trữ", (1, 0.90),
                 recipients="Các cơ quan có công chức tham gia", pages=3),
    DemoOutgoing("snv-vi-tri-viec-lam", "H99.02", "Tờ trình", "TCBC",
                 "Về việc đề nghị phê duyệt Đề án vị trí việc làm của Sở Nội vụ", (0, 0.45),
                 recipients="Ủy ban nhân dân tỉnh", pages=4),
    DemoOutgoing("snv-vtlt", "H99.02", "Công văn", "VP", "Về việc triển khai công tác văn thư, lưu trữ năm {nam}",
                 (0, 0.75), recipients=_PROVINCE_WIDE),
    DemoOutgoing("stc-du-toan-6-thang", "H99.03", "Báo cáo", "QLNS",
                 "Báo cáo tình hình thực hiện dự toán ngân sách địa phương 6 tháng đầu năm {nam}", (1, 0.50),
                 recipients="Ủy ban nhân dân tỉnh", pages=7),
    DemoOutgoing("stc-xay-dung-du-toan", "H99.03", "Công văn", "QLNS",
                 "Về việc hướng dẫn xây dựng dự toán ngân sách nhà nước năm sau", (1, 0.80), Urgency.URGENT,
                 recipients=_PROVINCE_WIDE, pages=3),
    DemoOutgoing("stc-thanh-ly", "H99.03", "Thông báo", "QLGCS",
                 "Về việc thẩm định giá tài sản thanh lý của các cơ quan, đơn vị", (0, 0.35),
                 recipients="Các cơ quan có tài sản thanh lý"),
    DemoOutgoing("skhcn-nhiem-vu", "H99.04", "Quyết định (cá biệt)", "QLKH",
                 "Về việc phê duyệt danh mục nhiệm vụ khoa học và công nghệ cấp tỉnh đặt hàng", (1, 0.25),
                 recipients="Các tổ chức chủ trì nhiệm vụ", pages=5),
    DemoOutgoing("skhcn-de-xuat", "H99.04", "Công văn", "QLKH",
                 "Về việc đề xuất nhiệm vụ khoa học và công nghệ cấp tỉnh", (0, 0.55), Urgency.URGENT,
                 recipients=_PROVINCE_WIDE),
    DemoOutgoing("skhcn-hoi-thao", "H99.04", "Giấy mời", "CĐS",
                 "Mời dự hội thảo chuyển đổi số trong cơ quan nhà nước tỉnh Ninh Bình", (0, 0.85),
                 Urgency.VERY_URGENT, recipients="Sở Nội vụ; Văn phòng Ủy ban nhân dân tỉnh", pages=1),
    DemoOutgoing("hoalu-tong-ket", "H99.101", "Báo cáo", "VP",
                 "Báo cáo tổng kết công tác văn thư, lưu trữ năm {nam}", (1, 0.95),
                 recipients="Sở Nội vụ", pages=4),
    DemoOutgoing("hoalu-ho-tro", "H99.101", "Công văn", "KTHTDT",
                 "Về việc đề nghị hỗ trợ kinh phí khắc phục hậu quả mưa lớn", (0, 0.80), Urgency.URGENT,
                 recipients="Sở Tài chính"),
    DemoOutgoing("phuly-to-cong-tac", "H99.102", "Quyết định (cá biệt)", "VHXH",
                 "Về việc thành lập Tổ công tác rà soát thủ tục hành chính phường Phủ Lý", (1, 0.60),
                 recipients="Các thành viên Tổ công tác"),
    DemoOutgoing("phuly-tiep-dan", "H99.102", "Thông báo", "VP",
                 "Về lịch tiếp công dân của Chủ tịch Ủy ban nhân dân phường", (0, 0.40),
                 recipients="Các tổ dân phố", pages=1),
    DemoOutgoing("namdinh-tiep-nhan-ho-so", "H99.103", "Báo cáo", "VP",
                 "Báo cáo kết quả tiếp nhận hồ sơ, tài liệu của các cơ quan, đơn vị sau sắp xếp đơn vị hành chính",
                 (1, 0.85), recipients="Sở Nội vụ", pages=4),
    DemoOutgoing("namdinh-chuyen-doi-so", "H99.103", "Kế hoạch", "KTHTDT",
                 "Kế hoạch chuyển đổi số phường Nam Định năm {nam}", (0, 0.25),
                 recipients="Các tổ dân phố; các cơ quan, đơn vị trên địa bàn phường", pages=3),
)

_A, _R = IncomingStatus.ARRIVED, IncomingStatus.REGISTERED

INCOMING: tuple[DemoIncoming, ...] = (
    DemoIncoming("H99.02", _R, "ubnd-ke-hoach-vtlt", due_days=30),
    DemoIncoming("H99.01", _R, "ubnd-ke-hoach-vtlt"),
    DemoIncoming("H99.101", _R, "ubnd-mua-lon", due_days=2),
    DemoIncoming("H99.102", _R, "ubnd-ky-cuong"),
    DemoIncoming("H99.04", _R, "ubnd-vb-dien-tu", due_days=15),
    DemoIncoming("H99.04", _R, "vp-ket-luan"),
    DemoIncoming("H99.03", _R, "vp-tap-huan"),
    DemoIncoming("H99", _R, "stc-du-toan-6-thang"),
    DemoIncoming("H99.04", _R, "stc-xay-dung-du-toan", due_days=20),
    DemoIncoming("H99", _R, "snv-vi-tri-viec-lam", due_days=10),
    DemoIncoming("H99.101", _R, "snv-vtlt"),
    DemoIncoming("H99.102", _A, "snv-vtlt"),
    DemoIncoming("H99.03", _A, "hoalu-ho-tro", due_days=7),
    DemoIncoming("H99.02", _A, "skhcn-hoi-thao"),
    DemoIncoming("H99.02", _R, "namdinh-tiep-nhan-ho-so"),
    DemoIncoming("H99.103", _R, "ubnd-ke-hoach-vtlt", due_days=30),
    DemoIncoming("H99.103", _A, "vp-chu-ky-so"),
    DemoIncoming("H99.02", _R, channel=Channel.PAPER, sender="G09", code="4125/BNV-VP",
                 subject="Về việc hướng dẫn thực hiện chế độ báo cáo thống kê ngành Nội vụ",
                 signer=("Thứ trưởng", "Hoàng Văn Quyết"), when=(1, 0.40), due_days=30),
    DemoIncoming("H99", _R, channel=Channel.AXIS, sender="G22", type_name="Thông báo", code="312/TB-VPCP",
                 subject="Kết luận của Thủ tướng Chính phủ tại hội nghị trực tuyến về chuyển đổi số quốc gia",
                 signer=("Phó Chủ nhiệm", "Lê Minh Châu"), when=(0, 0.30), urgency=Urgency.URGENT),
    DemoIncoming("H99.01", _R, channel=Channel.PAPER, sender="G22", code="2087/VPCP-KSTT",
                 subject="Về việc gửi, nhận văn bản điện tử trên Trục liên thông văn bản quốc gia",
                 signer=("Phó Chủ nhiệm", "Lê Minh Châu"), when=(0, 0.65)),
    DemoIncoming("H99.03", _R, channel=Channel.PAPER, sender="G10", code="9804/BTC-NSNN",
                 subject="Về việc hướng dẫn quyết toán ngân sách nhà nước năm trước",
                 signer=("Thứ trưởng", "Đinh Quang Vũ"), when=(0, 0.15), due_days=45),
    DemoIncoming("H99.01", _A, channel=Channel.AXIS, sender="G09", code="5310/BNV-VTLTNN",
                 subject="Về việc kiểm tra công tác văn thư, lưu trữ năm {nam}",
                 signer=("Cục trưởng Cục Văn thư và Lưu trữ nhà nước", "Trịnh Thu Hà"), when=(0, 0.92),
                 urgency=Urgency.URGENT),
)
