"""What an edXML package says (QCVN 102:2016, SPEC §11.2), as plain dataclasses.

Element names live beside the fields (``metadata["xml"]``) so the reader and the writer cannot disagree.
QCVN 102 spells "Bussiness" with a double s; the element names keep the spelling, the Python names do not.
Strings are NFC and stripped when read; an absent element is "" (or None, or an empty list).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Literal

from portal.exchange.edxml.ids import DocumentRef, parse_document_id

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"


def xml(name: str, default: object = "", **kwargs) -> object:
    """A field read from and written to the child element ``name``."""
    return field(default=default, metadata={"xml": name}, **kwargs)


def xml_fields(cls: type) -> list[tuple[str, str]]:
    """(attribute, element) pairs of a dataclass, in the order the elements are written."""
    return [(f.name, f.metadata["xml"]) for f in dataclasses.fields(cls) if "xml" in f.metadata]


class StatusCode(StrEnum):
    """Status package codes (SPEC §11.2): two-digit strings, no others are sent."""

    RECEIVED = "01"
    REJECTED = "02"
    ACCEPTED = "03"
    ASSIGNED = "04"
    PROCESSING = "05"
    FINISHED = "06"
    RECALL_REQUESTED = "13"
    CHANGE_ACCEPTED = "15"
    CHANGE_REFUSED = "16"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    StatusCode.RECEIVED: "Đã đến",
    StatusCode.REJECTED: "Từ chối tiếp nhận, trả lại",
    StatusCode.ACCEPTED: "Đã tiếp nhận",
    StatusCode.ASSIGNED: "Đã phân công",
    StatusCode.PROCESSING: "Đang xử lý",
    StatusCode.FINISHED: "Hoàn thành",
    StatusCode.RECALL_REQUESTED: "Yêu cầu thu hồi",
    StatusCode.CHANGE_ACCEPTED: "Đồng ý thu hồi/cập nhật",
    StatusCode.CHANGE_REFUSED: "Từ chối thu hồi/cập nhật",
}


class BusinessType(IntEnum):
    """BussinessDocType: what a document package does to the document it names."""

    NEW = 0
    RECALL = 1
    UPDATE = 2
    REPLACE = 3

    @property
    def label(self) -> str:
        return BUSINESS_LABELS[self]


BUSINESS_LABELS = {
    BusinessType.NEW: "Văn bản mới",
    BusinessType.RECALL: "Thu hồi",
    BusinessType.UPDATE: "Cập nhật",
    BusinessType.REPLACE: "Thay thế",
}


@dataclass(frozen=True)
class Finding:
    """One violation or warning: ``element`` is the path in the package ("To[2]/OrganId"), ``message`` the
    Vietnamese sentence shown to the clerk, which names the element too."""

    element: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Organization:
    """From, To (and a status package's From)."""

    organ_id: str = xml("OrganId")
    organization_in_charge: str = xml("OrganizationInCharge")
    organ_name: str = xml("OrganName")
    organ_add: str = xml("OrganAdd")
    email: str = xml("Email")
    telephone: str = xml("Telephone")
    fax: str = xml("Fax")
    website: str = xml("Website")


@dataclass
class Code:
    code_number: str = xml("CodeNumber")
    code_notation: str = xml("CodeNotation")

    @property
    def text(self) -> str:
        """"7816/VPCP-TTĐT", as in DocumentId and ResponseFor/Code."""
        return f"{self.code_number}/{self.code_notation}" if self.code_notation else self.code_number


@dataclass
class PromulgationInfo:
    place: str = xml("Place")
    promulgation_date: date | None = xml("PromulgationDate", None)  # noqa: RUF009 (xml() returns a field)


@dataclass
class DocumentType:
    type: str = xml("Type")
    type_detail: str = xml("TypeDetail")
    type_name: str = xml("TypeName")


@dataclass
class SignerInfo:
    competence: str = xml("Competence")
    position: str = xml("Position")
    full_name: str = xml("FullName")


@dataclass
class StaffInfo:
    department: str = xml("Department")
    staff: str = xml("Staff")
    mobile: str = xml("Mobile")
    email: str = xml("Email")


@dataclass
class OtherInfo:
    priority: int | None = None
    sphere_of_promulgation: str = ""
    typer_notation: str = ""
    promulgation_amount: int | None = None
    page_amount: int | None = None
    direction: str = ""
    appendixes: list[str] = field(default_factory=list)


@dataclass
class ResponseFor:
    """The document a package answers or acts on. ``document_id`` is the key: real peers send an OrganId or
    a PromulgationDate that contradicts it (see ``DocumentRef``)."""

    organ_id: str = xml("OrganId")
    code: str = xml("Code")
    promulgation_date: date | None = xml("PromulgationDate", None)  # noqa: RUF009 (xml() returns a field)
    document_id: str = xml("DocumentId")

    @property
    def reference(self) -> DocumentRef:
        """The document meant: read from DocumentId when it has the standard shape, else from OrganId,
        PromulgationDate and Code."""
        ref = parse_document_id(self.document_id)[0] if self.document_id else None
        return ref or DocumentRef(self.organ_id, self.promulgation_date, self.code, self.document_id)


@dataclass
class MessageHeader:
    from_: Organization = field(default_factory=Organization)
    to: list[Organization] = field(default_factory=list)
    code: Code = field(default_factory=Code)
    promulgation_info: PromulgationInfo = field(default_factory=PromulgationInfo)
    document_type: DocumentType = field(default_factory=DocumentType)
    subject: str = ""
    content: str = ""
    signer_info: SignerInfo = field(default_factory=SignerInfo)
    due_date: date | None = None
    to_places: list[str] = field(default_factory=list)
    other_info: OtherInfo = field(default_factory=OtherInfo)
    response_for: list[ResponseFor] = field(default_factory=list)
    steering_type: str = ""
    document_id: str = ""


@dataclass
class TraceHeader:
    organ_id: str = ""
    timestamp: datetime | None = None


@dataclass
class Receiver:
    organ_id: str = xml("OrganId")
    receiver_type: str = xml("ReceiverType")


@dataclass
class BusinessDocumentInfo:
    document_info: str = ""
    document_receiver: str = ""
    receivers: list[Receiver] = field(default_factory=list)


@dataclass(frozen=True)
class ReplacementInfo:
    """Frozen and hashable: the reader drops exact duplicates, which real packages carry."""

    document_id: str
    organ_ids: tuple[str, ...] = ()


@dataclass
class Business:
    """Bussiness: BussinessDocType says whether the package is new, a recall, an update or a replacement."""

    doc_type: BusinessType | str = BusinessType.NEW
    doc_reason: str = ""
    document_id: str = ""
    paper: bool | None = None
    staff_info: StaffInfo | None = None
    document_info: BusinessDocumentInfo | None = None
    replacements: list[ReplacementInfo] = field(default_factory=list)


@dataclass
class ManifestReference:
    content_id: str = xml("ContentId")
    content_type: str = xml("ContentType")
    description: str = xml("Description")
    attachment_name: str = xml("AttachmentName")


@dataclass
class AttachedFile:
    """A file the clerk sees: the attachment itself, or one file unpacked from a compressed attachment.
    ``path`` says where it came from ("a.zip!/b.zip!/c.pdf"); ``kind`` is what its first bytes are
    (``files.sniff``); ``flags`` are the mismatches found, in Vietnamese (flagged, never refused)."""

    name: str
    data: bytes
    kind: str
    path: str
    flags: list[str] = field(default_factory=list)


@dataclass
class Attachment:
    """``data`` is the decoded base64, exactly as received: inert bytes, never executed or converted.
    ``kind``, ``files`` and ``flags`` are filled by the reader and do not take part in equality."""

    content_id: str = ""
    name: str = ""
    content_type: str = ""
    description: str = ""
    data: bytes = b""
    kind: str = field(default="", compare=False)
    files: list[AttachedFile] = field(default_factory=list, compare=False)
    flags: list[str] = field(default_factory=list, compare=False)


@dataclass
class DocumentPackage:
    """A document package. ``manifest`` is what the package listed (edXMLManifest); the writer derives it
    from ``attachments``, so it takes no part in equality."""

    header: MessageHeader = field(default_factory=MessageHeader)
    trace: list[TraceHeader] = field(default_factory=list)
    business: Business | None = None
    attachments: list[Attachment] = field(default_factory=list)
    manifest: list[ManifestReference] = field(default_factory=list, compare=False)


@dataclass
class StatusPackage:
    """A status package. ``status_code`` is a StatusCode, or the raw text when a peer sent another code
    (the validator names it)."""

    from_: Organization = field(default_factory=Organization)
    response_for: ResponseFor = field(default_factory=ResponseFor)
    staff_info: StaffInfo | None = None
    status_code: StatusCode | str = StatusCode.RECEIVED
    description: str = ""
    timestamp: datetime | None = None

    @property
    def code(self) -> StatusCode | None:
        return self.status_code if isinstance(self.status_code, StatusCode) else None


@dataclass
class ParsedPackage:
    """What ``parse`` returns. ``warnings`` are recorded and shown; ``violations`` are what the reader already
    knows makes the package unacceptable (an unreadable attachment, an impossible PromulgationDate, a zip
    bomb); ``validate`` adds its own to both."""

    kind: Literal["document", "status"]
    package: DocumentPackage | StatusPackage
    warnings: list[Finding] = field(default_factory=list)
    violations: list[Finding] = field(default_factory=list)
    has_signature: bool = False


@dataclass
class Validation:
    violations: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations
