"""edXML bytes → ``ParsedPackage`` (SPEC §11.2–11.3).

Tolerant where real peers differ and harmless (element order, prefix or default namespace, the ``<edXML>`` wrapper
around the envelope, attachments inside the envelope or in a trailing block, dd/MM/yyyy dates), strict where it
matters: not well-formed XML, a DTD, or a package past the size caps raise ParseError; everything else is a
recorded warning or violation, never an exception.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import fields
from datetime import date, datetime

from lxml import etree

from portal.exchange.edxml.dates import read_date, read_timestamp
from portal.exchange.edxml.files import Budget, examine
from portal.exchange.edxml.model import (
    NS,
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
    xml_fields,
)
from portal.exchange.edxml.safexml import DEFAULT_LIMITS, Limits, ParseError, child, children, descend, load, local
from portal.text import nfc

Element = etree._Element
ATTACHMENT_BLOCKS = ("Attachments", "AttachmentEncoded")
LABELS = {"PromulgationDate": "Ngày ban hành", "DueDate": "Hạn giải quyết", "Timestamp": "Thời điểm",
          "Priority": "Độ khẩn", "PromulgationAmount": "Số bản phát hành", "PageAmount": "Số trang"}


class _Notes:
    def __init__(self) -> None:
        self.warnings: list[Finding] = []
        self.violations: list[Finding] = []

    def warn(self, element: str, message: str) -> None:
        self.warnings.append(Finding(element, message))

    def violate(self, element: str, message: str) -> None:
        self.violations.append(Finding(element, message))


def parse(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> ParsedPackage:
    """A document or status package read from ``data``; ParseError when it cannot be read at all."""
    root = load(data, limits)
    envelope = root if local(root) == "edXMLEnvelope" else child(root, "edXMLEnvelope")
    if envelope is None:
        raise ParseError(f"Không phải gói edXML: phần tử gốc là <{local(root)}>, không có edXMLEnvelope.")
    header = child(envelope, "edXMLHeader")
    message = child(header, "MessageHeader")
    if message is None:
        raise ParseError("Gói edXML thiếu edXMLHeader/MessageHeader.")
    notes = _Notes()
    if etree.QName(envelope).namespace != NS:
        notes.warn("edXMLEnvelope", f"edXMLEnvelope không thuộc không gian tên {NS}; vẫn đọc theo tên phần tử.")
    signed = child(header, "Signature") is not None or child(envelope, "Signature") is not None
    if child(message, "StatusCode") is not None:
        return ParsedPackage("status", _status(message, notes), notes.warnings, notes.violations, signed)
    package = DocumentPackage(header=_message_header(message, notes))
    trace_list = child(header, "TraceHeaderList")
    package.trace = [_trace_header(el, f"TraceHeader[{n}]", notes)
                     for n, el in enumerate(children(trace_list, "TraceHeader"), 1)]
    business = _single(trace_list, "Bussiness", "TraceHeaderList", notes)
    package.business = _business(business, notes) if business is not None else None
    manifest = descend(envelope, "edXMLBody", "edXMLManifest")
    package.manifest = [_manifest_reference(el) for el in children(manifest, "Reference")]
    holders = [envelope] if root is envelope else [envelope, root]
    blocks = [b for holder in holders for name in ATTACHMENT_BLOCKS for b in children(holder, name)]
    if blocks and manifest is None:
        notes.warn("edXMLManifest", "Gói có tệp đính kèm nhưng không có danh mục (edXMLBody/edXMLManifest).")
    budget = Budget(limits)
    package.attachments = [_attachment(el, n, budget, notes)
                           for n, el in enumerate((a for b in blocks for a in children(b, "Attachment")), 1)]
    return ParsedPackage("document", package, notes.warnings, notes.violations, signed)


def _single(parent: Element | None, name: str, path: str, notes: _Notes) -> Element | None:
    found = children(parent, name)
    if len(found) > 1:
        notes.warn(f"{path}/{name}", f"Phần tử {path}/{name} xuất hiện {len(found)} lần; chỉ dùng phần tử đầu.")
    return found[0] if found else None


def _text(parent: Element | None, name: str, path: str, notes: _Notes) -> str:
    element = _single(parent, name, path, notes)
    return (nfc(element.text) or "") if element is not None else ""


def _date(parent: Element | None, name: str, path: str, notes: _Notes, *, required: bool = False) -> date | None:
    text = _text(parent, name, path, notes)
    if not text:
        return None
    value, note = read_date(text)
    if note:
        where = f"{path}/{name}"
        message = f"{LABELS[name]} ({where}): {note}."
        if value is None and required:
            notes.violate(where, message)
        else:
            notes.warn(where, message)
    return value


def _timestamp(parent: Element | None, name: str, path: str, notes: _Notes) -> datetime | None:
    text = _text(parent, name, path, notes)
    if not text:
        return None
    value, note = read_timestamp(text)
    if note:
        notes.warn(f"{path}/{name}", f"{LABELS[name]} ({path}/{name}): {note}.")
    return value


def _int(parent: Element | None, name: str, path: str, notes: _Notes, *, strict: bool = False) -> int | None:
    """A number; anything else is a warning, or a violation when ``strict``."""
    text = _text(parent, name, path, notes)
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    message = f"{LABELS[name]} ({path}/{name}): '{text}' không phải số."
    (notes.violate if strict else notes.warn)(f"{path}/{name}", message)
    return None


def _fill(cls: type, element: Element | None, path: str, notes: _Notes, *, required_dates: bool = False):
    """A dataclass whose fields name their elements; date fields are read as dates."""
    values = {}
    types = {f.name: f.default for f in fields(cls)}
    for attr, name in xml_fields(cls):
        if types[attr] is None:  # the date fields default to None, the string fields to ""
            values[attr] = _date(element, name, path, notes, required=required_dates)
        else:
            values[attr] = _text(element, name, path, notes)
    return cls(**values)


def _organization(element: Element | None, path: str, notes: _Notes) -> Organization:
    return _fill(Organization, element, path, notes)


def _message_header(message: Element, notes: _Notes) -> MessageHeader:
    path = "MessageHeader"
    other = _single(message, "OtherInfo", path, notes)
    return MessageHeader(
        from_=_organization(_single(message, "From", path, notes), "From", notes),
        to=[_organization(el, f"To[{n}]", notes) for n, el in enumerate(children(message, "To"), 1)],
        code=_fill(Code, _single(message, "Code", path, notes), "Code", notes),
        promulgation_info=_fill(PromulgationInfo, _single(message, "PromulgationInfo", path, notes),
                                "PromulgationInfo", notes, required_dates=True),
        document_type=_fill(DocumentType, _single(message, "DocumentType", path, notes), "DocumentType", notes),
        subject=_text(message, "Subject", path, notes),
        content=_text(message, "Content", path, notes),
        signer_info=_fill(SignerInfo, _single(message, "SignerInfo", path, notes), "SignerInfo", notes),
        due_date=_date(message, "DueDate", path, notes),
        to_places=_texts(_single(message, "ToPlaces", path, notes), "Place"),
        other_info=_other_info(other, notes),
        response_for=[_fill(ResponseFor, el, f"ResponseFor[{n}]", notes)
                      for n, el in enumerate(children(message, "ResponseFor"), 1) if _has_text(el)],
        steering_type=_text(message, "SteeringType", path, notes),
        document_id=_text(message, "DocumentId", path, notes),
    )


def _has_text(element: Element) -> bool:
    return any((t or "").strip() for t in element.itertext())


def _texts(parent: Element | None, name: str) -> list[str]:
    return [t for el in children(parent, name) if (t := nfc(el.text) or "")]


def _other_info(element: Element | None, notes: _Notes) -> OtherInfo:
    path = "OtherInfo"
    return OtherInfo(
        priority=_int(element, "Priority", path, notes, strict=True),
        sphere_of_promulgation=_text(element, "SphereOfPromulgation", path, notes),
        typer_notation=_text(element, "TyperNotation", path, notes),
        promulgation_amount=_int(element, "PromulgationAmount", path, notes),
        page_amount=_int(element, "PageAmount", path, notes),
        direction=_text(element, "Direction", path, notes),
        appendixes=_texts(_single(element, "Appendixes", path, notes), "Appendix"),
    )


def _trace_header(element: Element, path: str, notes: _Notes) -> TraceHeader:
    return TraceHeader(organ_id=_text(element, "OrganId", path, notes),
                       timestamp=_timestamp(element, "Timestamp", path, notes))


def _business(element: Element, notes: _Notes) -> Business:
    path = "Bussiness"
    text = _text(element, "BussinessDocType", path, notes)
    doc_type: BusinessType | str = text
    if not text:
        doc_type = BusinessType.NEW
        notes.warn(f"{path}/BussinessDocType", "Bussiness/BussinessDocType trống: coi là văn bản mới (0).")
    elif text.isascii() and text.isdigit() and int(text) in BusinessType._value2member_map_:
        doc_type = BusinessType(int(text))
    paper_text = _text(element, "Paper", path, notes)
    paper = {"0": False, "1": True}.get(paper_text)
    if paper_text and paper is None:
        notes.warn(f"{path}/Paper", f"Bussiness/Paper: '{paper_text}' không phải 0 hoặc 1; bỏ qua.")
    staff = _single(element, "StaffInfo", path, notes)
    info = _single(element, "BussinessDocumentInfo", path, notes)
    return Business(
        doc_type=doc_type,
        doc_reason=_text(element, "BussinessDocReason", path, notes),
        document_id=_text(element, "DocumentId", path, notes),
        paper=paper,
        staff_info=_fill(StaffInfo, staff, f"{path}/StaffInfo", notes) if staff is not None else None,
        document_info=_document_info(info, notes) if info is not None else None,
        replacements=_replacements(_single(element, "ReplacementInfoList", path, notes), notes),
    )


def _document_info(element: Element, notes: _Notes) -> BusinessDocumentInfo:
    path = "Bussiness/BussinessDocumentInfo"
    receivers = children(_single(element, "ReceiverList", path, notes), "Receiver")
    return BusinessDocumentInfo(
        document_info=_text(element, "DocumentInfo", path, notes),
        document_receiver=_text(element, "DocumentReceiver", path, notes),
        receivers=[_fill(Receiver, el, f"{path}/ReceiverList/Receiver[{n}]", notes)
                   for n, el in enumerate(receivers, 1)],
    )


def _replacements(element: Element | None, notes: _Notes) -> list[ReplacementInfo]:
    path = "Bussiness/ReplacementInfoList"
    found: list[ReplacementInfo] = []
    for n, el in enumerate(children(element, "ReplacementInfo"), 1):
        info = ReplacementInfo(document_id=_text(el, "DocumentId", f"{path}/ReplacementInfo[{n}]", notes),
                               organ_ids=tuple(_texts(child(el, "OrganIdList"), "OrganId")))
        if info in found:
            notes.warn(f"{path}/ReplacementInfo[{n}]", f"{path}/ReplacementInfo[{n}] trùng với một mục trước "
                       f"(DocumentId {info.document_id}): đã bỏ bản trùng.")
            continue
        found.append(info)
    return found


def _manifest_reference(element: Element) -> ManifestReference:
    reference = _fill(ManifestReference, element, "edXMLManifest/Reference", _Notes())
    if not reference.content_id:
        href = next((v for k, v in element.attrib.items() if k.rpartition("}")[2] == "href"), "")
        reference.content_id = nfc(href) or ""
    return reference


def _attachment(element: Element, n: int, budget: Budget, notes: _Notes) -> Attachment:
    path = f"Attachment[{n}]"
    attachment = Attachment(content_id=_text(element, "ContentId", path, notes),
                            name=_text(element, "AttachmentName", path, notes),
                            content_type=_text(element, "ContentType", path, notes),
                            description=_text(element, "Description", path, notes))
    encoded = child(element, "ContentTransferEncoded")
    text = (encoded.text if encoded is not None else element.text) or ""
    shown = attachment.name or attachment.content_id or path
    try:
        attachment.data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        notes.violate(f"{path}/ContentTransferEncoded",
                      f"Tệp đính kèm '{shown}': nội dung (ContentTransferEncoded) không phải base64 đọc được.")
        return attachment
    found = examine(attachment.name, attachment.content_type, attachment.data, budget)
    attachment.kind, attachment.files, attachment.flags = found.kind, found.files, found.flags
    if found.refused:
        notes.violate(path, found.refused)
    for flag in found.flags:
        notes.warn(path, f"Tệp đính kèm '{shown}': {flag}.")
    for inner in found.files:
        where = f"tệp '{inner.name}'" if inner.path == attachment.name else f"tệp '{inner.path}'"
        for flag in inner.flags:
            notes.warn(path, f"Tệp đính kèm '{shown}', {where}: {flag}.")
    return attachment


def _status(message: Element, notes: _Notes) -> StatusPackage:
    path = "MessageHeader"
    code_text = _text(message, "StatusCode", path, notes)
    code: StatusCode | str = code_text
    if code_text.isascii() and code_text.isdigit() and len(code_text) == 1:
        code_text = code_text.zfill(2)
        notes.warn("StatusCode", f"StatusCode '{code}' thiếu số 0 đầu; đã đọc là '{code_text}'.")
    if code_text in StatusCode._value2member_map_:
        code = StatusCode(code_text)
    staff = _single(message, "StaffInfo", path, notes)
    response = _single(message, "ResponseFor", path, notes)
    return StatusPackage(
        from_=_organization(_single(message, "From", path, notes), "From", notes),
        response_for=_fill(ResponseFor, response, "ResponseFor", notes),
        staff_info=_fill(StaffInfo, staff, "StaffInfo", notes) if staff is not None else None,
        status_code=code,
        description=_text(message, "Description", path, notes),
        timestamp=_timestamp(message, "Timestamp", path, notes),
    )
