"""Hostile packages: DTDs and entities (billion laughs, external entities), oversize, deep or wide trees, zip
bombs, broken base64 and broken signatures are refused or reported with a reason, never followed and never a
crash."""

from __future__ import annotations

import os

import pytest

from portal.exchange.edxml import Limits, ParseError, build_document, parse, validate, verify
from portal.exchange.edxml.files import Budget, examine
from tests.edxml_fixtures import PDF, TODAY, attachment, reference, sample_package, wrapped_package, zipped

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope><edXMLHeader><MessageHeader>
<Subject>&lol9;</Subject></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<edXML><edXMLEnvelope><edXMLHeader><MessageHeader><Subject>&secret;</Subject></MessageHeader></edXMLHeader>
</edXMLEnvelope></edXML>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE edXML SYSTEM "http://127.0.0.1:9/edxml.dtd">
<edXML><edXMLEnvelope><edXMLHeader><MessageHeader/></edXMLHeader></edXMLEnvelope></edXML>"""


@pytest.mark.parametrize("data", [
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    EXTERNAL_DTD,
    BILLION_LAUGHS.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    .encode("utf-16"),
    # an encoding expat does not know: the DTD reaches lxml (entities off, no network) and is refused after
    EXTERNAL_ENTITY.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="windows-1258"?>'),
], ids=["billion-laughs", "external-entity", "external-dtd", "utf-16", "windows-1258"])
def test_dtds_and_entities_are_refused(data):
    with pytest.raises(ParseError, match="DTD"):
        parse(data)
    assert verify(data).status == "unverifiable"


def test_oversize_packages_are_refused_before_parsing():
    data = build_document(sample_package())
    with pytest.raises(ParseError, match="quá lớn"):
        parse(data, limits=Limits(max_bytes=len(data) - 1))
    assert parse(data, limits=Limits(max_bytes=len(data))).kind == "document"


def test_deep_trees_are_refused():
    deep = b"<edXML>" + b"<a>" * 100 + b"</a>" * 100 + b"</edXML>"
    with pytest.raises(ParseError, match="quá sâu"):
        parse(deep)


def test_wide_trees_are_refused():
    with pytest.raises(ParseError, match="quá nhiều phần tử"):
        parse(build_document(sample_package()), limits=Limits(max_elements=50))


def test_too_many_attachments_are_refused():
    data = wrapped_package(trailing="<AttachmentEncoded>" + attachment("cid:a", "a.pdf", "application/pdf", PDF) * 3
                            + "</AttachmentEncoded>")
    with pytest.raises(ParseError, match="quá nhiều tệp đính kèm"):
        parse(data, limits=Limits(max_attachments=2))


@pytest.mark.parametrize(("data", "message"), [
    (b"", "rỗng"),
    (b"<html><body>not edXML</body></html>", "Không phải gói edXML"),
    (b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope/></edXML>', "MessageHeader"),
    (b"\x00\x01\x02", "không phải XML hợp lệ"),
])
def test_other_unreadable_input(data, message):
    with pytest.raises(ParseError, match=message):
        parse(data)


def test_a_zip_bomb_is_refused_with_a_message():
    bomb = zipped(("bom.pdf", b"\x00" * (20 * 1024 * 1024)))  # 20 MB of zeros in ~20 KB
    assert len(bomb) < 100_000
    data = wrapped_package(trailing=f"<AttachmentEncoded>{attachment('cid:a', 'ho-so.zip', 'application/zip', bomb)}"
                            "</AttachmentEncoded>", manifest=reference("cid:a", "ho-so.zip"))
    parsed = parse(data)
    [received] = parsed.package.attachments
    assert received.data == bomb  # kept as received, as evidence
    assert received.files == []
    result = validate(parsed, today=TODAY)
    assert not result.ok
    [violation] = result.violations
    assert "'ho-so.zip'" in str(violation)
    assert "bom nén" in str(violation)


@pytest.mark.parametrize(("limits", "entries", "message"), [
    (Limits(max_unpacked_files=3), [(f"{n}.pdf", PDF) for n in range(5)], "quá nhiều tệp"),
    (Limits(max_unpacked_bytes=1024 * 1024), [("a.bin", os.urandom(600_000)), ("b.bin", os.urandom(600_000))],
     "tổng dung lượng giải nén vượt 1 MB"),
    (Limits(max_file_bytes=1024 * 1024), [("a.bin", os.urandom(1_100_000))], "vượt 1 MB"),
])
def test_unpacking_limits(limits, entries, message):
    found = examine("ho-so.zip", "application/zip", zipped(*entries), Budget(limits))
    assert found.refused is not None
    assert message in found.refused
    assert found.files == []


def test_the_budget_is_shared_by_all_attachments_of_a_package():
    one = zipped(("a.bin", os.urandom(600_000)))
    data = wrapped_package(trailing="<AttachmentEncoded>" + attachment("cid:a", "a.zip", "application/zip", one)
                            + attachment("cid:b", "b.zip", "application/zip", one) + "</AttachmentEncoded>")
    parsed = parse(data, limits=Limits(max_unpacked_bytes=1024 * 1024))
    assert [f.element for f in parsed.violations] == ["Attachment[2]"]


def test_attachments_that_are_not_base64_are_violations():
    data = wrapped_package(trailing="<AttachmentEncoded><Attachment><ContentId>cid:a</ContentId>"
                            "<AttachmentName>x.pdf</AttachmentName>"
                            "<ContentTransferEncoded>${__StringFromFile(test.txt,,,)}</ContentTransferEncoded>"
                            "</Attachment></AttachmentEncoded>", manifest=reference("cid:a", "x.pdf"))
    [violation] = validate(parse(data), today=TODAY).violations
    assert violation.element == "Attachment[1]/ContentTransferEncoded"
    assert "không phải base64" in str(violation)


def test_broken_signatures_are_reported_not_raised():
    base = build_document(sample_package())
    header_end = b"</edXML:edXMLHeader>"
    dsig = b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">'
    no_signed_info = base.replace(header_end, dsig + b"<SignatureValue>AA==</SignatureValue></Signature>" + header_end)
    assert verify(no_signed_info).status == "invalid"
    ecdsa = base.replace(header_end, dsig + b'<SignedInfo><SignatureMethod Algorithm="http://www.w3.org/2001/04/'
                         b'xmldsig-more#ecdsa-sha256"/></SignedInfo><KeyInfo><X509Data><X509Certificate>'
                         b"MIIB</X509Certificate></X509Data></KeyInfo></Signature>" + header_end)
    check = verify(ecdsa)
    assert check.status == "unverifiable"
    assert check.algorithm == "ecdsa-sha256"
    no_certificate = base.replace(header_end, dsig + b"<SignedInfo/></Signature>" + header_end)
    assert "không kèm chứng thư số" in verify(no_certificate).reason
