"""Packages in the shapes real systems send (the ``<edXML>`` wrapper, default namespace, attachments inside the
envelope and in a trailing block, the SDK's ZIP wrapper) and what the clerk sees of each attachment (SPEC §13.6):
mismatches between content, name and declared type are flagged, never refused."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from portal.exchange.edxml import Limits, parse, validate
from portal.exchange.edxml.files import Budget, examine, sniff
from tests.edxml_fixtures import PDF, TODAY, attachment, reference, wrapped_package, zipped

DOCX = zipped(("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>"))
XLSX = zipped(("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>"))
ODT = zipped(("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<office/>"))
OLE_DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "WordDocument".encode("utf-16-le")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def test_attachments_inside_the_envelope_and_in_a_trailing_block():
    data = wrapped_package(
        attachments_inside=f"<Attachments>{attachment('cid:a', 'to-trinh.docx', 'application/msword', DOCX)}"
                           "</Attachments>",
        trailing=f"<AttachmentEncoded>{attachment('cid:b', 'QD-15.pdf', 'application/pdf', zipped(('3f2a.pdf', PDF)))}"
                 "</AttachmentEncoded>",
        manifest=reference("cid:a", "to-trinh.docx") + reference("cid:b", "QD-15.pdf"))
    parsed = parse(data)
    header = parsed.package.header
    assert (header.from_.organ_id, header.code.code_number, header.subject) == ("vxp.saas.03", "12",
                                                                                "V/v thử các dạng gói")
    docx, wrapped = parsed.package.attachments
    assert (docx.kind, [f.name for f in docx.files]) == ("docx", ["to-trinh.docx"])  # a document, not unpacked
    assert docx.files[0].flags == ["nội dung là Word (.docx), không khớp loại khai báo application/msword"]
    assert wrapped.kind == "zip"
    assert wrapped.data[:2] == b"PK"  # as received
    assert [(f.name, f.kind, f.flags) for f in wrapped.files] == [("QD-15.pdf", "pdf", [])]  # the SDK's wrapper
    assert wrapped.flags == []
    result = validate(parsed, today=TODAY)
    assert result.ok, result.violations
    assert any("mã cổng kết nối" in str(w) for w in result.warnings)


def test_elements_without_a_namespace_are_read_and_noted():
    parsed = parse(wrapped_package(root_ns=""))
    assert parsed.package.header.to[0].organ_id == "000.00.00.H41"
    assert any("không gian tên" in str(w) for w in parsed.warnings)


def test_a_package_without_a_manifest_is_noted():
    data = wrapped_package(trailing=f"<AttachmentEncoded>{attachment('cid:a', 'a.pdf', 'application/pdf', PDF)}"
                            "</AttachmentEncoded>").replace(b'<edXMLManifest version="1.0"></edXMLManifest>', b"")
    parsed = parse(data)
    assert any(w.element == "edXMLManifest" for w in parsed.warnings)


@pytest.mark.parametrize(("data", "kind"), [
    (PDF, "pdf"), (b"\r\n" + PDF, "pdf"), (OLE_DOC, "doc"), (DOCX, "docx"), (XLSX, "xlsx"), (ODT, "odt"),
    (zipped(("a.txt", b"x")), "zip"), (gzip.compress(b"x"), "gzip"), (PNG, "png"), (b"\xff\xd8\xff\xe0", "jpeg"),
    (b'<?xml version="1.0"?><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>', "edxml"),
    (b"<?xml version='1.0'?><a/>", "xml"), ("Công văn số 05".encode(), "text"), (b"MZ\x90\x00", "exe"),
    (b"", "empty"), (b"\x00\x01\x02\x03", "unknown"),
])
def test_sniffing(data, kind):
    assert sniff(data) == kind


@pytest.mark.parametrize(("name", "content_type", "data", "flags"), [
    ("bao-cao.pdf", "application/pdf", PDF, []),
    ("bao-cao.doc", "application/msword", OLE_DOC, []),
    ("bao-cao.doc", "application/msword", PDF, ["nội dung là PDF, không khớp đuôi .doc",
                                                "nội dung là PDF, không khớp loại khai báo application/msword"]),
    ("bao-cao.pdf", "application/octet-stream", b"MZ\x90\x00", ["nội dung là chương trình chạy được (EXE), không khớp "
                                                                "đuôi .pdf"]),
    ("anh.png", "", PNG, []),
    ("ghi-chu.exe", "", b"MZ\x90\x00", ["đuôi .exe không thuộc các loại tệp được nhận (SPEC §3.7)"]),
    ("rong.pdf", "application/pdf", b"", ["tệp rỗng"]),
])
def test_flags_on_plain_attachments(name, content_type, data, flags):
    found = examine(name, content_type, data, Budget(Limits()))
    [only] = found.files
    assert only.data == data
    assert only.flags == flags
    assert found.refused is None


def test_gzip_and_nested_zips_are_unpacked_to_the_files_inside():
    gz = gzip.compress(PDF)
    found = examine("bao-cao.pdf.gz", "application/gzip", gz, Budget(Limits()))
    assert [(f.name, f.kind) for f in found.files] == [("bao-cao.pdf", "pdf")]
    nested = zipped(("ho-so/inner.zip", zipped(("a.pdf", PDF), ("b.docx", DOCX))), ("c.png", PNG))
    found = examine("ho-so.zip", "application/zip", nested, Budget(Limits()))
    assert [(f.name, f.kind, f.path) for f in found.files] == [
        ("a.pdf", "pdf", "ho-so.zip!/ho-so/inner.zip!/a.pdf"),
        ("b.docx", "docx", "ho-so.zip!/ho-so/inner.zip!/b.docx"),
        ("c.png", "png", "ho-so.zip!/c.png"),
    ]
    assert all(f.flags == [] for f in found.files)
    assert found.flags == []


def test_archives_nested_past_the_limit_are_kept_and_flagged():
    nested = zipped(("inner.zip", zipped(("a.pdf", PDF))))
    found = examine("ho-so.zip", "application/zip", nested, Budget(Limits(max_archive_depth=1)))
    [inner] = found.files
    assert inner.kind == "zip"
    assert any("lồng quá 1 lớp" in f for f in inner.flags)


def test_a_broken_archive_is_kept_and_flagged():
    broken = b"PK\x03\x04" + b"\x00" * 40
    found = examine("ho-so.zip", "application/zip", broken, Budget(Limits()))
    [only] = found.files
    assert only.data == broken
    assert "hỏng hoặc không giải nén được" in only.flags[0]


def test_zip_entry_names_are_cleaned():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../etc/passwd.txt", b"x")
        archive.writestr("thư mục/Quyết định.pdf", PDF)
    found = examine("a.zip", "application/zip", buffer.getvalue(), Budget(Limits()))
    assert [f.path for f in found.files] == ["a.zip!/etc/passwd.txt", "a.zip!/thư mục/Quyết định.pdf"]
    assert [f.name for f in found.files] == ["passwd.txt", "Quyết định.pdf"]
