"""Signing with real keys (dev PKI), real pyHanko validation and poppler's pdfsig; no mocks (SPEC §7)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pypdf import PdfReader, PdfWriter

from portal.signing import appearance, pdfsign, pki
from portal.signing.verification import REJECT, UploadRejected, check_signed_upload, verify
from tests.signing_fixtures import (  # noqa: F401  (fixtures)
    CHAIRMAN,
    DEPUTY,
    ORG,
    SEAL,
    DevPki,
    fixture_dev_pki,
    fixture_draft_pdf,
    fixture_seal_png,
    fixture_signature_png,
    signed_and_issued,
)

NUMBER = "125/QĐ-UBND"
DATE = "Hà Nam, ngày 21 tháng 11 năm 2026"
PDFSIG = shutil.which("pdfsig")
PDFTOPPM = shutil.which("pdftoppm")


def _personal(pdf: bytes, dev_pki: DevPki, key_name: str = CHAIRMAN.key_name, *, image: bytes | None = None,
              field_name: str = "KyCaNhan1") -> bytes:
    return pdfsign.sign_personal(pdf, dev_pki.signer(key_name), box=pdfsign.default_signer_box(pdf),
                                 image_png=image, name=CHAIRMAN.full_name, signed_at_text="21/11/2026 09:30:15",
                                 field_name=field_name)


@pytest.fixture(scope="module")
def flow(dev_pki: DevPki, draft_pdf: bytes, signature_png: bytes, seal_png: bytes) -> dict:
    return signed_and_issued(dev_pki, draft_pdf, signature_png, seal_png, date_text=DATE)


def _reject_code(frozen: bytes, upload: bytes, expected: pki.CertId, dev_pki: DevPki) -> UploadRejected:
    with pytest.raises(UploadRejected) as info:
        check_signed_upload(frozen, upload, expected, [dev_pki.root])
    return info.value


# --- dev PKI --------------------------------------------------------------------------------------------

def test_init_demo_is_idempotent_and_keys_are_encrypted(dev_pki: DevPki) -> None:
    again = pki.init_demo(dev_pki.directory, dev_pki.passphrase, [CHAIRMAN, DEPUTY], [SEAL])
    assert again.root == dev_pki.root
    assert again.certs[CHAIRMAN.key_name] == dev_pki.cert(CHAIRMAN.key_name)
    key_pem = pki.key_path(dev_pki.directory, CHAIRMAN.key_name).read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in key_pem
    cert = dev_pki.cert(CHAIRMAN.key_name)
    assert cert.subject.rfc4514_string().startswith("CN=Trương Quốc Hùng,O=Ủy ban nhân dân tỉnh Hà Nam")
    assert "CA thử nghiệm QLVB tỉnh (không dùng thật)" in dev_pki.root.subject.rfc4514_string()


def test_rogue_fixture_copies_names_not_keys(dev_pki: DevPki) -> None:
    assert dev_pki.rogue_root.subject == dev_pki.root.subject
    assert dev_pki.rogue_cert.subject == dev_pki.cert(CHAIRMAN.key_name).subject
    rogue, real = dev_pki.cert_id("rogue"), dev_pki.cert_id(CHAIRMAN.key_name)
    assert rogue.issuer == real.issuer
    assert rogue.spki_sha256 != real.spki_sha256


def test_freeze_keeps_bytes_and_rejects_non_pdf(draft_pdf: bytes) -> None:
    frozen = pdfsign.freeze(draft_pdf)
    assert frozen.pdf == draft_pdf
    assert len(frozen.sha256) == 64
    with pytest.raises(pdfsign.SigningError):
        pdfsign.freeze(b"not a pdf")


def test_default_boxes_follow_the_text_layer(draft_pdf: bytes) -> None:
    page, x1, y1, x2, y2 = pdfsign.default_signer_box(draft_pdf)
    assert page == 0
    assert 370 + 13 <= y1 < y2 <= 464  # between "CHỦ TỊCH" and the name
    assert abs((x1 + x2) / 2 - 420) < 25  # centred under the title
    number_box, date_box = pdfsign.default_issue_boxes(draft_pdf)
    assert number_box[2] < 740 < number_box[4]
    assert date_box[2] < 740 < date_box[4]


# --- the happy path -------------------------------------------------------------------------------------

def test_personal_then_seal_gives_two_valid_signatures(flow: dict, dev_pki: DevPki) -> None:
    assert flow["personal"].startswith(flow["frozen"].pdf)
    assert flow["issued"].startswith(flow["personal"])
    report = verify(flow["issued"], [dev_pki.root])
    first, seal = report.signatures
    assert report.verdict == "Hợp lệ"
    assert first.intact
    assert first.trusted
    assert first.valid
    assert not first.covers_whole_file
    assert first.docmdp_ok is True
    assert first.modification_level == "FORM_FILLING"
    assert first.signer == dev_pki.cert_id(CHAIRMAN.key_name)
    assert seal.intact
    assert seal.trusted
    assert seal.covers_whole_file
    assert seal.signer == dev_pki.cert_id(SEAL.key_name)
    assert seal.pham_vi_ky == "Toàn bộ tệp"


def test_signatures_are_pades_with_signature_fields(flow: dict) -> None:
    reader = PdfFileReader(BytesIO(flow["issued"]))
    sigs = reader.embedded_regular_signatures
    assert [s.field_name for s in sigs] == ["KyCaNhan1", "BanHanhDauCoQuan"]
    assert all(s.sig_object["/SubFilter"] == "/ETSI.CAdES.detached" for s in sigs)


@pytest.mark.skipif(PDFSIG is None, reason="poppler-utils (pdfsig) is not installed")
def test_pdfsig_accepts_both_signatures(flow: dict, tmp_path: Path) -> None:
    path = tmp_path / "issued.pdf"
    path.write_bytes(flow["issued"])
    out = subprocess.run([PDFSIG, str(path)], capture_output=True, text=True, check=False).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert "Signer Certificate Common Name: Trương Quốc Hùng" in out
    assert "Total document signed" in out  # the seal, the last signature
    # number and date are empty signature fields carrying an appearance: pdfsig lists them as unsigned
    assert out.count("The signature form field is not signed.") == 2


def _render(pdf: bytes, tmp_path: Path, name: str) -> Image.Image:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run([PDFTOPPM, "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(tmp_path / name)], check=True)
    return Image.open(tmp_path / f"{name}.png").convert("RGB")


def _crop(image: Image.Image, box: pdfsign.Box, page_height: float = 841.89) -> Image.Image:
    s = 60 / 72
    _, x1, y1, x2, y2 = box
    return image.crop((int(x1 * s), int((page_height - y2) * s), int(x2 * s) + 1, int((page_height - y1) * s) + 1))


def _pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    return [image.getpixel((x, y)) for x in range(image.width) for y in range(image.height)]


@pytest.mark.skipif(PDFTOPPM is None, reason="poppler-utils (pdftoppm) is not installed")
def test_number_date_and_seal_are_visible(flow: dict, tmp_path: Path) -> None:
    before = _render(flow["personal"], tmp_path, "before")
    after = _render(flow["issued"], tmp_path, "after")
    for box in (flow["number_box"], flow["date_box"]):
        assert ImageChops.difference(_crop(before, box), _crop(after, box)).getbbox() is not None
    seal = (0, *appearance.seal_box(flow["box"][1:]))
    seal_pixels = _pixels(_crop(after, seal))
    assert any(r > 150 and g < 90 and b < 90 for r, g, b in seal_pixels)  # red seal drawn
    signer_pixels = _pixels(_crop(after, flow["box"]))
    assert any(b > 120 and r < 90 for r, g, b in signer_pixels)  # blue signature drawn
    # the page itself was never edited: its content stream is byte-identical to the draft's
    pages = [PdfReader(BytesIO(pdf)).pages[0].get_contents().get_data() for pdf in (flow["frozen"].pdf, flow["issued"])]
    assert pages[0] == pages[1]


def _widget(reader: PdfFileReader, field_name: str) -> generic.DictionaryObject:
    fields = reader.root["/AcroForm"]["/Fields"]
    field = next(f for f in (ref.get_object() for ref in fields) if f["/T"] == field_name)
    return field["/Kids"][0] if "/Kids" in field else field


def _widget_fonts(pdf: bytes, field_name: str) -> set[str]:
    """BaseFont names (with FontFile2 embedded) reachable from a field's appearance stream."""
    reader = PdfFileReader(BytesIO(pdf))
    widget = _widget(reader, field_name)
    found: set[str] = set()

    def walk(xobj: generic.StreamObject, depth: int = 0) -> None:
        resources = xobj.get("/Resources", generic.DictionaryObject())
        for font in (resources["/Font"].values() if "/Font" in resources else []):
            font = font.get_object()
            descendant = font["/DescendantFonts"][0] if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                found.add(str(font["/BaseFont"]))
        if depth < 6 and "/XObject" in resources:
            for child in resources["/XObject"].values():
                child = child.get_object()
                if child.get("/Subtype") == "/Form":
                    walk(child, depth + 1)

    walk(widget["/AP"]["/N"])
    return found


def test_generated_appearance_embeds_a_vietnamese_font(flow: dict, dev_pki: DevPki) -> None:
    signed = _personal(flow["frozen"].pdf, dev_pki)
    assert any("DejaVuSans" in f for f in _widget_fonts(signed, "KyCaNhan1"))
    look = appearance.name_time_pdf(CHAIRMAN.full_name, "21/11/2026 09:30:15", 160, 62)
    assert "Trương Quốc Hùng" in PdfReader(BytesIO(look)).pages[0].extract_text()
    assert any("DejaVuSerif" in f for f in _widget_fonts(flow["issued"], "BanHanhSo"))
    number = appearance.text_pdf(NUMBER, 150, 19)
    assert NUMBER in PdfReader(BytesIO(number)).pages[0].extract_text()


def test_seal_covers_left_third_of_signer_box(flow: dict) -> None:
    reader = PdfFileReader(BytesIO(flow["issued"]))
    widget = _widget(reader, "BanHanhDauCoQuan")
    sx1, sy1, sx2, sy2 = (float(v) for v in widget["/Rect"])
    _, x1, y1, x2, y2 = flow["box"]
    assert sx2 == pytest.approx(x1 + (x2 - x1) / 3, abs=0.01)
    assert (sy1 + sy2) / 2 == pytest.approx((y1 + y2) / 2, abs=0.01)
    assert sx2 - sx1 == pytest.approx(appearance.SEAL_SIZE, abs=0.01)


def test_report_in_vietnamese(flow: dict, dev_pki: DevPki) -> None:
    report = verify(flow["issued"], [dev_pki.root])
    first = report.signatures[0]
    labels = dict(first.lines())
    assert labels["Người ký"] == "Trương Quốc Hùng, Ủy ban nhân dân tỉnh Hà Nam"
    assert labels["Tổ chức cấp"] == "CA thử nghiệm QLVB tỉnh (không dùng thật)"
    assert labels["Số hiệu chứng thư"] == format(dev_pki.cert(CHAIRMAN.key_name).serial_number, "X")
    assert labels["Thời gian ký"].split(" ")[0].endswith("+07:00")
    assert labels["Thời hạn chứng thư"].startswith("từ ")
    assert labels["Toàn vẹn"] == "Có"
    assert labels["Hợp lệ tại thời điểm ký"] == "Có"
    assert labels["Chuỗi tin cậy"].startswith("Có")
    assert labels["Phạm vi ký"].startswith("Không phải toàn bộ tệp")
    assert labels["Kết luận"] == "Hợp lệ"
    data = json.loads(report.to_json())
    assert data["ket_luan"] == "Hợp lệ"
    assert [s["field_name"] for s in data["chu_ky"]] == ["KyCaNhan1", "BanHanhDauCoQuan"]


def test_external_seal_path(flow: dict, dev_pki: DevPki) -> None:
    """Number and date first (their own update, then frozen), the seal uploaded afterwards."""
    stamped = pdfsign.add_number_and_date(flow["personal"], number_text=NUMBER, date_text=DATE,
                                          number_box=flow["number_box"], date_box=flow["date_box"])
    sealed = pdfsign.sign_seal(stamped, dev_pki.signer(SEAL.key_name), seal_png=None, signer_box=flow["box"],
                               org_name=ORG)
    report = check_signed_upload(stamped, sealed, dev_pki.cert_id(SEAL.key_name), [dev_pki.root])
    assert report.ket_luan == "Hợp lệ"
    assert verify(sealed, [dev_pki.root]).verdict == "Hợp lệ"


