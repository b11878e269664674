"""Delivery of an issued document to each of its recipients, and its recall (SPEC §6.5–6.8, issue 17 item 1):
the one place that knows how a document leaves an organisation.

- an organisation of this portal: an incoming document at 01, at once, in the issuing transaction;
- an agency outside, through the national axis or the LGSP: an edXML package (signed by the seal's key where
  the server holds it) queued for the job queue; what comes back (01–06, 15, 16) is recorded per recipient;
- by e-mail: the signed PDF as an attachment through the outbox (``portal.exchange.mail``);
- by post or by hand: recorded as sent (sổ gửi văn bản đi).

Drafts hands each issued document here (``deliver``), asks for its recall (``recall``) and shows what each
recipient did (``status_of``); it never reaches into incoming itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.db import session
from portal.documents.models import IncomingDocument, IncomingStatus, OutgoingDocument, Urgency
from portal.exchange import edxml, outbound
from portal.exchange.models import Direction, ExchangePackage, PackageState
from portal.incoming import services as incoming
from portal.orgs.models import Organisation

SYSTEM, POST, EMAIL, OTHER_SYSTEM, HAND = "he_thong", "buu_dien", "email", "he_thong_khac", "truc_tiep"

STATUS_LABELS = {"01": "Đã đến", "02": "Bị trả lại", "03": "Đã tiếp nhận", "03p": "Đã tiếp nhận",
                 "04": "Đã phân công", "05": "Đang xử lý", "06": "Hoàn thành", "13": "Đang yêu cầu thu hồi",
                 "15": "Đã thu hồi", "16": "Từ chối thu hồi"}


@dataclass
class File:
    name: str
    data: bytes


@dataclass
class Status:
    code: str
    label: str
    at: datetime | None
    reason: str | None
    history: list[tuple[str, str, datetime | None, str | None]]  # (code, label, at, reason), oldest first


def deliver(out: OutgoingDocument, org: Organisation, recipients: list, main: File, attachments: list[File],
            now: datetime) -> list[IncomingDocument]:
    """Each recipient by its method, in the issuing transaction; returns the incoming documents created here."""
    delivered = []
    outside = []
    for r in recipients:
        r.sent_at = now
        method = getattr(r.method, "value", r.method)
        if method == SYSTEM and r.organisation_id is not None:
            doc = _inside(out, org, r.organisation_id, main, attachments)
            r.incoming_document_id = doc.id
            delivered.append(doc)
        elif method == OTHER_SYSTEM:
            outside.append(r)
        elif method == EMAIL:
            from portal.exchange import mail

            mail.queue_document(out, org, r, main, attachments)
    if outside:
        _axis(out, org, outside, main, attachments, now)
    session.flush()
    return delivered


def _inside(out: OutgoingDocument, org: Organisation, organisation_id: int, main: File,
            attachments: list[File]) -> IncomingDocument:
    target = session.get_one(Organisation, organisation_id)
    files = [incoming.Upload(main.name, main.data, incoming.FileRole.MAIN)]
    files += [incoming.Upload(a.name, a.data, incoming.FileRole.ATTACHMENT) for a in attachments]
    doc = incoming.receive(target, incoming.Metadata(
        type_name=out.type_name, document_type_id=out.document_type_id, code_number=out.code_number,
        code_notation=out.code_notation, issued_date=out.issued_date, organ_name=org.name, subject=out.subject,
        signer_name=out.signer_name, signer_position=out.signer_position, urgency=Urgency(int(out.urgency or 0)),
        due_date=out.due_date, document_id=out.document_id), files, sender=org, source_outgoing_id=out.id)
    earlier_id = out.replaces_id or out.corrects_id
    if earlier_id is not None:  # the recipient's copy of the earlier document says what replaced or corrected it
        text = f"Văn bản mới: {out.code_number}/{out.code_notation} ngày {out.issued_date:%d/%m/%Y}."
        for earlier in list(session.execute(select(IncomingDocument).where(
                IncomingDocument.source_outgoing_id == earlier_id,
                IncomingDocument.organisation_id == organisation_id)).scalars()):
            if out.replaces_id:  # its open work closes with the arrival of the new one (SPEC §5.8)
                incoming.replace(earlier, doc, text, org.name[:100])
            else:
                incoming.note_change(earlier, "updated", text, org.name[:100])
    return doc


# --- through the axis -------------------------------------------------------------------------------------


def document_package(out: OutgoingDocument, org: Organisation, to: list[tuple[str, str]], main: File | None,
                     attachments: list[File], *, now: datetime, business: edxml.BusinessType = edxml.BusinessType.NEW,
                     reason: str = "", target: OutgoingDocument | None = None) -> bytes:
    """The edXML package of an issued document for the agencies ``to`` ((organ id, name) pairs), signed by the
    organisation's seal key where the server holds one. ``business``: a recall names ``out`` itself in
    ResponseFor; an update or a replacement names ``target``, the document it corrects or replaces."""
    from portal.exchange import xml_signing

    files = [main, *attachments] if main else list(attachments)
    named = target if target is not None else out
    response_for = [] if business == edxml.BusinessType.NEW else [edxml.ResponseFor(
        organ_id=org.organ_id or "", code="/".join(p for p in (named.code_number, named.code_notation) if p),
        promulgation_date=named.issued_date, document_id=named.document_id or "")]
    replacements = [edxml.ReplacementInfo(document_id=named.document_id or "", organ_ids=tuple(c for c, _ in to))] \
        if business == edxml.BusinessType.REPLACE else []
    package = edxml.DocumentPackage(
        header=edxml.MessageHeader(
            from_=outbound.our_organization(org),
            to=[edxml.Organization(organ_id=code, organ_name=name[:200]) for code, name in to],
            code=edxml.Code(code_number=out.code_number or "", code_notation=out.code_notation or ""),
            promulgation_info=edxml.PromulgationInfo(place=_place(org), promulgation_date=out.issued_date),
            document_type=edxml.DocumentType(type="1", type_name=out.type_name or "Văn bản"),
            subject=out.subject[:500], content="",
            signer_info=edxml.SignerInfo(competence="", position=out.signer_position or "",
                                         full_name=out.signer_name or ""),
            due_date=out.due_date, to_places=[name for _, name in to][:20],
            other_info=edxml.OtherInfo(priority=int(out.urgency or 0), page_amount=None),
            response_for=response_for, steering_type="0", document_id=out.document_id or ""),
        trace=[edxml.TraceHeader(organ_id=org.organ_id or "", timestamp=now)],
        business=edxml.Business(doc_type=business, doc_reason=reason[:500], document_id=out.document_id or "",
                                paper=False, replacements=replacements),
        attachments=[edxml.Attachment(content_id=f"cid:{i + 1}", name=f.name[:200],
                                      content_type="application/pdf" if f.name.lower().endswith(".pdf")
                                      else "application/octet-stream", description=f.name[:200], data=f.data)
                     for i, f in enumerate(files)])
    data = edxml.build_document(package)
    return xml_signing.sign_for(org, data)


def _place(org: Organisation) -> str:
    from flask import current_app

    from portal.orgs import province

    return province.place_name(current_app.config.get("PLACE_NAME"), current_app.config.get("PROVINCE_NAME"))


def _axis(out: OutgoingDocument, org: Organisation, recipients: list, main: File, attachments: list[File],
          now: datetime) -> None:
    """One package per recipient (each gets its own status and its own retries): a new document, or the update
    (2) or replacement (3) of one issued before."""
    business, target, reason = edxml.BusinessType.NEW, None, ""
    if out.replaces_id:
        business, target = edxml.BusinessType.REPLACE, session.get(OutgoingDocument, out.replaces_id)
        reason = "Văn bản thay thế"
    elif out.corrects_id:
        business, target = edxml.BusinessType.UPDATE, session.get(OutgoingDocument, out.corrects_id)
        reason = "Cập nhật văn bản"
    for r in recipients:
        code = (r.address or "").strip()
        data = document_package(out, org, [(code, r.name)], main, attachments, now=now, business=business,
                                reason=reason, target=target)
        outbound.queue_package(data, kind="edoc", business_type=int(business), sender_organ_id=org.organ_id or "",
                               receiver_organ_id=code, receiver_name=r.name, document_id=out.document_id or "",
                               description=out.subject, outgoing_document_id=out.id, recipient_id=r.id)


# --- recall ----------------------------------------------------------------------------------------------


def recall(out: OutgoingDocument, org: Organisation, recipients: list, reason: str, now: datetime) -> None:
    """Thu hồi (SPEC §6.8): each recipient inside is asked (at 01 the document disappears at once and the answer
    is 15); each one outside gets a recall package (type 1) and answers 15 or 16 through the axis."""
    for r in recipients:
        method = getattr(r.method, "value", r.method)
        if r.incoming_document_id is not None:
            doc = session.get_one(IncomingDocument, r.incoming_document_id)
            incoming.request_recall(doc, reason, org.name)
            if doc.status.value == "15":
                r.recall_answer, r.recall_answered_at = "15", now
        elif method == OTHER_SYSTEM and r.address:
            data = document_package(out, org, [(r.address.strip(), r.name)], None, [], now=now,
                                    business=edxml.BusinessType.RECALL, reason=reason)
            outbound.queue_package(data, kind="edoc", business_type=1, sender_organ_id=org.organ_id or "",
                                   receiver_organ_id=r.address.strip(), receiver_name=r.name,
                                   document_id=out.document_id or "", description=reason,
                                   outgoing_document_id=out.id, recipient_id=r.id)


# --- what each recipient did -----------------------------------------------------------------------------


def status_of(r) -> Status:  # type: ignore[no-untyped-def]
    """The latest status a recipient shows the sender, with its history (SPEC §6.6)."""
    method = getattr(r.method, "value", r.method)
    if r.incoming_document_id is not None:
        return _inside_status(r)
    if method == OTHER_SYSTEM:
        return _axis_status(r)
    if method == EMAIL:
        from portal.exchange import mail

        return mail.status_of(r)
    label = f"Đã gửi ({r.method.label})" if r.sent_at else "Chưa gửi"
    return Status("", label, r.sent_at, None, [])


def _inside_status(r) -> Status:  # type: ignore[no-untyped-def]
    doc = session.get_one(IncomingDocument, r.incoming_document_id)
    events = incoming.sender_events(doc)
    code = doc.status.value if doc.status != IncomingStatus.REPLACED else (events[-1].status if events else "01")
    at = events[-1].at if events else r.sent_at
    reason = doc.return_reason if code == "02" else None
    if r.recall_answer == "16":
        code, at, reason = "16", r.recall_answered_at, r.recall_answer_text
    elif doc.recall_requested_at and code not in ("02", "15"):
        code, at, reason = "13", doc.recall_requested_at, None
    history = [(e.status, STATUS_LABELS.get(e.status, e.status), e.at, None) for e in events]
    return Status(code, STATUS_LABELS.get(code, code), at, reason, history)


def _axis_status(r) -> Status:  # type: ignore[no-untyped-def]
    sent = session.execute(select(ExchangePackage).where(
        ExchangePackage.direction == Direction.OUT, ExchangePackage.recipient_id == r.id,
        ExchangePackage.kind == "edoc").order_by(ExchangePackage.id)).scalars().all()
    back = session.execute(select(ExchangePackage).where(
        ExchangePackage.direction == Direction.IN, ExchangePackage.recipient_id == r.id,
        ExchangePackage.kind == "status").order_by(ExchangePackage.id)).scalars().all()
    # (our own time, for the order) → the line shown (the peer's time for what came back)
    lines: list[tuple[datetime, tuple[str, str, datetime | None, str | None]]] = []
    for p in sent:
        what = "Thu hồi: " if p.business_type == 1 else ""
        if p.state == PackageState.SENT:
            line = ("", f"{what}Đã gửi lên trục", p.sent_at, None)
        elif p.state == PackageState.FAILED:
            line = ("", f"{what}Gửi không được", p.created_at, p.error)
        else:
            line = ("", f"{what}Đang chờ gửi lên trục (lần thử {p.attempts})", p.created_at, p.error)
        lines.append((_aware(p.created_at), line))
    for p in back:
        code = p.status_code or ""
        lines.append((_aware(p.created_at), (code, STATUS_LABELS.get(code, code), p.at or p.created_at, p.description)))
    if not lines:
        return Status("", "Chưa gửi", None, None, [])
    lines.sort(key=lambda pair: pair[0])  # stable: equal times keep the order above
    history = [line for _, line in lines]
    code, label, at, reason = history[-1]
    recall = next((p for p in reversed(sent) if p.business_type == 1), None)
    if recall is not None and code not in ("15", "16"):  # a recall waits for its answer
        answered = any(p.status_code in ("15", "16") and _aware(p.created_at) >= _aware(recall.created_at)
                       for p in back)
        if not answered:
            code, label, at, reason = "13", STATUS_LABELS["13"], recall.sent_at or recall.created_at, recall.description
    return Status(code, label, at, reason, history)


def _aware(moment: datetime | None) -> datetime:
    from datetime import UTC

    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def failed_packages(outgoing_id: int) -> list[ExchangePackage]:
    """The packages of an issued document that the axis never took: "Gửi lại" offers them again."""
    return list(session.execute(select(ExchangePackage).where(
        ExchangePackage.direction == Direction.OUT, ExchangePackage.outgoing_document_id == outgoing_id,
        ExchangePackage.state == PackageState.FAILED).order_by(ExchangePackage.id)).scalars())


def resend(outgoing_id: int) -> int:
    """Gửi lại every failed package of an issued document; returns how many."""
    rows = failed_packages(outgoing_id)
    for row in rows:
        outbound.resend(row)
    return len(rows)
