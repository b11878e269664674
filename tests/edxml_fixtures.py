"""Shared by the edXML tests: the real packages, a complete package of our own, throwaway RSA keys."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from portal.exchange.edxml import (
    NS,
    Attachment,
    Business,
    BusinessType,
    Code,
    DocumentPackage,
    DocumentType,
    MessageHeader,
    Organization,
    OtherInfo,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    TraceHeader,
    make_document_id,
)
from portal.exchange.edxml.dates import VIETNAM

REALWORLD = Path(__file__).resolve().parent / "data" / "realworld" / "edxml"  # copies of the shared real packages
TODAY = dt.date(2026, 3, 6)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def real(name: str) -> bytes:
    return (REALWORLD / name).read_bytes()


def zipped(*entries: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def sample_package() -> DocumentPackage:
    """Every element of SPEC §11.2 filled, as the portal would send it."""
    return DocumentPackage(
        header=MessageHeader(
            from_=Organization("000.00.12.H40", "UBND tỉnh Ninh Bình", "Sở Tài chính tỉnh Ninh Bình",
                               "Số 2 đường Lê Hồng Phong, Ninh Bình", "stc@ninhbinh.gov.vn", "02293871234",
                               "02293871235", "stc.ninhbinh.gov.vn"),
            to=[Organization(organ_id="000.00.00.H41", organ_name="UBND Tỉnh Nghệ An",
                             organization_in_charge="UBND Tỉnh Nghệ An"),
                Organization(organ_id="000.00.00.G22", organ_name="Văn phòng Chính phủ")],
            code=Code("05", "STC-NS"),
            promulgation_info=PromulgationInfo("Ninh Bình", dt.date(2026, 3, 5)),
            document_type=DocumentType("1", "0", "Công văn"),
            subject="V/v phối hợp rà soát số liệu ngân sách & <kế hoạch> năm 2026",
            content="Đề nghị các cơ quan phối hợp rà soát.",
            signer_info=SignerInfo("KT. GIÁM ĐỐC", "Phó Giám đốc", "Nguyễn Văn Ánh"),
            due_date=dt.date(2026, 4, 1),
            to_places=["Như trên;", "Lưu: VT, NS."],
            other_info=OtherInfo(priority=1, sphere_of_promulgation="Liên thông văn bản quốc gia",
                                 typer_notation="NVA", promulgation_amount=3, page_amount=2, direction="false",
                                 appendixes=["Phụ lục I: Biểu số liệu"]),
            response_for=[ResponseFor("000.00.00.G22", "7816/VPCP-TTĐT", dt.date(2015, 9, 30),
                                      "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")],
            steering_type="1",
            document_id=make_document_id("000.00.12.H40", dt.date(2026, 3, 5), "05", "STC-NS"),
        ),
        trace=[TraceHeader("000.00.12.H40", dt.datetime(2026, 3, 5, 9, 30, 15, tzinfo=VIETNAM))],
        business=Business(BusinessType.NEW, "Văn bản điện tử mới", "", False,
                          StaffInfo("Văn thư", "Trần Thị Bình", "0912000001", "vanthu@ninhbinh.gov.vn")),
        attachments=[Attachment("cid:1", "05-STC-NS.signed.pdf", "application/pdf", "Công văn", PDF),
                     Attachment("cid:2", "phu-luc.zip", "application/zip", "Phụ lục",
                                zipped(("bieu-so-lieu.pdf", PDF)))],
    )


def make_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_cert(key: rsa.RSAPrivateKey, common_name: str, issuer: tuple[rsa.RSAPrivateKey, x509.Certificate] | None = None
              ) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND tỉnh Ninh Bình")])
    now = dt.datetime.now(dt.UTC)
    issuer_key, issuer_name = (issuer[0], issuer[1].subject) if issuer else (key, name)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(issuer_key, hashes.SHA256()))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def wrapped_package(attachments_inside: str = "", trailing: str = "", manifest: str = "",
            root_ns: str = f' xmlns="{NS}"') -> bytes:
    """The real-world shape: an <edXML> root in the default namespace, unprefixed children in any order."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<edXML{root_ns} xmlns:xlink="http://www.w3.org/1999/xlink">
  <edXMLEnvelope>
    <edXMLHeader>
      <MessageHeader>
        <Subject>V/v thử các dạng gói</Subject>
        <To><OrganId>000.00.00.H41</OrganId></To>
        <Code><CodeNotation>UBND-VP</CodeNotation><CodeNumber>12</CodeNumber></Code>
        <PromulgationInfo><PromulgationDate>2026/03/01</PromulgationDate><Place>Ninh Bình</Place></PromulgationInfo>
        <From><OrganName>Cổng kết nối</OrganName><OrganId>vxp.saas.03</OrganId></From>
      </MessageHeader>
    </edXMLHeader>
    <edXMLBody><edXMLManifest version="1.0">{manifest}</edXMLManifest></edXMLBody>
    {attachments_inside}
  </edXMLEnvelope>
  {trailing}
</edXML>""".encode()


def attachment(cid: str, name: str, content_type: str, data: bytes) -> str:
    return (f"<Attachment><ContentId>{cid}</ContentId><AttachmentName>{name}</AttachmentName>"
            f"<ContentType>{content_type}</ContentType><ContentTransferEncoded>\n{b64(data)}\n"
            "</ContentTransferEncoded></Attachment>")


def reference(cid: str, name: str) -> str:
    return f'<Reference xlink:href="{cid}"><AttachmentName>{name}</AttachmentName></Reference>'
