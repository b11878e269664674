"""SPEC §11.3: what makes a package acceptable. Incoming packages that fail get status 02 listing the
violations; outgoing packages pass the same checks before they leave.

Violations: From and at least one To with OrganId, no duplicate To, OrganId ≤ 35, CodeNumber required ≤ 11,
CodeNotation required ≤ 30, Subject required ≤ 500, PromulgationDate required and not in the future, Priority
0–4, the §3.3 lengths of the document's own fields, attachments that match the manifest, a known
BussinessDocType, and for status packages an allowed StatusCode and the document answered.

Warnings (recorded and shown, never a refusal): organisation codes outside QĐ 20, a non-numeric CodeNumber,
DocumentIds of another shape or with an impossible date, parts of ResponseFor that contradict its DocumentId
(the DocumentId wins), a status older than its document, and overlong contact fields of From/To (§3.3 says
validators accept them at 20–250 characters, but they are decoration and a long web address is no reason to
refuse a document).
"""

from __future__ import annotations

from datetime import date, datetime

from portal.exchange.edxml import dates
from portal.exchange.edxml.dates import VIETNAM
from portal.exchange.edxml.ids import DocumentRef, organ_code_problem, parse_document_id
from portal.exchange.edxml.model import (
    Attachment,
    BusinessType,
    DocumentPackage,
    Finding,
    ManifestReference,
    Organization,
    ParsedPackage,
    ResponseFor,
    StatusCode,
    StatusPackage,
    Validation,
)

ORGAN_ID_MAX = 35
CONTACT_LIMITS = (("organization_in_charge", "OrganizationInCharge", 200), ("organ_add", "OrganAdd", 250),
                  ("email", "Email", 100), ("telephone", "Telephone", 20), ("fax", "Fax", 20),
                  ("website", "Website", 20))


class _Checker:
    def __init__(self, today: date) -> None:
        self.today = today
        self.result = Validation()

    def violate(self, element: str, message: str) -> None:
        self.result.violations.append(Finding(element, message))

    def warn(self, element: str, message: str) -> None:
        self.result.warnings.append(Finding(element, message))

    def required(self, element: str, label: str, value: str, limit: int) -> None:
        if not value:
            self.violate(element, f"{label} ({element}) là bắt buộc.")
        else:
            self.length(element, label, value, limit)

    def length(self, element: str, label: str, value: str, limit: int, *, warn: bool = False) -> None:
        if len(value) > limit:
            (self.warn if warn else self.violate)(
                element, f"{label} ({element}) tối đa {limit} ký tự (đang có {len(value)}).")

    def organ(self, element: str, label: str, code: str, *, required: bool = True) -> None:
        if required:
            self.required(element, label, code, ORGAN_ID_MAX)
        else:
            self.length(element, label, code, ORGAN_ID_MAX)
        if code and (problem := organ_code_problem(code)):
            self.warn(element, f"{label} ({element}): {problem}.")

    def document_id(self, element: str, text: str) -> DocumentRef | None:
        if not text:
            return None
        ref, problem = parse_document_id(text)
        if problem:
            self.warn(element, f"Mã văn bản ({element}) {problem}.")
        return ref


def validate(package: ParsedPackage | DocumentPackage | StatusPackage, *, today: date | None = None) -> Validation:
    """Violations and warnings of ``package``; a ParsedPackage brings the reader's findings along."""
    checker = _Checker(today or dates.today())
    inner = package.package if isinstance(package, ParsedPackage) else package
    if isinstance(package, ParsedPackage):
        checker.result.violations.extend(package.violations)
        checker.result.warnings.extend(package.warnings)
    if isinstance(inner, StatusPackage):
        _check_status(checker, inner)
    else:
        _check_document(checker, inner, already=package.violations if isinstance(package, ParsedPackage) else [])
    return checker.result


def _check_organization(checker: _Checker, org: Organization, path: str, label: str) -> None:
    checker.organ(f"{path}/OrganId", label, org.organ_id)
    for attr, name, limit in CONTACT_LIMITS:
        checker.length(f"{path}/{name}", name, getattr(org, attr), limit, warn=True)


