"""Hidden revisions named (issue 16.3): anything appended after the last signature that is not signature data
(a DSS, a document timestamp, a permitted form fill) is reported "Có dữ liệu được thêm sau khi ký" with what was
added, and the verdict is not "Hợp lệ". Real signatures from the dev PKI, real pyHanko; no mocks."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign import validation
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator import ValidationContext
from reportlab.pdfgen.canvas import Canvas

from portal.signing import pdfsign, pki
from portal.signing.verification import ADDED, ADDED_LABEL, INVALID, VALID, verify
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

HEADING = "Có dữ liệu được thêm sau khi ký"


@pytest.fixture(scope="module")
def signed(dev_pki: DevPki, draft_pdf: bytes, signature_png: bytes, seal_png: bytes) -> dict:
    stages = signed_and_issued(dev_pki, draft_pdf, signature_png, seal_png)
    return {"personal": stages["personal"], "issued": stages["issued"]}


def _append(pdf: bytes, change) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    change(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _unreferenced(writer: IncrementalPdfFileWriter) -> None:
    writer.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 0 0 600 800 re f Q"))


def _page_content(writer: IncrementalPdfFileWriter) -> None:
    square = generic.StreamObject(stream_data=b"q 1 0 0 rg 100 100 50 50 re f Q")
    writer.add_stream_to_page(0, writer.add_object(square))


def _annotation(writer: IncrementalPdfFileWriter) -> None:
    page_ref = writer.find_page_for_modification(0)[0]
    page = page_ref.get_object()
    note = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (90, 730, 300, 760)]),
        generic.NameObject("/Contents"): generic.TextStringObject("Số: 999/QĐ-UBND"),
        generic.NameObject("/DA"): generic.TextStringObject("0 g /Helv 13 Tf"),
        generic.NameObject("/P"): page_ref,
    }))
    annots = page["/Annots"] if "/Annots" in page else generic.ArrayObject()
    annots.append(note)
    page[generic.NameObject("/Annots")] = annots
    writer.update_container(page)


def _added(report) -> list[str]:
    return [s.them_sau_khi_ky for s in report.signatures]


@pytest.mark.parametrize(("change", "what"), [
    (_unreferenced, "thêm đối tượng không được tham chiếu"),
    (_page_content, "sửa nội dung trang 1"),
    (_annotation, "thêm chú thích /FreeText trên trang 1"),
], ids=["unreferenced-object", "page-content", "annotation"])
@pytest.mark.parametrize("stage", ["personal", "issued"])
def test_hidden_revision_is_named(signed: dict, dev_pki: DevPki, change, what: str, stage: str) -> None:
    assert verify(signed[stage], [dev_pki.root]).verdict == VALID  # the clean file first
    tampered = _append(signed[stage], change)
    report = verify(tampered, [dev_pki.root])
    assert report.verdict != VALID
    assert report.verdict in (ADDED, INVALID)
    assert any(what in a for a in report.added)
    last = report.signatures[-1]
    assert last.them_sau_khi_ky.startswith(HEADING)
    assert what in last.them_sau_khi_ky
    assert "dữ liệu kiểm tra chữ ký" not in last.pham_vi_ky  # the defect: additions called validation data
    assert dict(last.lines())[ADDED_LABEL].startswith(HEADING)
    assert any(HEADING in p for p in last.problems)
    data = report.to_dict()
    assert data["ket_luan"] == report.verdict
    assert data["them_sau_khi_ky"] == report.added


def test_unreferenced_object_alone_is_not_valid(signed: dict, dev_pki: DevPki) -> None:
    """The reported defect: pyHanko itself accepts it; the portal does not."""
    report = verify(_append(signed["issued"], _unreferenced), [dev_pki.root])
    assert report.verdict == ADDED
    assert all(s.intact and s.trusted for s in report.signatures)
    assert "đối tượng" in report.added[0]


def _with_dss(pdf: bytes, dev_pki: DevPki) -> bytes:
    reader = PdfFileReader(BytesIO(pdf))
    embedded = reader.embedded_regular_signatures[-1]
    context = ValidationContext(trust_roots=[pki.to_asn1(dev_pki.root)], allow_fetching=False,
                                revocation_mode="soft-fail")
    return validation.add_validation_info(embedded, context, force_write=True).getvalue()


def test_dss_update_stays_valid(signed: dict, dev_pki: DevPki) -> None:
    with_dss = _with_dss(signed["issued"], dev_pki)
    assert PdfFileReader(BytesIO(with_dss)).xrefs.total_revisions > \
        PdfFileReader(BytesIO(signed["issued"])).xrefs.total_revisions
    report = verify(with_dss, [dev_pki.root])
    assert report.added == []
    assert report.verdict == VALID
    assert all(s.them_sau_khi_ky == "Không" for s in report.signatures)


def test_dss_then_hidden_object_is_named(signed: dict, dev_pki: DevPki) -> None:
    report = verify(_append(_with_dss(signed["issued"], dev_pki), _unreferenced), [dev_pki.root])
    assert report.verdict == ADDED
    assert len(report.added) == 1


def _doc_timestamp(pdf: bytes, dev_pki: DevPki) -> bytes:
    """A document timestamp (/Type /DocTimeStamp) in its own revision; pyHanko's in-process TSA with the seal key
    (the structure is what matters here, not the TSA's trust)."""
    seal = dev_pki.signer(SEAL.key_name).pyhanko_signer()
    tsa = DummyTimeStamper(tsa_cert=seal.signing_cert, tsa_key=seal.signing_key)
    return PdfTimeStamper(tsa).timestamp_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), "sha256").getvalue()


def test_document_timestamp_is_not_an_addition(signed: dict, dev_pki: DevPki) -> None:
    stamped = _doc_timestamp(signed["issued"], dev_pki)
    assert [s.sig_object_type for s in PdfFileReader(BytesIO(stamped)).embedded_signatures][-1] == "/DocTimeStamp"
    report = verify(stamped, [dev_pki.root])
    assert report.added == []
    assert report.verdict == VALID


def test_hidden_object_next_to_a_document_timestamp_is_named(signed: dict, dev_pki: DevPki) -> None:
    before = verify(_doc_timestamp(_append(signed["issued"], _unreferenced), dev_pki), [dev_pki.root])
    assert before.verdict == ADDED
    assert len(before.added) == 1
    after = verify(_append(_doc_timestamp(signed["issued"], dev_pki), _annotation), [dev_pki.root])
    assert after.verdict != VALID
    assert [a.split(" (")[0] for a in after.added] == ["thêm chú thích /FreeText trên trang 1"]


def test_permitted_form_fill_is_not_an_addition(dev_pki: DevPki) -> None:
    """A text field filled in after an approval signature (no /DocMDP lock) is a permitted form fill."""
    buf = BytesIO()
    canvas = Canvas(buf)
    canvas.drawString(100, 700, "Ho ten:")
    canvas.acroForm.textfield(name="hoten", x=150, y=690, width=200, height=20)
    canvas.showPage()
    canvas.save()
    signed = pdfsign.sign_personal(pdfsign.freeze(buf.getvalue()).pdf, dev_pki.signer(CHAIRMAN.key_name),
                                   box=(0, 300, 300, 460, 362), image_png=None, name=CHAIRMAN.full_name,
                                   signed_at_text="21/11/2026 09:30:15")

    def fill(writer: IncrementalPdfFileWriter) -> None:
        for ref in writer.root["/AcroForm"]["/Fields"]:
            text_field = ref.get_object()
            if text_field.get("/T") == "hoten":
                text_field[generic.NameObject("/V")] = generic.TextStringObject("Nguyễn Văn A")
                writer.update_container(text_field)

    report = verify(_append(signed, fill), [dev_pki.root])
    assert report.signatures[0].modification_level == "FORM_FILLING"
    assert report.added == []
    assert report.verdict == VALID
    assert verify(_append(_append(signed, fill), _unreferenced), [dev_pki.root]).verdict == ADDED


def test_files_with_xref_streams(dev_pki: DevPki, draft_pdf: bytes) -> None:
    """Revisions stored in cross-reference streams: the xref stream itself is not an addition, a hidden object
    is."""
    writer = copy_into_new_writer(PdfFileReader(BytesIO(draft_pdf)), {"stream_xrefs": True})
    out = BytesIO()
    writer.write(out)
    frozen = pdfsign.freeze(out.getvalue()).pdf
    signed = pdfsign.sign_personal(frozen, dev_pki.signer(CHAIRMAN.key_name), box=pdfsign.default_signer_box(frozen),
                                   image_png=None, name=CHAIRMAN.full_name, signed_at_text="21/11/2026 09:30:15")
    assert verify(_with_dss(signed, dev_pki), [dev_pki.root]).verdict == VALID
    report = verify(_append(signed, _unreferenced), [dev_pki.root])
    assert report.verdict == ADDED
    assert len(report.added) == 1


def test_second_signature_is_not_an_addition(signed: dict, dev_pki: DevPki) -> None:
    """The issuance seal after the personal signature is a signature, not hidden data."""
    report = verify(signed["issued"], [dev_pki.root])
    assert report.verdict == VALID
    assert [s.ket_luan for s in report.signatures] == [VALID, VALID]
    assert report.added == []


# --- the incoming document page ------------------------------------------------------------------------

def test_received_document_with_hidden_revision_shows_the_warning(signed: dict, db, factory, receiving) -> None:
    org, client = receiving
    doc = receive_pdf(factory, db, org, _append(signed["issued"], _unreferenced))
    assert doc.signature_verdict == ADDED
    stored = json.loads(_main_file(db, doc).signature_report)
    assert stored["ket_luan"] == ADDED
    assert stored["them_sau_khi_ky"]
    body = client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert 'id="hidden-revisions"' in body
    banner = body[body.index('id="hidden-revisions"'):]
    banner = banner[:banner.index("</div>")]
    assert HEADING in banner
    assert "thêm đối tượng không được tham chiếu" in banner
    assert "Trả lại nơi gửi" in banner
    form = body[body.index('id="step-return"'):]
    form = form[:form.index("</form>")]
    assert HEADING in form  # the warning beside the return form
    assert f"{ADDED_LABEL}</dt>" in body
    assert "Chữ ký số của văn bản: Có dữ liệu được thêm sau khi ký." in body


def test_received_clean_document_has_no_warning(signed: dict, db, factory, receiving) -> None:
    org, client = receiving
    doc = receive_pdf(factory, db, org, signed["issued"])
    assert doc.signature_verdict == VALID
    body = client.get(f"/van-ban-den/{doc.id}").get_data(as_text=True)
    assert 'id="hidden-revisions"' not in body
    assert HEADING not in body


def _main_file(db, doc):
    from sqlalchemy import select

    from portal.incoming.models import IncomingFile

    return db.execute(select(IncomingFile).where(IncomingFile.document_id == doc.id)).scalars().first()
