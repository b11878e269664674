"""The real packages of ../shared/data/realworld/edxml/ (README §1), each read with the fields and quirks the
README describes: fan-out, a ZIP hiding an .edxml under a .doc name, a non-numeric number, three-group and
dd/MM/yyyy oddities, an impossible date, duplicate replacements, reordered and contradicting ResponseFor, and a
package that is not XML at all."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.exchange.edxml import (
    BusinessType,
    ParseError,
    ReplacementInfo,
    StatusCode,
    parse,
    validate,
    xmlsig,
)
from portal.exchange.edxml.dates import VIETNAM
from tests.edxml_fixtures import REALWORLD, TODAY, real

VPCP_DOCUMENT = "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
ALL_FILES = sorted(p.name for p in REALWORLD.glob("*.edxml"))
DOCUMENTS = [n for n in ALL_FILES if n.startswith("edoc-") and "malformed" not in n]


def messages(findings) -> str:
    return "\n".join(str(f) for f in findings)


def test_the_fixtures_are_there():
    assert len(ALL_FILES) == 17  # 7 document packages, 10 status packages (the README counts 11)


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_real_package_is_read_or_refused_with_a_reason(name):
    data = real(name)
    check = xmlsig.verify(data)  # never raises, whatever the package
    if "malformed" in name:
        with pytest.raises(ParseError):
            parse(data)
        assert check.status == "unverifiable"
        return
    parsed = parse(data)
    result = validate(parsed, today=TODAY)
    assert result.ok, messages(result.violations)
    assert parsed.kind == ("status" if name.startswith("status-") else "document")
    assert check.status == ("unverifiable" if parsed.kind == "document" else "unsigned")


def test_fan_out_to_three_provinces():
    parsed = parse(real("edoc-new_vpcp-to-3-provinces.edxml"))
    header = parsed.package.header
    assert header.from_.organ_id == "000.00.00.G22"
    assert header.from_.organ_name == "Văn phòng Chính phủ"
    assert [t.organ_id for t in header.to] == ["000.00.00.H41", "000.00.00.H14", "000.00.00.G17"]
    assert header.to[2].organ_name == "Sở Thông tin truyền thông Hải Phòng"
    assert (header.code.code_number, header.code.code_notation) == ("7816", "VPCP-TTĐT")
    assert header.document_type.type_name == "Công văn"
    assert header.promulgation_info.promulgation_date == dt.date(2019, 4, 11)
    assert header.steering_type == "1"
    assert header.to_places == ["Cac bo va co quan ngang bo", "Uy ban nhan dan cac tinh, TP"]
    assert header.other_info.priority == 0
    assert header.other_info.page_amount == 22
    assert header.document_id == VPCP_DOCUMENT
    assert parsed.package.business.doc_type is BusinessType.NEW
    assert parsed.package.trace[0].timestamp == dt.datetime(2019, 4, 11, tzinfo=VIETNAM)
    assert parsed.has_signature


def test_zip_hiding_an_edxml_under_a_doc_name_is_unpacked_and_flagged():
    parsed = parse(real("edoc-new_vpcp-to-3-provinces.edxml"))
    [attachment] = parsed.package.attachments
    assert (attachment.name, attachment.content_type, attachment.kind) == (
        "1896_QD-TTg_m_294779.doc", "application/zip", "zip")
    assert attachment.data[:4] == b"PK\x03\x04"  # kept exactly as received
    [inner] = attachment.files  # what the clerk sees
    assert inner.name.endswith(".edxml")
    assert inner.kind == "edxml"
    assert inner.data == real("edoc-malformed_nested-from.edxml")
    assert attachment.flags == ["nội dung là gói nén ZIP, không khớp đuôi .doc"]
    assert any(".edxml không thuộc các loại tệp được nhận" in f for f in inner.flags)
    warnings = messages(parsed.warnings)
    assert "'1896_QD-TTg_m_294779.doc': nội dung là gói nén ZIP, không khớp đuôi .doc" in warnings
    assert [r.content_id for r in parsed.package.manifest] == ["cid:209"]


def test_the_signature_with_a_truncated_certificate_cannot_be_checked():
    check = xmlsig.verify(real("edoc-new_vpcp-to-3-provinces.edxml"))
    assert check.status == "unverifiable"
    assert check.label == "không kiểm tra được"
    assert "cắt cụt" in check.reason
    assert "MIIFqTCCBJG" in check.reason
    assert (check.signer, check.algorithm) == ("CN=user05", "rsa-sha1")
    assert not check.valid


def test_danang_communes_non_standard_codes_and_number_are_warnings():
    parsed = parse(real("edoc-new_danang-communes.edxml"))
    header = parsed.package.header
    assert header.from_.organ_id == "000.00.00.A80"
    assert [t.organ_id for t in header.to] == ["28.22.H17"]
    assert header.code.code_number == "74fass22"
    result = validate(parsed, today=TODAY)
    assert result.ok
    by_element = {f.element: str(f) for f in result.warnings}
    assert "ba nhóm" in by_element["To[1]/OrganId"]
    assert "28.22.H17" in by_element["To[1]/OrganId"]
    assert "'74fass22' không phải số" in by_element["Code/CodeNumber"]
    [attachment] = parsed.package.attachments
    assert len(attachment.data) == 270_823
    assert [(f.kind, len(f.data)) for f in attachment.files] == [("edxml", 388_347)]


def test_update_package_with_receiver_list_and_an_impossible_date():
    parsed = parse(real("edoc-update-2_vpcp-to-nghean.edxml"))
    business = parsed.package.business
    assert business.doc_type is BusinessType.UPDATE
    assert business.doc_type.label == "Cập nhật"
    assert business.doc_reason == "Cập nhật văn bản điện tử"
    assert business.paper is False
    assert business.document_info.document_info == "1"
    assert [(r.organ_id, r.receiver_type) for r in business.document_info.receivers] == [
        ("000.00.00.H41", "0"), ("000.00.00.H14", "1")]
    assert business.staff_info.staff == "Nguyễn Thị Ngọc Trâm"
    result = validate(parsed, today=TODAY)
    assert result.ok
    [impossible] = [f for f in result.warnings if f.element == "Bussiness/DocumentId"]
    assert "'2014/02/30' không phải ngày có thật" in str(impossible)


def test_revocation_points_at_the_recalled_document():
    parsed = parse(real("edoc-revoke-1_vpcp-to-nghean.edxml"))
    assert parsed.package.business.doc_type is BusinessType.RECALL
    assert parsed.package.business.doc_reason == "Thu hồi văn bản điện tử"
    [response] = parsed.package.header.response_for
    assert response.document_id == "000.00.04.G14,2012/08/06,267/VPCP-TTĐT"
    assert response.reference.organ_id == "000.00.04.G14"  # not ResponseFor/OrganId (H14)
    assert response.reference.promulgation_date == dt.date(2012, 8, 6)
    assert "dùng DocumentId" in messages(validate(parsed, today=TODAY).warnings)


def test_replacement_duplicates_are_dropped():
    parsed = parse(real("edoc-replace-3_vpcp-to-nghean.edxml"))
    business = parsed.package.business
    assert business.doc_type is BusinessType.REPLACE
    assert business.replacements == [ReplacementInfo("000.00.00.G22,2014/01/30,7806/VPCP-TTĐT",
                                                      ("000.00.00.H41", "000.00.00.H14"))]
    assert "trùng với một mục trước" in messages(parsed.warnings)


def test_tay_ninh_dd_mm_yyyy_date_is_read_and_recorded():
    parsed = parse(real("edoc-new_tayninh-ddmmyyyy-date.edxml"))
    header = parsed.package.header
    assert header.promulgation_info.promulgation_date == dt.date(2020, 10, 30)
    [note] = [f for f in parsed.warnings if f.element == "PromulgationInfo/PromulgationDate"]
    assert "dd/MM/yyyy" in str(note)
    assert "'30/10/2020'" in str(note)
    assert header.from_.organ_id == "000.00.11.H53"
    assert header.from_.organ_name == "Sở Tính"
    assert header.from_.telephone == ""
    assert header.from_.organ_add == ""
    assert [t.organ_id for t in header.to] == ["000.00.01.A53"]
    assert header.document_id == "000.00.11.H53,2020/10/30,2491/STC-BCTC"
    assert header.due_date is None
    assert header.signer_info.full_name == ""
    assert header.other_info.appendixes == []
    assert validate(parsed, today=TODAY).ok


def test_malformed_package_is_refused_with_the_parsers_line():
    with pytest.raises(ParseError) as caught:
        parse(real("edoc-malformed_nested-from.edxml"))
    assert caught.value.line == 74
    assert "dòng 74" in str(caught.value)
    assert "mismatch" in str(caught.value)


STATUSES = [
    ("status-01-received_nghean.edxml", StatusCode.RECEIVED),
    ("status-01-received_nghean_variant.edxml", StatusCode.RECEIVED),
    ("status-02-rejected_nghean.edxml", StatusCode.REJECTED),
    ("status-03-accepted_nghean.edxml", StatusCode.ACCEPTED),
    ("status-04-assigned_nghean.edxml", StatusCode.ASSIGNED),
    ("status-05-processing_nghean.edxml", StatusCode.PROCESSING),
    ("status-06-finished_nghean.edxml", StatusCode.FINISHED),
    ("status-13-recall-request_vpcp.edxml", StatusCode.RECALL_REQUESTED),
    ("status-15-change-accepted_nghean.edxml", StatusCode.CHANGE_ACCEPTED),
    ("status-16-change-rejected_nghean.edxml", StatusCode.CHANGE_REFUSED),
]


@pytest.mark.parametrize(("name", "code"), STATUSES)
def test_status_packages(name, code):
    parsed = parse(real(name))
    status = parsed.package
    assert parsed.kind == "status"
    assert status.status_code is code
    assert status.code is code
    assert status.from_.organ_id == ("000.00.00.G22" if code is StatusCode.RECALL_REQUESTED else "000.00.00.H41")
    ref = status.response_for.reference
    assert (ref.text, ref.organ_id, ref.promulgation_date, ref.code) == (
        VPCP_DOCUMENT, "000.00.00.G22", dt.date(2015, 9, 30), "7816/VPCP-TTĐT")
    assert status.description
    assert status.timestamp.tzinfo is not None
    assert validate(parsed, today=TODAY).ok


def test_status_codes_and_business_types_are_enums_with_labels():
    assert [c.value for c in StatusCode] == ["01", "02", "03", "04", "05", "06", "13", "15", "16"]
    assert StatusCode.RECEIVED.label == "Đã đến"
    assert StatusCode.CHANGE_REFUSED.label == "Từ chối thu hồi/cập nhật"
    assert [int(b) for b in BusinessType] == [0, 1, 2, 3]
    assert BusinessType.RECALL.label == "Thu hồi"


def test_status_older_than_its_document_is_flagged():
    result = validate(parse(real("status-01-received_nghean.edxml")), today=TODAY)
    [late] = [f for f in result.warnings if f.element == "Timestamp"]
    assert "sớm hơn ngày của văn bản 30/09/2015" in str(late)


def test_reordered_response_for_keys_on_document_id():
    first = parse(real("status-01-received_nghean.edxml")).package
    variant = parse(real("status-01-received_nghean_variant.edxml"))
    response = variant.package.response_for
    assert response.document_id == first.response_for.document_id
    assert response.promulgation_date == dt.date(2018, 9, 28)  # contradicts the DocumentId …
    assert response.reference.promulgation_date == dt.date(2015, 9, 30)  # … which wins
    assert variant.package.staff_info.staff == "Nguyễn Thị Ngọc Trâm"
    [contradiction] = validate(variant, today=TODAY).warnings
    assert contradiction.element == "ResponseFor/PromulgationDate"
    assert "dùng DocumentId" in str(contradiction)


def test_recall_request_is_routed_by_document_id():
    status = parse(real("status-13-recall-request_vpcp.edxml")).package
    assert status.response_for.organ_id == "000.00.00.H41"  # the recipient, as the sender wrote it
    assert status.response_for.reference.organ_id == "000.00.00.G22"  # the document's own organisation
    assert status.from_.organ_id == status.response_for.reference.organ_id