def test_signed_upload_accepted(flow: dict, dev_pki: DevPki) -> None:
    report = check_signed_upload(flow["frozen"].pdf, flow["personal"], dev_pki.cert_id(CHAIRMAN.key_name),
                                 [dev_pki.root])
    assert report.ket_luan == "Hợp lệ"
    assert report.covers_whole_file


# --- negatives ------------------------------------------------------------------------------------------

def _flip_after(pdf: bytes, start: int, marker: bytes) -> bytes:
    """Change one byte inside signed bytes (not in /Contents) found after ``start``."""
    i = pdf.index(marker, start) + len(marker)
    return pdf[:i] + bytes([pdf[i] ^ 0x01]) + pdf[i + 1:]


def test_flipped_byte_breaks_integrity(flow: dict, dev_pki: DevPki) -> None:
    tampered = _flip_after(flow["issued"], 0, b"/Producer (ReportLab PDF Library")  # inside the frozen draft
    report = verify(tampered, [dev_pki.root])
    assert report.verdict == "Không hợp lệ"
    assert all(s.toan_ven == "Không" and s.ket_luan == "Không hợp lệ" for s in report.signatures)
    assert json.loads(report.to_json())["chu_ky"][0]["toan_ven"] == "Không"
    # in an upload: the frozen bytes are intact, the flipped byte is in the new, signed revision
    frozen = flow["frozen"].pdf
    upload = _flip_after(flow["personal"], len(frozen), b"/M (D\\072")
    error = _reject_code(frozen, upload, dev_pki.cert_id(CHAIRMAN.key_name), dev_pki)
    assert error.code == "not_intact"


