"""The signature report for people (issue 18 item 5): on the incoming document page each signature
says first its verdict (the report's exact words), then "Tên", the organisation, "Quốc gia" and the
signing time as dd/mm/yyyy HH:mm in Vietnam time; hashes, serial numbers and algorithms sit inside
"Chi tiết kỹ thuật". Real signatures from the dev PKI, real pyHanko."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from portal.signatures.report import country_name, local_moments, signer
from portal.signing.verification import ADDED, VALID
from tests.signing_fixtures import (  # noqa: F401  (fixtures)
    CHAIRMAN,
    ORG,
    SEAL,
    DevPki,
    fixture_dev_pki,
    fixture_draft_pdf,
    fixture_receiving,
    fixture_seal_png,
    fixture_signature_png,
    receive_pdf,
    signed_and_issued,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def issued(dev_pki: DevPki, draft_pdf: bytes, signature_png: bytes, seal_png: bytes) -> bytes:
    return signed_and_issued(dev_pki, draft_pdf, signature_png, seal_png, signed_at_text="07/12/2026 09:30:15",
                             date_text="Hà Nam, ngày 07 tháng 12 năm 2026")["issued"]


def _section(html: str) -> str:
    start = html.index('<section id="signatures"')
    return html[start:html.index("</section>", start)]


def _stored(db, doc) -> dict:
    from sqlalchemy import select

    from portal.incoming.models import IncomingFile

    main = db.execute(select(IncomingFile).where(IncomingFile.document_id == doc.id)).scalars().one()
    return json.loads(main.signature_report)


def test_the_page_reads_for_people_with_the_technical_part_folded(issued, dev_pki, db, factory, receiving):
    org, client = receiving
    doc = receive_pdf(factory, db, org, issued)
    assert doc.signature_verdict == VALID
    section = _section(client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True))
    cards = re.findall(r'<li class="sig-card sig-ok">(.*?)</li>\s*(?=<li class="sig-card|</ol>)', section, re.S)
    assert len(cards) == 2  # the chairman's signature and the seal
    stored = _stored(db, doc)["chu_ky"]
    for card, sig, key in zip(cards, stored, (CHAIRMAN.key_name, SEAL.key_name), strict=True):
        visible, technical = card.split('<details class="sig-technical">')
        assert "<strong>Hợp lệ</strong>" in visible
        assert "<dt>Tên</dt>" in visible
        assert "<dt>Quốc gia</dt><dd>Việt Nam</dd>" in visible
        when = datetime.fromisoformat(sig["signed_at"]).astimezone(VN).strftime("%d/%m/%Y %H:%M")
        assert re.search(rf">{re.escape(when)}</time>", visible)
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", when)
        cert = dev_pki.cert(key)
        fingerprint = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
        serial = format(cert.serial_number, "X")
        assert "<summary>Chi tiết kỹ thuật</summary>" in technical
        for secret in (fingerprint, serial, sig["signer"]["spki_sha256"], "RSA ", "sha256WithRSAEncryption"):
            assert secret in technical
            assert secret not in visible
        assert sig["thoi_gian_ky"] not in visible  # the ISO form only among the details
    chairman, seal = cards
    assert f"<dt>Tên</dt><dd>{CHAIRMAN.full_name}</dd>" in chairman
    assert f"<dt>Cơ quan, tổ chức</dt><dd>{ORG}</dd>" in chairman
    assert f"<dt>Tên</dt><dd>{ORG}</dd>" in seal
    assert "Cơ quan, tổ chức" not in seal  # a seal's organisation is its name: not said twice
    assert section.count('class="verdict verdict-ok"') == 1  # the file's verdict, once


def test_data_added_after_signing_is_the_verdict_with_its_reason(issued, db, factory, receiving):
    org, client = receiving
    writer = IncrementalPdfFileWriter(BytesIO(issued))
    writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 0 0 600 800 re f Q"))
    out = BytesIO()
    writer.write(out)
    doc = receive_pdf(factory, db, org, out.getvalue())
    assert doc.signature_verdict == ADDED
    section = _section(client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True))
    cards = re.findall(r'<li class="sig-card sig-warn">(.*?)</li>\s*(?=<li class="sig-card|</ol>)', section, re.S)
    assert len(cards) == 2
    visible = cards[-1].split('<details class="sig-technical">')[0]
    assert f"<strong>{ADDED}</strong>" in visible
    assert '<ul class="sig-problems">' in visible
    assert "thêm đối tượng không được tham chiếu" in visible
    assert "Chữ ký số của văn bản: Có dữ liệu được thêm sau khi ký." in section


def test_an_older_report_without_the_certificate_still_reads():
    old = {"nguoi_ky": "Trương Quốc Hùng, Ủy ban nhân dân tỉnh Hà Nam", "to_chuc_cap": "CA thử nghiệm",
           "so_hieu_chung_thu": "1A2B", "thoi_gian_ky": "2026-12-07T09:30:15+07:00 (do người ký khai)",
           "thoi_han_chung_thu": "từ 2026-01-01T07:00:00+07:00 đến 2031-01-01T07:00:00+07:00",
           "toan_ven": "Có", "ket_luan": "Chưa xác định", "problems": ["Không xây dựng được chuỗi tin cậy."]}
    view = signer(old)
    assert (view.name, view.organisation, view.country) == ("Trương Quốc Hùng", "Ủy ban nhân dân tỉnh Hà Nam", "")
    assert (view.signed_at, view.signed_at_note) == ("07/12/2026 09:30", "do người ký khai")
    assert view.level == "warn"
    technical = dict(view.technical)
    assert technical["Số hiệu chứng thư"] == "1A2B"
    assert technical["Thời hạn chứng thư"] == "từ 01/01/2026 07:00 đến 01/01/2031 07:00"
    assert signer({"ket_luan": "Không hợp lệ"}).signed_at == "Chưa xác định"


def test_countries_and_moments():
    assert country_name("VN") == "Việt Nam"
    assert country_name("la") == "Lào"
    assert country_name("QQ") == "QQ"
    assert country_name(None) == ""
    assert local_moments("Có, lúc 2026-12-07T02:30:00+00:00, do TSA cấp") == "Có, lúc 07/12/2026 09:30, do TSA cấp"
