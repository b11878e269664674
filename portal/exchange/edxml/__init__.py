"""edXML packages (QCVN 102:2016 and Sửa đổi 1:2022; SPEC §11): bytes in, bytes out.

Nothing here knows Flask, the database or another portal feature.

    parsed = parse(data)                 # ParseError when not readable at all (the parser's message and line)
    result = validate(parsed)            # .violations (→ status 02), .warnings (recorded, shown)
    check = xmlsig.verify(data)          # valid / invalid / không kiểm tra được / không có chữ ký
    data = build_document(package)       # or build_status(status)
    data = xmlsig.sign(data, signer, certificate, chain)

Modules: model (dataclasses, enums), reader (parse), checks (validate), writer (build), xmlsig (signature),
files (what an attachment really is, unpacking), safexml (hardened XML loading, limits), dates, ids (DocumentId,
QĐ 20 codes).
"""

from portal.exchange.edxml import xmlsig
from portal.exchange.edxml.checks import validate
from portal.exchange.edxml.ids import DocumentRef, make_document_id, organ_code_problem, parse_document_id
from portal.exchange.edxml.model import (
    NS,
    AttachedFile,
    Attachment,
    Business,
    BusinessDocumentInfo,
    BusinessType,
    Code,
    DocumentPackage,
    DocumentType,
    Finding,
    ManifestReference,
    MessageHeader,
    Organization,
    OtherInfo,
    ParsedPackage,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusPackage,
    TraceHeader,
    Validation,
)
from portal.exchange.edxml.reader import parse
from portal.exchange.edxml.safexml import DEFAULT_LIMITS, Limits, ParseError
from portal.exchange.edxml.writer import build_document, build_status
from portal.exchange.edxml.xmlsig import SignatureCheck, key_signer, sign, verify

__all__ = [
    "DEFAULT_LIMITS", "NS", "AttachedFile", "Attachment", "Business", "BusinessDocumentInfo", "BusinessType", "Code",
    "DocumentPackage", "DocumentRef", "DocumentType", "Finding", "Limits", "ManifestReference", "MessageHeader",
    "Organization", "OtherInfo", "ParseError", "ParsedPackage", "PromulgationInfo", "Receiver", "ReplacementInfo",
    "ResponseFor", "SignatureCheck", "SignerInfo", "StaffInfo", "StatusCode", "StatusPackage", "TraceHeader",
    "Validation", "build_document", "build_status", "key_signer", "make_document_id", "organ_code_problem", "parse",
    "parse_document_id", "sign", "validate", "verify", "xmlsig",
]
