"""The four register books of NĐ 30/2020 Phụ lục IV (SPEC §8.1, §8.3): each book's title and
columns (``LAYOUTS``), and what ``portal.registers.pdf`` prints: a ``RegisterData`` (cover
fields, the layout and an iterator of ``Row``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

# --- the books ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """One book: its title and its columns (NĐ 30 Phụ lục IV, headings verbatim), relative widths
    in millimetres (267 mm across, A4 landscape less the margins) and alignment ("l" left,
    "c" centred)."""

    kind: str
    title: str
    headings: tuple[str, ...]
    widths: tuple[float, ...]
    align: str


LAYOUTS: dict[str, Layout] = {
    "den": Layout(
        "den", "Sổ đăng ký văn bản đến",
        ("Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu văn bản", "Ngày tháng văn bản",
         "Tên loại và trích yếu nội dung văn bản", "Đơn vị hoặc người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú"),
        (21, 14, 30, 26, 21, 58, 31, 21, 23, 22), "ccllcllccl"),
    "di": Layout(
        "di", "Sổ đăng ký văn bản đi",
        ("Số, ký hiệu văn bản", "Ngày tháng văn bản", "Tên loại và trích yếu nội dung văn bản", "Người ký",
         "Nơi nhận văn bản", "Đơn vị, người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận", "Ghi chú"),
        (27, 21, 62, 26, 40, 24, 13, 21, 14, 19), "lcllllccll"),
    "giai_quyet": Layout(
        "giai_quyet", "Sổ theo dõi giải quyết văn bản đến",
        ("Số đến", "Tên loại, số, ký hiệu, ngày, tháng và tên cơ quan, tổ chức ban hành văn bản",
         "Đơn vị hoặc người nhận", "Thời hạn giải quyết", "Tiến độ giải quyết", "Số, ký hiệu văn bản trả lời",
         "Ghi chú"),
        (15, 80, 45, 22, 40, 30, 35), "cllclll"),
    "buu_dien": Layout(
        "buu_dien", "Sổ gửi văn bản đi bưu điện",
        ("Ngày chuyển", "Số, ký hiệu văn bản", "Nơi nhận văn bản", "Số lượng bì", "Ký nhận và dấu bưu điện",
         "Ghi chú"),
        (22, 32, 90, 18, 55, 50), "cllcll"),
}


@dataclass(frozen=True)
class Row:
    """One printed row: its cells (plain text, "\\n" for a line break), and the number and date that
    the cover's "từ số … đến số …", "từ ngày … đến ngày …" summarise."""

    cells: Sequence[str]
    number: int | None = None
    day: date | None = None


@dataclass
class RegisterData:
    layout: Layout
    organisation: str
    governing_body: str = ""  # tên cơ quan chủ quản
    period: str = ""  # "Năm 2026" or "Từ 01/03/2026 đến 31/03/2026"
    year_label: str = ""  # "2026", or "2025 - 2026" for a range over a new year
    volume: str = "01"  # quyển số
    books: str = ""  # the register books printed, e.g. "Sổ văn bản đến"
    printed_by: str = ""
    printed_at: datetime | None = None  # Vietnam time
    rows: Iterable[Row] = field(default_factory=list)
    # called with the number of rows drawn so far, every ``progress_every`` rows and at the end
    progress: Callable[[int], None] | None = None
    progress_every: int = 500

