"""Packages that reach this portal (issue 17 item 4, SPEC §11): from the axis (polled), or a file a clerk or
the command line imports. Each package is processed once, keyed by the transport's id and by (sender,
DocumentId, business type or status code, receivers).

- A valid new document (type 0) becomes an incoming document at 01 for each addressed organisation of this
  portal (or the one ``to`` names), with its files as the clerk sees them and the sender's metadata; 01 goes back.
- Recall (1), update (2) and replacement (3) act on the document received earlier; one never received here is
  answered 16 "không tìm thấy văn bản".
- A status package updates what the sender side shows for the recipient that sent it.
- A package that fails is refused: 02 with the violations goes back (when the sender can be told) and nothing
  else is created.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select

from portal import audit, storage
from portal.db import session, utcnow
from portal.documents.models import Channel, IncomingDocument, Urgency
from portal.errors import ValidationFailed
from portal.exchange import edxml, outbound
from portal.exchange.models import Direction, ExchangePackage, PackageState
from portal.incoming import services as incoming
from portal.orgs.models import Organisation

NOT_FOUND = "Không tìm thấy văn bản"
FILE_KINDS_WE_OPEN = {"pdf", "doc", "docx", "xls", "xlsx", "odt", "ods", "rtf", "txt", "csv", "jpg", "jpeg", "png"}


@dataclass
class Received:
    outcome: str  # created | duplicate | refused | status | recall | update | replace | not_found
    message: str
    package: ExchangePackage | None = None
    documents: list[IncomingDocument] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return self.outcome == "refused"


def _lines(findings: list[edxml.Finding]) -> list[str]:
    return [f.message for f in findings]


def organisation_by_code(organ_id: str) -> Organisation | None:
    """An issuing organisation of this portal by its QĐ 20 code (or its legacy code)."""
    return _organisation(organ_id[:35])


def _organisation(organ_id: str) -> Organisation | None:
    if not organ_id:
        return None
    return session.execute(select(Organisation).where(
        Organisation.is_issuing.is_(True),
        or_(Organisation.organ_id == organ_id, Organisation.legacy_organ_id == organ_id))).scalars().first()


def _answering(header: edxml.MessageHeader) -> Organisation:
    """Who answers a package that created nothing: an addressed organisation of this portal, else the first
    addressee as the package names it (the axis routed it here, so this portal answers for that code)."""
    for to in header.to:
        ours = _organisation(to.organ_id)
        if ours is not None:
            return ours
    first = header.to[0] if header.to else edxml.Organization()
    return Organisation(name=(first.organ_name or first.organ_id)[:200], organ_id=first.organ_id[:35] or None)


def _refusal(transport: str, org: Organisation | None, **kw: object) -> None:
    """02/16 back to the sender, only when the package came through the axis (an imported file has no way back)."""
    if transport == "axis":
        outbound.queue_refusal(org, **kw)  # type: ignore[arg-type]


def _key(*parts: object) -> str:
    return "|".join(str(p) for p in parts)[:300]


def receive(data: bytes, *, transport: str, transport_id: str | None = None, to: Organisation | None = None,
            actor_name: str = "trục liên thông") -> Received:
    """One package, in the caller's transaction. ``to`` (an import by hand) puts it in that organisation
    whatever the package's own To says (kept and shown)."""
    if transport_id:
        seen = session.execute(select(ExchangePackage).where(
            ExchangePackage.direction == Direction.IN, ExchangePackage.transport == transport,
            ExchangePackage.transport_id == transport_id)).scalars().first()
        if seen is not None:
            return Received("duplicate", "Gói tin này đã được xử lý.", seen)
    try:
        parsed = edxml.parse(data)
    except edxml.ParseError as exc:
        return _refuse(data, transport, transport_id, f"Không đọc được gói tin: {exc}", [str(exc)])
    result = edxml.validate(parsed)
    warnings = _lines(result.warnings)
    if parsed.kind == "status":
        assert isinstance(parsed.package, edxml.StatusPackage)
        if not result.ok:
            return _refuse(data, transport, transport_id, "Gói trạng thái không hợp lệ.", _lines(result.violations))
        return _status(data, parsed.package, transport, transport_id, warnings)
    package = parsed.package
    assert isinstance(package, edxml.DocumentPackage)
    header = package.header
    sender = header.from_.organ_id
    code_text = header.code.text
    if not result.ok:
        reasons = _lines(result.violations)
        _refusal(transport, to or _answering(header), sender_organ_id=sender, document_id=header.document_id,
                 code_text=code_text, promulgation_date=header.promulgation_info.promulgation_date, reasons=reasons)
        return _refuse(data, transport, transport_id, "Gói tin không hợp lệ.", reasons, package=package)
    receivers = [to] if to is not None else [o for o in (_organisation(t.organ_id) for t in header.to) if o]
    receivers = list({o.id: o for o in receivers}.values())
    if not receivers:
        wanted = ", ".join(t.organ_id for t in header.to)
        reasons = [f"Không có cơ quan nhận có mã định danh {wanted} trong hệ thống này."]
        _refusal(transport, _answering(header), sender_organ_id=sender, document_id=header.document_id,
                 code_text=code_text, promulgation_date=header.promulgation_info.promulgation_date, reasons=reasons)
        return _refuse(data, transport, transport_id, reasons[0], reasons, package=package)
    business = package.business.doc_type if package.business else edxml.BusinessType.NEW
    kind = int(business) if isinstance(business, edxml.BusinessType) else 0
    key = _key("edoc", sender, header.document_id, kind, ",".join(sorted(str(o.id) for o in receivers)))
    seen = session.execute(select(ExchangePackage).where(ExchangePackage.direction == Direction.IN,
                                                         ExchangePackage.dedup_key == key)).scalars().first()
    if seen is not None:
        return Received("duplicate", "Văn bản này đã được nhận trước đó.", seen)
    nested = session.begin_nested()
    try:
        row = _record(data, transport, transport_id, key, kind="edoc", business_type=kind, sender=sender,
                      receiver=receivers[0], document_id=header.document_id, description=header.subject,
                      warnings=warnings)
        if kind == edxml.BusinessType.NEW:
            received = _new(row, package, receivers, warnings, imported=to is not None)
        else:
            received = _change(row, package, receivers, kind, warnings)
    except PackageUnusable as exc:
        nested.rollback()
        _refusal(transport, receivers[0], sender_organ_id=sender, document_id=header.document_id,
                               code_text=code_text, promulgation_date=header.promulgation_info.promulgation_date,
                               reasons=exc.reasons)
        return _refuse(data, transport, transport_id, "Gói tin không dùng được: " + "; ".join(exc.reasons),
                       exc.reasons, package=package)
    nested.commit()
    audit.record(None, f"exchange.received_{received.outcome}", object_type="exchange_packages",
                 object_id=received.package.id if received.package else None, actor_name=actor_name,
                 details={"document_id": header.document_id[:100], "sender": sender[:35],
                          "documents": [d.id for d in received.documents][:20]})
    return received


