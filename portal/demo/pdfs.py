"""A one-page PDF for each demo document, laid out like NĐ 30 Phụ lục I (header, số, date line, name, trích
yếu, body, signer), so the demo's pages show something in the viewer beside the actions. Demo only."""

from __future__ import annotations

from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from portal.pdf_fonts import SERIF, SERIF_BOLD, register_fonts


def document_pdf(*, organ_name: str, type_name: str, code: str, place_date: str, subject: str,
                 signer_position: str, signer_name: str) -> bytes:
    register_fonts()
    out = BytesIO()
    c = Canvas(out, pagesize=A4)
    width, height = A4
    c.setTitle(f"{type_name} {code}")
    c.setFont(SERIF_BOLD, 12)
    c.drawCentredString(150, height - 60, organ_name.upper()[:40])
    c.drawCentredString(410, height - 60, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    c.drawCentredString(410, height - 76, "Độc lập - Tự do - Hạnh phúc")
    c.setFont(SERIF, 13)
    c.drawCentredString(150, height - 100, f"Số: {code}")
    c.drawCentredString(410, height - 100, place_date)
    c.setFont(SERIF_BOLD, 14)
    c.drawCentredString(width / 2, height - 150, type_name.upper())
    c.setFont(SERIF_BOLD, 13)
    words, line, y = subject.split(), "", height - 172
    for word in words:  # the trích yếu, wrapped
        if c.stringWidth(f"{line} {word}", SERIF_BOLD, 13) > width - 170:
            c.drawCentredString(width / 2, y, line)
            line, y = word, y - 17
        else:
            line = f"{line} {word}".strip()
    c.drawCentredString(width / 2, y, line)
    c.setFont(SERIF, 13)
    body = ["Căn cứ chức năng, nhiệm vụ được giao và tình hình thực tế tại địa phương;",
            "Đề nghị các cơ quan, đơn vị liên quan nghiên cứu, triển khai thực hiện nội dung trên;",
            "báo cáo kết quả về cơ quan ban hành đúng thời hạn quy định.",
            "(Văn bản mẫu của dữ liệu thử nghiệm: không có giá trị pháp lý.)"]
    for i, text in enumerate(body):
        c.drawString(85, y - 50 - i * 22, text)
    c.setFont(SERIF_BOLD, 13)
    c.drawCentredString(420, 300, signer_position.upper()[:40])
    c.drawCentredString(420, 210, signer_name)
    c.showPage()
    c.save()
    return out.getvalue()