def _check_document(checker: _Checker, package: DocumentPackage, already: list[Finding]) -> None:
    header = package.header
    _check_organization(checker, header.from_, "From", "Mã cơ quan gửi")
    if not header.to:
        checker.violate("To", "Gói văn bản phải có ít nhất một cơ quan nhận (To).")
    seen: dict[str, int] = {}
    for n, org in enumerate(header.to, 1):
        _check_organization(checker, org, f"To[{n}]", "Mã cơ quan nhận")
        if org.organ_id in seen:
            checker.violate(f"To[{n}]/OrganId", f"Cơ quan nhận {org.organ_id} (To[{n}]/OrganId) trùng với "
                            f"To[{seen[org.organ_id]}].")
        seen.setdefault(org.organ_id, n)
    number = header.code.code_number
    checker.required("Code/CodeNumber", "Số văn bản", number, 11)
    if number and not (number.isascii() and number.isdigit()):
        checker.warn("Code/CodeNumber", f"Số văn bản (Code/CodeNumber) '{number}' không phải số.")
    checker.required("Code/CodeNotation", "Ký hiệu văn bản", header.code.code_notation, 30)
    checker.required("Subject", "Trích yếu", header.subject, 500)
    _check_promulgation(checker, package, already)
    priority = header.other_info.priority
    if priority is not None and not 0 <= priority <= 4:
        checker.violate("OtherInfo/Priority", f"Độ khẩn (OtherInfo/Priority) phải từ 0 đến 4 (đang là {priority}).")
    for element, label, value, limit in _document_lengths(package):
        checker.length(element, label, value, limit)
    for n, response in enumerate(header.response_for, 1):
        _check_response_for(checker, response, f"ResponseFor[{n}]", required=False)
    for n, trace in enumerate(package.trace, 1):
        checker.organ(f"TraceHeader[{n}]/OrganId", "Mã cơ quan", trace.organ_id, required=False)
    _check_business(checker, package)
    _check_attachments(checker, package.attachments, package.manifest)


def _check_promulgation(checker: _Checker, package: DocumentPackage, already: list[Finding]) -> None:
    header = package.header
    day = header.promulgation_info.promulgation_date
    element = "PromulgationInfo/PromulgationDate"
    if day is None:
        if not any(f.element == element for f in already):
            checker.violate(element, f"Ngày ban hành ({element}) là bắt buộc.")
    elif day > checker.today:
        checker.violate(element, f"Ngày ban hành ({element}) {day:%d/%m/%Y} ở tương lai.")
    ref = checker.document_id("MessageHeader/DocumentId", header.document_id)
    if ref is None:
        return
    where = f"Mã văn bản (MessageHeader/DocumentId) '{ref.text}'"
    if header.from_.organ_id and ref.organ_id != header.from_.organ_id:
        checker.warn("MessageHeader/DocumentId", f"{where} ghi cơ quan {ref.organ_id}, khác From/OrganId "
                     f"{header.from_.organ_id}.")
    if day and ref.promulgation_date and ref.promulgation_date != day:
        checker.warn("MessageHeader/DocumentId", f"{where} ghi ngày {ref.promulgation_date:%d/%m/%Y}, khác ngày "
                     f"ban hành {day:%d/%m/%Y}.")
    if header.code.code_number and ref.code.casefold() != header.code.text.casefold():
        checker.warn("MessageHeader/DocumentId", f"{where} ghi số, ký hiệu {ref.code}, khác Code "
                     f"{header.code.text}.")


def _document_lengths(package: DocumentPackage) -> list[tuple[str, str, str, int]]:
    """SPEC §3.3, the document's own fields."""
    header = package.header
    other = header.other_info
    fields = [("PromulgationInfo/Place", "Địa danh", header.promulgation_info.place, 50),
              ("Content", "Nội dung", header.content, 500),
              ("SignerInfo/Competence", "Quyền hạn người ký", header.signer_info.competence, 100),
              ("OtherInfo/SphereOfPromulgation", "Phạm vi ban hành", other.sphere_of_promulgation, 100),
              ("OtherInfo/TyperNotation", "Ký hiệu người soạn thảo", other.typer_notation, 10)]
    fields += [(f"ToPlaces/Place[{n}]", "Nơi nhận", place, 150) for n, place in enumerate(header.to_places, 1)]
    fields += [(f"OtherInfo/Appendixes/Appendix[{n}]", "Phụ lục", text, 250)
               for n, text in enumerate(other.appendixes, 1)]
    return fields


def _check_business(checker: _Checker, package: DocumentPackage) -> None:
    business = package.business
    if business is None:
        return
    if not isinstance(business.doc_type, BusinessType):
        checker.violate("Bussiness/BussinessDocType", f"Loại nghiệp vụ (Bussiness/BussinessDocType) "
                        f"'{business.doc_type}' không hợp lệ: chỉ nhận 0, 1, 2, 3.")
    checker.document_id("Bussiness/DocumentId", business.document_id)
    if business.document_info:
        for n, receiver in enumerate(business.document_info.receivers, 1):
            element = f"Bussiness/BussinessDocumentInfo/ReceiverList/Receiver[{n}]/OrganId"
            checker.organ(element, "Mã cơ quan nhận", receiver.organ_id, required=False)
    for n, replacement in enumerate(business.replacements, 1):
        path = f"Bussiness/ReplacementInfoList/ReplacementInfo[{n}]"
        checker.document_id(f"{path}/DocumentId", replacement.document_id)
        for organ_id in replacement.organ_ids:
            checker.organ(f"{path}/OrganIdList/OrganId", "Mã cơ quan", organ_id, required=False)


def _cid(value: str) -> str:
    return value.strip().strip("<>").removeprefix("cid:").strip()