def _record(data: bytes, transport: str, transport_id: str | None, key: str | None, *, kind: str,
            business_type: int | None, sender: str, receiver: Organisation | None, document_id: str,
            description: str, warnings: list[str], state: PackageState = PackageState.PROCESSED,
            status_code: str | None = None, error: str | None = None) -> ExchangePackage:
    stored = storage.save(data, "goi-tin.edxml", inert=True)
    row = ExchangePackage(direction=Direction.IN, kind=kind, business_type=business_type, status_code=status_code,
                          transport=transport, transport_id=transport_id, dedup_key=key, sender_organ_id=sender[:35],
                          receiver_organ_id=((receiver.organ_id or "") if receiver else "")[:35],
                          receiver_name=(receiver.name if receiver else "")[:300], document_id=document_id[:100],
                          description=(description or None) and description[:1000], sha256=stored.sha256,
                          state=state, attempts=1, error=error,
                          warnings=json.dumps(warnings[:100], ensure_ascii=False) if warnings else None)
    session.add(row)
    session.flush()
    return row


def _refuse(data: bytes, transport: str, transport_id: str | None, message: str, reasons: list[str], *,
            package: edxml.DocumentPackage | None = None) -> Received:
    """Nothing is created but the record of the refusal (and the 02 queued by the caller)."""
    sender = package.header.from_.organ_id if package else ""
    document_id = package.header.document_id if package else ""
    row = _record(data, transport, transport_id, None, kind="edoc", business_type=None, sender=sender, receiver=None,
                  document_id=document_id, description=message, warnings=[], state=PackageState.REFUSED,
                  error="; ".join(reasons)[:2000])
    audit.record(None, "exchange.package_refused", object_type="exchange_packages", object_id=row.id,
                 actor_name="liên thông", details={"reasons": reasons[:10], "transport": transport})
    return Received("refused", message, row, reasons=reasons)


