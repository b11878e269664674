"""Packages the portal builds: they parse back to the same fields, pass the validator and carry an XML signature
that verifies; the validator names what is wrong, in Vietnamese, element by element."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from lxml import etree

from portal.exchange.edxml import (
    NS,
    Organization,
    ResponseFor,
    StaffInfo,
    StatusCode,
    StatusPackage,
    build_document,
    build_status,
    key_signer,
    parse,
    sign,
    validate,
    verify,
)
from portal.exchange.edxml.dates import VIETNAM, read_date, read_timestamp
from portal.exchange.edxml.ids import organ_code_problem
from tests.edxml_fixtures import PDF, TODAY, make_cert, make_key, sample_package


@pytest.fixture(scope="module")
def seal():
    """A throwaway CA and the organisation's seal certificate issued by it."""
    ca_key = make_key()
    ca = make_cert(ca_key, "CA thử nghiệm")
    key = make_key()
    return key, make_cert(key, "Sở Tài chính tỉnh Ninh Bình", issuer=(ca_key, ca)), ca


def test_built_document_parses_back_to_the_same_fields_and_validates():
    package = sample_package()
    data = build_document(package)
    parsed = parse(data)
    assert parsed.kind == "document"
    assert parsed.package == package
    assert parsed.warnings == []
    assert parsed.violations == []
    result = validate(parsed, today=TODAY)
    assert result.violations == []
    assert result.warnings == []
    assert validate(package, today=TODAY).ok  # the same checks before it is built


def test_built_document_has_the_shape_of_spec_11_2():
    root = etree.fromstring(build_document(sample_package()))
    assert root.tag == f"{{{NS}}}edXMLEnvelope"
    assert root.prefix == "edXML"
    assert [etree.QName(c).localname for c in root] == ["edXMLHeader", "edXMLBody", "Attachments"]
    assert all(el.prefix == "edXML" for el in root.iter())
    ns = {"e": NS}
    assert root.findtext("e:edXMLHeader/e:MessageHeader/e:PromulgationInfo/e:PromulgationDate", namespaces=ns) \
        == "2026/03/05"
    assert root.findtext("e:edXMLHeader/e:TraceHeaderList/e:TraceHeader/e:Timestamp", namespaces=ns) \
        == "2026/03/05 09:30:15"
    references = root.findall("e:edXMLBody/e:edXMLManifest/e:Reference", namespaces=ns)
    assert [r.get("{http://www.w3.org/1999/xlink}href") for r in references] == ["cid:1", "cid:2"]


def test_unpacked_files_of_a_built_package():
    parsed = parse(build_document(sample_package()))
    pdf, archive = parsed.package.attachments
    assert [(f.name, f.kind, f.flags) for f in pdf.files] == [("05-STC-NS.signed.pdf", "pdf", [])]
    assert pdf.data == PDF
    assert archive.kind == "zip"
    assert [(f.name, f.kind, f.path) for f in archive.files] == [("bieu-so-lieu.pdf", "pdf",
                                                                  "phu-luc.zip!/bieu-so-lieu.pdf")]


@pytest.mark.parametrize("code", list(StatusCode))
def test_built_status_round_trips(code):
    status = StatusPackage(
        from_=Organization(organ_id="000.00.12.H40", organ_name="Sở Tài chính tỉnh Ninh Bình"),
        response_for=ResponseFor("000.00.00.G22", "7816/VPCP-TTĐT", dt.date(2015, 9, 30),
                                 "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"),
        staff_info=StaffInfo("Văn thư", "Trần Thị Bình", "0912000001", "vanthu@ninhbinh.gov.vn"),
        status_code=code, description="Lý do: sai thể thức" if code is StatusCode.REJECTED else code.label,
        timestamp=dt.datetime(2026, 3, 5, 2, 0, 0, tzinfo=dt.UTC))
    data = build_status(status)
    assert b"<edXML:Timestamp>2026/03/05 09:00:00</edXML:Timestamp>" in data  # Vietnam time, no offset
    assert f"<edXML:StatusCode>{code.value}</edXML:StatusCode>".encode() in data
    parsed = parse(data)
    assert parsed.kind == "status"
    assert parsed.package == status
    result = validate(parsed, today=TODAY)
    assert result.violations == []
    assert result.warnings == []