def _check_attachments(checker: _Checker, attachments: list[Attachment], manifest: list[ManifestReference]) -> None:
    by_cid: dict[str, Attachment] = {}
    for n, attachment in enumerate(attachments, 1):
        path = f"Attachment[{n}]"
        shown = attachment.name or attachment.content_id or path
        checker.required(f"{path}/AttachmentName", "Tên tệp đính kèm", attachment.name, 200)
        if not attachment.content_id:
            checker.violate(f"{path}/ContentId", f"Tệp đính kèm '{shown}' thiếu ContentId ({path}/ContentId).")
        elif _cid(attachment.content_id) in by_cid:
            checker.violate(f"{path}/ContentId", f"Tệp đính kèm '{shown}': ContentId {attachment.content_id} "
                            "trùng với một tệp khác.")
        by_cid.setdefault(_cid(attachment.content_id), attachment)
    if not manifest:
        return  # the writer derives the manifest; a received package without one is noted by the reader
    listed = {_cid(r.content_id) for r in manifest}
    for n, reference in enumerate(manifest, 1):
        element = f"edXMLManifest/Reference[{n}]"
        attachment = by_cid.get(_cid(reference.content_id))
        if attachment is None:
            checker.violate(element, f"Tệp '{reference.attachment_name or reference.content_id}' "
                            f"({reference.content_id}) có trong danh mục ({element}) nhưng không có trong gói.")
        elif reference.attachment_name and attachment.name and reference.attachment_name != attachment.name:
            checker.warn(element, f"Tên tệp trong danh mục ({element}) '{reference.attachment_name}' khác tên "
                         f"tệp đính kèm '{attachment.name}'.")
    for n, attachment in enumerate(attachments, 1):
        if _cid(attachment.content_id) not in listed:
            checker.violate(f"Attachment[{n}]", f"Tệp đính kèm '{attachment.name or attachment.content_id}' "
                            "không có trong danh mục edXMLManifest.")


def _check_response_for(checker: _Checker, response: ResponseFor, path: str, *, required: bool) -> DocumentRef | None:
    checker.organ(f"{path}/OrganId", "Mã cơ quan", response.organ_id, required=False)
    ref = checker.document_id(f"{path}/DocumentId", response.document_id)
    if ref is None:
        if required and not (response.organ_id and response.code):
            checker.violate(f"{path}/DocumentId", f"Thiếu mã văn bản ({path}/DocumentId): không biết gói này "
                            "trả lời cho văn bản nào.")
        return None
    where = f"{path}: mã văn bản (DocumentId) {ref.text}"
    if response.organ_id and response.organ_id != ref.organ_id:
        checker.warn(f"{path}/OrganId", f"{where} thuộc cơ quan {ref.organ_id}, khác OrganId {response.organ_id}; "
                     "dùng DocumentId.")
    if response.promulgation_date and ref.promulgation_date and response.promulgation_date != ref.promulgation_date:
        checker.warn(f"{path}/PromulgationDate", f"{where} ghi ngày {ref.promulgation_date:%d/%m/%Y}, khác "
                     f"PromulgationDate {response.promulgation_date:%d/%m/%Y}; dùng DocumentId.")
    if response.code and response.code.casefold() != ref.code.casefold():
        checker.warn(f"{path}/Code", f"{where} ghi số, ký hiệu {ref.code}, khác Code {response.code}; dùng DocumentId.")
    return ref


def _check_status(checker: _Checker, status: StatusPackage) -> None:
    checker.organ("From/OrganId", "Mã cơ quan gửi trạng thái", status.from_.organ_id)
    if not isinstance(status.status_code, StatusCode):
        allowed = ", ".join(StatusCode)
        checker.violate("StatusCode", f"Mã trạng thái (StatusCode) '{status.status_code}' không hợp lệ: chỉ nhận "
                        f"{allowed}.")
    elif status.status_code is StatusCode.REJECTED and not status.description:
        checker.warn("Description", "Trạng thái 02 (từ chối) không ghi lý do (Description).")
    ref = _check_response_for(checker, status.response_for, "ResponseFor", required=True)
    if status.timestamp is None:
        checker.warn("Timestamp", "Gói trạng thái không ghi thời điểm (Timestamp).")
        return
    document_day = (ref.promulgation_date if ref else None) or status.response_for.promulgation_date
    moment = status.timestamp if status.timestamp.tzinfo else status.timestamp.replace(tzinfo=VIETNAM)
    local: datetime = moment.astimezone(VIETNAM)
    if document_day and local.date() < document_day:
        checker.warn("Timestamp", f"Thời điểm trạng thái (Timestamp) {local:%d/%m/%Y %H:%M:%S} sớm hơn ngày của "
                     f"văn bản {document_day:%d/%m/%Y}.")
    if local.date() > checker.today:
        checker.warn("Timestamp", f"Thời điểm trạng thái (Timestamp) {local:%d/%m/%Y %H:%M:%S} ở tương lai.")