def _edit_page(pdf: bytes) -> bytes:
    """A later revision that appends drawing to page 1's content (a page-content edit)."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    red_square = generic.StreamObject(stream_data=b"q 1 0 0 rg 100 100 50 50 re f Q")
    writer.add_stream_to_page(0, writer.add_object(red_square))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_page_edit_after_signing_is_detected(flow: dict, dev_pki: DevPki) -> None:
    edited = _edit_page(flow["personal"])
    report = verify(edited, [dev_pki.root])
    sig = report.signatures[0]
    assert sig.intact  # the signed bytes are untouched ...
    assert sig.modification_level == "OTHER"  # ... but what was appended changes the page
    assert sig.docmdp_ok is False
    assert sig.ket_luan == "Không hợp lệ"
    error = _reject_code(flow["frozen"].pdf, edited, dev_pki.cert_id(CHAIRMAN.key_name), dev_pki)
    assert error.code == "other_changes"


def test_page_edit_in_the_signing_revision_is_detected(flow: dict, dev_pki: DevPki) -> None:
    frozen = flow["frozen"].pdf
    writer = IncrementalPdfFileWriter(BytesIO(frozen))
    writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=b"q 0 0 1 rg 10 10 5 5 re f Q")))
    meta = signers.PdfSignatureMetadata(field_name="KyCaNhan1", subfilter=fields.SigSeedSubFilter.PADES)
    upload = signers.PdfSigner(meta, dev_pki.signer(CHAIRMAN.key_name).pyhanko_signer()).sign_pdf(writer).getvalue()
    error = _reject_code(frozen, upload, dev_pki.cert_id(CHAIRMAN.key_name), dev_pki)
    assert error.code == "other_changes"


def test_rogue_ca_with_same_names_is_not_trusted(flow: dict, dev_pki: DevPki) -> None:
    frozen = flow["frozen"].pdf
    upload = _personal(frozen, dev_pki, "rogue")
    report = verify(upload, [dev_pki.root]).signatures[0]
    assert report.nguoi_ky.startswith("Trương Quốc Hùng")  # same name ...
    assert report.intact
    assert not report.trusted
    assert report.ket_luan == "Chưa xác định"
    assert report.chuoi_tin_cay == "Không"
    error = _reject_code(frozen, upload, dev_pki.cert_id(CHAIRMAN.key_name), dev_pki)
    assert error.code == "not_trusted"


def test_unsigned_upload_is_rejected(flow: dict, dev_pki: DevPki) -> None:
    frozen = flow["frozen"].pdf
    expected = dev_pki.cert_id(CHAIRMAN.key_name)
    assert _reject_code(frozen, frozen, expected, dev_pki).code == "no_new_signature"
    stamped = pdfsign.add_number_and_date(frozen, number_text=NUMBER, date_text=DATE,
                                          number_box=flow["number_box"], date_box=flow["date_box"])
    assert _reject_code(frozen, stamped, expected, dev_pki).code == "no_new_signature"


def test_upload_signed_by_someone_else_is_rejected(flow: dict, dev_pki: DevPki) -> None:
    frozen = flow["frozen"].pdf
    upload = _personal(frozen, dev_pki, DEPUTY.key_name)
    assert verify(upload, [dev_pki.root]).verdict == "Hợp lệ"  # a fine signature, just not his
    assert _reject_code(frozen, upload, dev_pki.cert_id(CHAIRMAN.key_name), dev_pki).code == "not_registered"


def test_rewritten_file_is_not_an_incremental_update(flow: dict, dev_pki: DevPki) -> None:
    frozen = flow["frozen"].pdf
    rewritten = BytesIO()
    PdfWriter(clone_from=PdfReader(BytesIO(frozen))).write(rewritten)
    upload = _personal(rewritten.getvalue(), dev_pki)
    assert _reject_code(frozen, upload, dev_pki.cert_id(CHAIRMAN.key_name), dev_pki).code == "not_incremental"


def test_two_new_signatures_are_rejected(flow: dict, dev_pki: DevPki) -> None:
    frozen = flow["frozen"].pdf
    twice = _personal(_personal(frozen, dev_pki), dev_pki, DEPUTY.key_name, field_name="KyCaNhan2")
    error = _reject_code(frozen, twice, dev_pki.cert_id(CHAIRMAN.key_name), dev_pki)
    assert error.code == "several_signatures"
    assert "2 chữ ký" in error.message


def _extra_pair(dev_pki: DevPki, key_name: str, **kwargs) -> pdfsign.KeyFileSigner:
    root_key = pki.load_key(pki.key_path(dev_pki.directory, pki.ROOT_KEY), dev_pki.passphrase)
    subject = dev_pki.cert(CHAIRMAN.key_name).subject
    if not pki.cert_path(dev_pki.directory, key_name).is_file():
        key, cert = pki.issue_cert(root_key, dev_pki.root, subject, **kwargs)
        pki.save_pair(dev_pki.directory, key_name, key, cert, dev_pki.passphrase)
    return dev_pki.signer(key_name)


def test_certificate_without_signing_key_usage_is_rejected(flow: dict, dev_pki: DevPki) -> None:
    signer = _extra_pair(dev_pki, "no-signing-usage", signing_usage=False)
    frozen = flow["frozen"].pdf
    upload = _personal(frozen, dev_pki, "no-signing-usage")
    expected = pki.cert_fingerprint(pki.load_cert(pki.cert_path(signer.directory, signer.key_name)))
    assert _reject_code(frozen, upload, expected, dev_pki).code == "key_usage"


def test_expired_certificate_is_rejected(flow: dict, dev_pki: DevPki) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    signer = _extra_pair(dev_pki, "expired", not_before=long_ago, days=365)
    frozen = flow["frozen"].pdf
    upload = _personal(frozen, dev_pki, "expired")
    expected = pki.cert_fingerprint(pki.load_cert(pki.cert_path(signer.directory, signer.key_name)))
    assert _reject_code(frozen, upload, expected, dev_pki).code == "not_valid_at_signing"
    assert verify(upload, [dev_pki.root]).signatures[0].hop_le_tai_thoi_diem_ky == "Không"


def test_every_rejection_has_its_own_message() -> None:
    messages = list(REJECT.values())
    assert len(set(messages)) == len(messages)
