"""``DocumentPackage``/``StatusPackage`` → edXML bytes, in the structure of SPEC §11.2: ``edXML:edXMLEnvelope``
holding edXMLHeader (MessageHeader, TraceHeaderList with Bussiness), edXMLBody/edXMLManifest and Attachments,
every element with the ``edXML:`` prefix, UTF-8, dates ``yyyy/MM/dd`` and timestamps ``yyyy/MM/dd HH:mm:ss``
in Vietnam time. Empty values are left out (the reader reads an absent element as empty). The manifest is
derived from the attachments, so the two cannot disagree. ``xmlsig.sign`` adds the signature afterwards.

Text that XML cannot carry (NUL, other control characters) raises ValueError: callers pass validated fields.
"""

from __future__ import annotations

import base64
from datetime import date, datetime

from lxml import etree

from portal.exchange.edxml.dates import write_date, write_timestamp
from portal.exchange.edxml.model import (
    NS,
    Business,
    DocumentPackage,
    MessageHeader,
    OtherInfo,
    StatusPackage,
    xml_fields,
)

XLINK = "http://www.w3.org/1999/xlink"
Element = etree._Element


def _envelope() -> Element:
    return etree.Element(f"{{{NS}}}edXMLEnvelope", nsmap={"edXML": NS, "xlink": XLINK})


def _sub(parent: Element, name: str, text: str | None = None) -> Element:
    element = etree.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        element.text = text
    return element


def _value(value: object) -> str:
    if isinstance(value, datetime):
        return write_timestamp(value)
    if isinstance(value, date):
        return write_date(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _leaf(parent: Element, name: str, value: object) -> None:
    if value is not None and value != "":
        _sub(parent, name, _value(value))


def _group(parent: Element, name: str, obj: object) -> None:
    """A dataclass whose fields name their elements; left out when every field is empty."""
    values = [(element, getattr(obj, attr)) for attr, element in xml_fields(type(obj))]
    if any(v is not None and v != "" for _, v in values):
        group = _sub(parent, name)
        for element, value in values:
            _leaf(group, element, value)


def _list(parent: Element, name: str, item: str, values: list[str]) -> None:
    if values:
        group = _sub(parent, name)
        for value in values:
            _sub(group, item, value)


DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _serialise(root: Element) -> bytes:
    etree.indent(root, space="  ")
    return DECLARATION + etree.tostring(root, xml_declaration=False, encoding="UTF-8")


def build_document(package: DocumentPackage) -> bytes:
    envelope = _envelope()
    header = _sub(envelope, "edXMLHeader")
    _message_header(_sub(header, "MessageHeader"), package.header)
    if package.trace or package.business:
        trace_list = _sub(header, "TraceHeaderList")
        for trace in package.trace:
            element = _sub(trace_list, "TraceHeader")
            _leaf(element, "OrganId", trace.organ_id)
            _leaf(element, "Timestamp", trace.timestamp)
        if package.business:
            _business(_sub(trace_list, "Bussiness"), package.business)
    manifest = _sub(_sub(envelope, "edXMLBody"), "edXMLManifest")
    manifest.set("version", "1.0")
    if package.attachments:
        attachments = _sub(envelope, "Attachments")
    for attachment in package.attachments:
        reference = _sub(manifest, "Reference")
        reference.set(f"{{{XLINK}}}href", attachment.content_id)
        for name, value in (("Description", attachment.description), ("AttachmentName", attachment.name),
                            ("ContentType", attachment.content_type), ("ContentId", attachment.content_id)):
            _leaf(reference, name, value)
        element = _sub(attachments, "Attachment")
        for name, value in (("ContentId", attachment.content_id), ("AttachmentName", attachment.name),
                            ("ContentType", attachment.content_type), ("Description", attachment.description)):
            _leaf(element, name, value)
        _sub(element, "ContentTransferEncoded", base64.b64encode(attachment.data).decode("ascii"))
    return _serialise(envelope)


def _message_header(message: Element, header: MessageHeader) -> None:
    _group(message, "From", header.from_)
    for organization in header.to:
        _group(message, "To", organization)
    _group(message, "Code", header.code)
    _group(message, "PromulgationInfo", header.promulgation_info)
    _group(message, "DocumentType", header.document_type)
    _leaf(message, "Subject", header.subject)
    _leaf(message, "Content", header.content)
    _group(message, "SignerInfo", header.signer_info)
    _leaf(message, "DueDate", header.due_date)
    _list(message, "ToPlaces", "Place", header.to_places)
    _other_info(message, header.other_info)
    for response in header.response_for:
        _group(message, "ResponseFor", response)
    _leaf(message, "SteeringType", header.steering_type)
    _leaf(message, "DocumentId", header.document_id)


def _other_info(message: Element, other: OtherInfo) -> None:
    if other == OtherInfo():
        return
    element = _sub(message, "OtherInfo")
    _leaf(element, "Priority", other.priority)
    _leaf(element, "SphereOfPromulgation", other.sphere_of_promulgation)
    _leaf(element, "TyperNotation", other.typer_notation)
    _leaf(element, "PromulgationAmount", other.promulgation_amount)
    _leaf(element, "PageAmount", other.page_amount)
    _leaf(element, "Direction", other.direction)
    _list(element, "Appendixes", "Appendix", other.appendixes)


def _business(element: Element, business: Business) -> None:
    doc_type = business.doc_type
    _leaf(element, "BussinessDocType", int(doc_type) if not isinstance(doc_type, str) else doc_type)
    _leaf(element, "BussinessDocReason", business.doc_reason)
    _leaf(element, "DocumentId", business.document_id)
    _leaf(element, "Paper", business.paper)
    if business.staff_info:
        _group(element, "StaffInfo", business.staff_info)
    info = business.document_info
    if info:
        group = _sub(element, "BussinessDocumentInfo")
        _leaf(group, "DocumentInfo", info.document_info)
        _leaf(group, "DocumentReceiver", info.document_receiver)
        if info.receivers:
            receivers = _sub(group, "ReceiverList")
            for receiver in info.receivers:
                _group(receivers, "Receiver", receiver)
    if business.replacements:
        replacements = _sub(element, "ReplacementInfoList")
        for replacement in business.replacements:
            item = _sub(replacements, "ReplacementInfo")
            _leaf(item, "DocumentId", replacement.document_id)
            _list(item, "OrganIdList", "OrganId", list(replacement.organ_ids))


def build_status(status: StatusPackage) -> bytes:
    envelope = _envelope()
    message = _sub(_sub(envelope, "edXMLHeader"), "MessageHeader")
    _group(message, "From", status.from_)
    _group(message, "ResponseFor", status.response_for)
    if status.staff_info:
        _group(message, "StaffInfo", status.staff_info)
    _sub(message, "StatusCode", str(status.status_code))
    _leaf(message, "Description", status.description)
    _leaf(message, "Timestamp", status.timestamp)
    return _serialise(envelope)