# --- a new document -----------------------------------------------------------------------------------


def _uploads(package: edxml.DocumentPackage) -> tuple[list[incoming.Upload], list[str]]:
    """The files the clerk sees: each attachment as received when it is a file we open; a compressed one
    unpacked (its files instead); anything whose content does not match its name kept inert and flagged.
    The first PDF is the main file."""
    uploads: list[incoming.Upload] = []
    notes: list[str] = []
    for attachment in package.attachments:
        files = attachment.files or [edxml.AttachedFile(attachment.name or "tep", attachment.data,
                                                        attachment.kind, attachment.name)]
        for f in files:
            ext = f.name.rsplit(".", 1)[-1].lower() if "." in f.name else ""
            flags = list(f.flags)
            inert = bool(flags) or ext not in FILE_KINDS_WE_OPEN
            if inert and not flags:
                flags = [f"Loại tệp “.{ext or '?'}” không mở trên hệ thống; chỉ tải về."]
            uploads.append(incoming.Upload(f.name[:255] or "tep", f.data, incoming.FileRole.ATTACHMENT,
                                           inert=inert, warning="; ".join(flags)[:300] or None))
            notes += [f"{f.path or f.name}: {flag}" for flag in flags]
        if attachment.files and attachment.data:  # the compressed original, kept exactly as received
            uploads.append(incoming.Upload((attachment.name or "goc.zip")[:255], attachment.data,
                                           incoming.FileRole.ATTACHMENT, inert=True,
                                           warning="Tệp gốc như nơi gửi gửi (đã giải nén ở trên)."))
    main = next((u for u in uploads if not u.inert and u.filename.lower().endswith(".pdf")), None)
    if main is not None:
        main.role = incoming.FileRole.MAIN
        uploads.remove(main)
        uploads.insert(0, main)
    return uploads, notes


def _metadata(package: edxml.DocumentPackage) -> incoming.Metadata:
    header = package.header
    priority = header.other_info.priority
    urgency = Urgency(priority) if priority is not None and 0 <= priority <= 4 else Urgency.NORMAL
    issued: date | None = header.promulgation_info.promulgation_date
    pages = header.other_info.page_amount
    return incoming.Metadata(
        type_name=(header.document_type.type_name or "Văn bản")[:100], code_number=(header.code.code_number or None),
        code_notation=(header.code.code_notation or None), issued_date=issued,
        organ_name=(header.from_.organ_name or header.from_.organ_id)[:200], subject=header.subject[:500],
        page_amount=pages if pages is not None and 0 < pages <= 999 else None,
        signer_position=(header.signer_info.position or "")[:100] or None,
        signer_name=(header.signer_info.full_name or "")[:50] or None, urgency=urgency, due_date=header.due_date,
        has_paper=bool(package.business.paper) if package.business and package.business.paper else False,
        document_id=header.document_id or None)