def test_signed_package_verifies_and_still_parses(seal):
    key, certificate, ca = seal
    package = sample_package()
    signed = sign(build_document(package), key_signer(key), certificate, [ca])
    check = verify(signed)
    assert check.status == "valid", check.reason
    assert check.label == "hợp lệ"
    assert check.signer == certificate.subject.rfc4514_string()
    assert check.algorithm == "rsa-sha256"
    assert check.certificates == (certificate, ca)
    parsed = parse(signed)
    assert parsed.has_signature
    assert parsed.package == package
    assert validate(parsed, today=TODAY).ok
    header = etree.fromstring(signed)[0]
    assert etree.QName(header[-1]).text == "{http://www.w3.org/2000/09/xmldsig#}Signature"


def test_any_backend_that_signs_bytes_can_sign(seal):
    key, certificate, _ca = seal
    seen = []

    def token(data: bytes) -> bytes:  # what a PKCS#11 CKM_SHA256_RSA_PKCS session would do
        seen.append(data)
        return key_signer(key)(data)

    signed = sign(build_status(StatusPackage(from_=Organization(organ_id="000.00.12.H40"),
                                             response_for=ResponseFor(document_id="000.00.00.G22,2015/09/30,1/VPCP"),
                                             timestamp=dt.datetime(2026, 3, 5, 9, tzinfo=VIETNAM))),
                  token, certificate)
    assert len(seen) == 1
    assert seen[0].startswith(b'<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#">')
    assert verify(signed).valid


def test_tampering_and_wrong_keys_are_invalid(seal):
    key, certificate, _ca = seal
    signed = sign(build_document(sample_package()), key_signer(key), certificate)
    tampered = signed.replace(b"<edXML:CodeNumber>05<", b"<edXML:CodeNumber>06<")
    assert verify(tampered).status == "invalid"
    assert "thay đổi sau khi ký" in verify(tampered).reason
    other = sign(build_document(sample_package()), key_signer(make_key()), certificate)
    check = verify(other)
    assert check.status == "invalid"
    assert check.label == "không hợp lệ"
    assert "không khớp với chứng thư số" in check.reason


def test_unsigned_and_already_signed(seal):
    key, certificate, _ca = seal
    data = build_document(sample_package())
    assert verify(data).status == "unsigned"
    with pytest.raises(ValueError, match="đã có chữ ký"):
        sign(sign(data, key_signer(key), certificate), key_signer(key), certificate)


def _replace(package, path: str, value):
    """A copy of ``package`` with one attribute path ("header.code.code_number") replaced."""
    package = dataclasses.replace(package)
    *parents, last = path.split(".")
    target = package
    for name in parents:
        target = getattr(target, name)
    setattr(target, last, value)
    return package


VIOLATIONS = [
    ("header.from_.organ_id", "", "From/OrganId", "Mã cơ quan gửi (From/OrganId) là bắt buộc."),
    ("header.to", [], "To", "phải có ít nhất một cơ quan nhận (To)"),
    ("header.to", [Organization(organ_id="000.00.00.H41"), Organization(organ_id="000.00.00.H41")], "To[2]/OrganId",
     "trùng với To[1]"),
    ("header.to", [Organization(organ_id="0" * 36)], "To[1]/OrganId", "tối đa 35 ký tự (đang có 36)"),
    ("header.code.code_number", "", "Code/CodeNumber", "Số văn bản (Code/CodeNumber) là bắt buộc."),
    ("header.code.code_number", "123456789012", "Code/CodeNumber", "tối đa 11 ký tự"),
    ("header.code.code_notation", "X" * 31, "Code/CodeNotation", "Ký hiệu văn bản (Code/CodeNotation) tối đa 30"),
    ("header.subject", "", "Subject", "Trích yếu (Subject) là bắt buộc."),
    ("header.subject", "a" * 501, "Subject", "tối đa 500 ký tự (đang có 501)"),
    ("header.promulgation_info.promulgation_date", dt.date(2026, 3, 7), "PromulgationInfo/PromulgationDate",
     "07/03/2026 ở tương lai"),
    ("header.promulgation_info.promulgation_date", None, "PromulgationInfo/PromulgationDate", "là bắt buộc"),
    ("header.other_info.priority", 5, "OtherInfo/Priority", "phải từ 0 đến 4 (đang là 5)"),
    ("header.promulgation_info.place", "P" * 51, "PromulgationInfo/Place", "tối đa 50"),
    ("header.other_info.typer_notation", "ABCDEFGHIJK", "OtherInfo/TyperNotation", "tối đa 10"),
    ("header.to_places", ["x" * 151], "ToPlaces/Place[1]", "tối đa 150"),
    ("business.doc_type", "7", "Bussiness/BussinessDocType", "'7' không hợp lệ"),
]


@pytest.mark.parametrize(("path", "value", "element", "text"), VIOLATIONS,
                         ids=[f"{v[2]}:{v[3][:20]}" for v in VIOLATIONS])