def _new(row: ExchangePackage, package: edxml.DocumentPackage, receivers: list[Organisation],
         warnings: list[str], *, imported: bool) -> Received:
    uploads, notes = _uploads(package)
    docs = []
    for org in receivers:
        try:
            doc = incoming.receive(org, _metadata(package), uploads, channel=Channel.AXIS,
                                   sender_organ_id=package.header.from_.organ_id[:35])
        except ValidationFailed as exc:
            raise PackageUnusable(list(exc.errors.values())) from exc
        if package.header.to_places:
            doc.to_places = "; ".join(package.header.to_places)[:1000]
        docs.append(doc)
    row.incoming_document_id = docs[0].id
    session.flush()
    for doc in docs:
        outbound.queue_status(doc, edxml.StatusCode.RECEIVED.value, "Đã đến")
    if imported:
        addressed = ", ".join(f"{t.organ_id} {t.organ_name}".strip() for t in package.header.to)
        warnings = [*warnings, f"Nhập bằng tay vào {receivers[0].name}; gói tin gửi tới: {addressed}."]
        row.warnings = json.dumps(warnings[:100], ensure_ascii=False)
        for doc in docs:  # the package's own To, kept and shown with the document
            if not doc.description:
                doc.description = f"Nhập từ gói tin liên thông; gói tin gửi tới: {addressed}"[:500]
    return Received("created", f"Đã nhận {len(docs)} văn bản đến.", row, docs, warnings + notes)