def test_violations_name_the_element(path, value, element, text):
    package = _replace(sample_package(), path, value)
    result = validate(package, today=TODAY)
    assert not result.ok
    assert any(f.element == element and text in str(f) for f in result.violations), result.violations
    parsed = parse(build_document(package))  # the same verdict on the package as received
    assert any(f.element == element for f in validate(parsed, today=TODAY).violations)


def test_manifest_and_attachments_must_match():
    root = etree.fromstring(build_document(sample_package()))
    reference = root.findall(f"{{{NS}}}edXMLBody/{{{NS}}}edXMLManifest/{{{NS}}}Reference")[1]
    reference.find(f"{{{NS}}}ContentId").text = "cid:9"
    result = validate(parse(etree.tostring(root)), today=TODAY)
    found = {f.element: str(f) for f in result.violations}
    assert "có trong danh mục" in found["edXMLManifest/Reference[2]"]
    assert "không có trong danh mục edXMLManifest" in found["Attachment[2]"]


def test_status_violations():
    status = StatusPackage(from_=Organization(organ_id=""), response_for=ResponseFor(), status_code="07")
    found = {f.element: str(f) for f in validate(status, today=TODAY).violations}
    assert "'07' không hợp lệ" in found["StatusCode"]
    assert "là bắt buộc" in found["From/OrganId"]
    assert "không biết gói này trả lời cho văn bản nào" in found["ResponseFor/DocumentId"]
    parsed = parse(build_status(status))
    assert parsed.package.status_code == "07"
    assert not validate(parsed, today=TODAY).ok


@pytest.mark.parametrize(("code", "problem"), [
    ("000.00.00.H41", None), ("777.77.04.D77", None),
    ("vxp.saas.03", "mã cổng kết nối"), ("28.22.H17", "chỉ có ba nhóm"), ("01.02.G22", "chỉ có ba nhóm"),
    ("H41", "không theo dạng"),
])
def test_organisation_codes_outside_qd20_are_warnings(code, problem):
    found = organ_code_problem(code)
    assert (found is None) if problem is None else (problem in found)
    package = _replace(sample_package(), "header.to", [Organization(organ_id=code)])
    result = validate(package, today=TODAY)
    assert result.ok
    assert any(f.element == "To[1]/OrganId" for f in result.warnings) == (problem is not None)


@pytest.mark.parametrize(("text", "value", "noted"), [
    ("2020/10/30", dt.date(2020, 10, 30), None),
    ("30/10/2020", dt.date(2020, 10, 30), "dd/MM/yyyy"),
    ("2020-10-30", dt.date(2020, 10, 30), "không đúng dạng yyyy/MM/dd"),
    ("2020/1/5", dt.date(2020, 1, 5), "không đúng dạng yyyy/MM/dd"),
    ("2014/02/30", None, "không phải ngày có thật"),
    ("31/04/2020", None, "không phải ngày có thật"),
    ("hôm qua", None, "không phải ngày theo dạng yyyy/MM/dd"),
])
def test_dates(text, value, noted):
    found, note = read_date(text)
    assert found == value
    assert (note is None) if noted is None else (noted in note)


def test_timestamps():
    assert read_timestamp("2015/09/20 11:08:36") == (dt.datetime(2015, 9, 20, 11, 8, 36, tzinfo=VIETNAM), None)
    moment, note = read_timestamp("2015-09-20T04:08:36Z")
    assert moment == dt.datetime(2015, 9, 20, 11, 8, 36, tzinfo=VIETNAM)
    assert "múi giờ" in note
    moment, note = read_timestamp("20/09/2015 11:08:36")
    assert moment == dt.datetime(2015, 9, 20, 11, 8, 36, tzinfo=VIETNAM)
    assert "dd/MM/yyyy" in note
    assert read_timestamp("2015/09/20 25:00:00")[0] is None
    assert read_timestamp("2014/02/30 10:00:00") == (None, "'2014/02/30' không phải ngày có thật")


def test_impossible_promulgation_date_is_a_violation_not_a_crash():
    data = build_document(sample_package()).replace(b">2026/03/05</edXML:PromulgationDate>",
                                                    b">2014/02/30</edXML:PromulgationDate>")
    parsed = parse(data)
    assert parsed.package.header.promulgation_info.promulgation_date is None
    [violation] = validate(parsed, today=TODAY).violations
    assert violation.element == "PromulgationInfo/PromulgationDate"
    assert "'2014/02/30' không phải ngày có thật" in str(violation)