class PackageUnusable(Exception):
    """The package is valid edXML but its fields cannot make a document here (the caller refuses it)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# --- recall, update, replacement ------------------------------------------------------------------------


def _target_id(package: edxml.DocumentPackage) -> str:
    for ref in package.header.response_for:
        if ref.document_id:
            return ref.document_id
    business = package.business
    if business and business.replacements:
        return business.replacements[0].document_id
    return (business.document_id if business and business.document_id else "") or package.header.document_id


def _change(row: ExchangePackage, package: edxml.DocumentPackage, receivers: list[Organisation], kind: int,
            warnings: list[str]) -> Received:
    target = _target_id(package)
    found = list(session.execute(select(IncomingDocument).where(
        IncomingDocument.document_id == target,
        IncomingDocument.organisation_id.in_([o.id for o in receivers]))).scalars()) if target else []
    header = package.header
    if not found:
        _refusal(row.transport, receivers[0], sender_organ_id=header.from_.organ_id, document_id=target,
                               code_text=header.code.text, promulgation_date=header.promulgation_info.promulgation_date,
                               reasons=[f"{NOT_FOUND} {target}."], code=edxml.StatusCode.CHANGE_REFUSED.value)
        row.error = f"{NOT_FOUND} {target}."
        row.dedup_key = None  # the earlier document may still arrive (out of order): a resend is processed again
        told = "; đã trả lời 16" if row.transport == "axis" else ""
        return Received("not_found", f"{NOT_FOUND} {target}{told}.", row, warnings=warnings)
    reason = (package.business.doc_reason if package.business else "") or header.subject or ""
    if kind == edxml.BusinessType.RECALL:
        for doc in found:
            incoming.request_recall(doc, reason or "Nơi gửi thu hồi văn bản", header.from_.organ_name or "Nơi gửi")
        row.incoming_document_id = found[0].id
        return Received("recall", "Đã chuyển yêu cầu thu hồi đến văn thư.", row, found, warnings)
    # update (2) or replacement (3): the new version arrives as a document of its own, the earlier one named
    uploads, notes = _uploads(package)
    docs = []
    label = "Cập nhật" if kind == edxml.BusinessType.UPDATE else "Thay thế"
    for doc in found:
        org = doc.organisation
        meta = _metadata(package)
        meta.description = f"{label} văn bản {doc.code_number or ''}/{doc.code_notation or ''} ({target})."[:500]
        try:
            new = incoming.receive(org, meta, uploads, channel=Channel.AXIS,
                                   sender_organ_id=header.from_.organ_id[:35])
        except ValidationFailed as exc:
            raise PackageUnusable(list(exc.errors.values())) from exc
        docs.append(new)
        text, sender_name = (f"Văn bản mới: {header.code.text} ({header.document_id}).",
                             (header.from_.organ_name or header.from_.organ_id)[:100])
        if kind == edxml.BusinessType.UPDATE:
            incoming.note_change(doc, "updated", text, sender_name)
        else:  # a replacement closes the earlier document's open work (SPEC §5.8)
            incoming.replace(doc, new, text, sender_name)
    row.incoming_document_id = docs[0].id
    session.flush()
    for doc in docs:
        outbound.queue_status(doc, edxml.StatusCode.RECEIVED.value, "Đã đến")
    return Received("update" if kind == edxml.BusinessType.UPDATE else "replace",
                    f"Đã nhận văn bản {label.lower()} cho {len(found)} văn bản.", row, docs, warnings + notes)


# --- a status from a recipient outside -------------------------------------------------------------------


def _status(data: bytes, status: edxml.StatusPackage, transport: str, transport_id: str | None,
            warnings: list[str]) -> Received:
    ref = status.response_for.reference
    document_id = status.response_for.document_id or ref.document_id
    code = status.code.value if status.code else str(status.status_code)[:2]
    sender = status.from_.organ_id
    key = _key("status", sender, document_id, code, (status.timestamp or utcnow()).isoformat(), status.description[:50])
    seen = session.execute(select(ExchangePackage).where(ExchangePackage.direction == Direction.IN,
                                                         ExchangePackage.dedup_key == key)).scalars().first()
    if seen is not None:
        return Received("duplicate", "Trạng thái này đã được ghi nhận.", seen)
    sent = session.execute(select(ExchangePackage).where(
        ExchangePackage.direction == Direction.OUT, ExchangePackage.kind == "edoc",
        ExchangePackage.document_id == document_id, ExchangePackage.receiver_organ_id == sender)
        .order_by(ExchangePackage.id.desc())).scalars().first()
    code = _recall_answer(code, document_id, sender, warnings)
    row = _record(data, transport, transport_id, key, kind="status", business_type=None, sender=sender,
                  receiver=None, document_id=document_id, description=status.description or "", warnings=warnings,
                  status_code=code)
    row.at = status.timestamp
    if sent is not None:
        row.outgoing_document_id, row.recipient_id = sent.outgoing_document_id, sent.recipient_id
        row.receiver_name = sent.receiver_name
    if code == edxml.StatusCode.RECALL_REQUESTED.value:  # the sender recalls a document it sent us
        found = list(session.execute(select(IncomingDocument).where(IncomingDocument.document_id == document_id))
                     .scalars())
        for doc in found:
            incoming.request_recall(doc, status.description or "Nơi gửi đề nghị thu hồi",
                                    status.from_.organ_name or sender)
        if not found:
            row.error = f"{NOT_FOUND} {document_id} để thu hồi."
            return Received("not_found", row.error, row, warnings=warnings)
        return Received("recall", "Đã chuyển yêu cầu thu hồi đến văn thư.", row, found, warnings)
    if sent is None:
        row.error = f"Không có văn bản đi nào có mã {document_id} gửi tới {sender}."
        return Received("not_found", row.error, row, warnings=warnings)
    from portal.notifications import events as notices  # imported late: notifications reads drafts, which uses us

    label = next((c.label for c in edxml.StatusCode if c.value == code), code)
    notices.recipient_status(sent.recipient_id, code, label, status.from_.organ_name or sender, f"{row.id}")
    return Received("status", f"Đã ghi nhận trạng thái {code} của {sender}.", row, warnings=warnings)


def _recall_answer(code: str, document_id: str, sender: str, warnings: list[str]) -> str:
    """Some peers answer a recall with 02 (refused) or 03 (accepted) instead of 16/15 (SPEC §11.2, inferred):
    while a recall sent to that agency is unanswered, read them so, and say so."""
    if code not in ("02", "03"):
        return code
    recall = session.execute(select(ExchangePackage.id).where(
        ExchangePackage.direction == Direction.OUT, ExchangePackage.kind == "edoc", ExchangePackage.business_type == 1,
        ExchangePackage.document_id == document_id, ExchangePackage.receiver_organ_id == sender)).first()
    if recall is None:
        return code
    answered = session.execute(select(ExchangePackage.id).where(
        ExchangePackage.direction == Direction.IN, ExchangePackage.kind == "status",
        ExchangePackage.document_id == document_id, ExchangePackage.sender_organ_id == sender,
        ExchangePackage.status_code.in_(("15", "16")))).first()
    if answered is not None:
        return code
    mapped = "16" if code == "02" else "15"
    warnings.append(f"Nơi nhận trả lời yêu cầu thu hồi bằng mã {code}; hiểu là {mapped}.")
    return mapped
