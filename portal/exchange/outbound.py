"""Packages this portal sends (issue 17, SPEC §11.1): each is an ``ExchangePackage`` row written in the
transaction of the change that causes it (a status going back to a sender outside the province, a document
issued to an outside recipient) with a job on the queue that sends it: 5 attempts with back-off, then a
visible failure and "Gửi lại". The transport is the national axis or the provincial LGSP (PORTAL_AXIS_*).
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from portal import audit, jobs, storage
from portal.db import session, utcnow
from portal.documents.models import IncomingDocument
from portal.exchange import edxml
from portal.exchange.models import Direction, ExchangePackage, PackageState
from portal.exchange.transport import Refused, TransportError
from portal.exchange.transport.http import from_config
from portal.orgs.models import Organisation

SEND_KIND = "exchange.send"
MAX_ATTEMPTS = 5
NO_AXIS = "Chưa cấu hình trục liên thông (PORTAL_AXIS_URL, PORTAL_AXIS_SYSTEM_ID, PORTAL_AXIS_SECRET)."


def our_organization(org: Organisation) -> edxml.Organization:
    """How an organisation of this portal names itself in a package (QĐ 20 code, else the legacy one)."""
    return edxml.Organization(organ_id=org.organ_id or org.legacy_organ_id or "", organ_name=org.name[:200],
                              organ_add=(org.address or "")[:250], email=(org.email or "")[:100],
                              telephone=(org.phone or "")[:20], fax=(getattr(org, "fax", None) or "")[:20],
                              website=(getattr(org, "website", None) or "")[:100])


def queue_package(data: bytes, *, kind: str, sender_organ_id: str, receiver_organ_id: str, receiver_name: str = "",
                  document_id: str = "", description: str | None = None, business_type: int | None = None,
                  status_code: str | None = None, outgoing_document_id: int | None = None,
                  recipient_id: int | None = None, incoming_document_id: int | None = None,
                  transport: str = "axis") -> ExchangePackage:
    """The package row and its sending job, in the caller's transaction (nothing is sent if it rolls back)."""
    stored = storage.save(data, "goi-tin.edxml", inert=True)
    row = ExchangePackage(direction=Direction.OUT, kind=kind, business_type=business_type, status_code=status_code,
                          transport=transport, sender_organ_id=sender_organ_id[:35],
                          receiver_organ_id=receiver_organ_id[:35], receiver_name=receiver_name[:300],
                          document_id=document_id[:100], description=(description or None) and description[:1000],
                          sha256=stored.sha256, state=PackageState.QUEUED, attempts=0,
                          outgoing_document_id=outgoing_document_id, recipient_id=recipient_id,
                          incoming_document_id=incoming_document_id)
    session.add(row)
    session.flush()
    row.job_id = jobs.enqueue(SEND_KIND, max_attempts=MAX_ATTEMPTS, package_id=row.id).id
    return row


def status_package(org: Organisation, *, sender_organ_id: str, code_text: str, promulgation_date: object,
                   document_id: str, code: edxml.StatusCode, description: str, at: datetime | None = None) -> bytes:
    status = edxml.StatusPackage(
        from_=our_organization(org),
        response_for=edxml.ResponseFor(organ_id=sender_organ_id, code=code_text[:42],
                                       promulgation_date=promulgation_date, document_id=document_id),  # type: ignore[arg-type]
        staff_info=edxml.StaffInfo(department=org.name[:100]), status_code=code,
        description=description[:500], timestamp=at or utcnow())
    return edxml.build_status(status)


def received_from(doc: IncomingDocument) -> ExchangePackage | None:
    """The package a document arrived in, when it came through the axis (statuses go back only then)."""
    return session.execute(select(ExchangePackage).where(
        ExchangePackage.direction == Direction.IN, ExchangePackage.kind == "edoc",
        ExchangePackage.incoming_document_id == doc.id).order_by(ExchangePackage.id)).scalars().first()


def queue_status(doc: IncomingDocument, code: str, description: str = "") -> ExchangePackage | None:
    """The status of a document received through the axis, back to its sender (SPEC §11.2): each code once,
    except "đang xử lý" (05), which may be told again."""
    source = received_from(doc)
    if source is None or source.transport != "axis":
        return None
    if code != edxml.StatusCode.PROCESSING.value and session.execute(select(ExchangePackage.id).where(
            ExchangePackage.direction == Direction.OUT, ExchangePackage.kind == "status",
            ExchangePackage.incoming_document_id == doc.id, ExchangePackage.status_code == code)).first():
        return None
    org = session.get_one(Organisation, doc.organisation_id)
    status_code = edxml.StatusCode(code)
    code_text = "/".join(p for p in (doc.code_number or "", doc.code_notation or "") if p)
    data = status_package(org, sender_organ_id=source.sender_organ_id, code_text=code_text,
                          promulgation_date=doc.issued_date, document_id=source.document_id, code=status_code,
                          description=description or status_code.label)
    return queue_package(data, kind="status", status_code=code, sender_organ_id=org.organ_id or "",
                         receiver_organ_id=source.sender_organ_id, document_id=source.document_id,
                         description=description or status_code.label, incoming_document_id=doc.id)


def queue_refusal(org: Organisation | None, *, sender_organ_id: str, document_id: str, code_text: str,
                  promulgation_date: object, reasons: list[str], code: str = "02") -> ExchangePackage | None:
    """02 (refused, with the violations) or 16 (recall/update refused) for a package that created nothing."""
    if not sender_organ_id:
        return None
    description = "; ".join(reasons)[:1000] or edxml.StatusCode(code).label
    me = org or Organisation(name="", organ_id="")
    data = status_package(me, sender_organ_id=sender_organ_id, code_text=code_text,
                          promulgation_date=promulgation_date, document_id=document_id,
                          code=edxml.StatusCode(code), description=description)
    return queue_package(data, kind="status", status_code=code, sender_organ_id=me.organ_id or "",
                         receiver_organ_id=sender_organ_id, document_id=document_id, description=description)


def transport():  # type: ignore[no-untyped-def]
    """The configured transport, or None (no axis)."""
    return from_config(current_app.config)


@jobs.kind(SEND_KIND, max_attempts=MAX_ATTEMPTS, on_failed=lambda job: _failed(job))
def send(package_id: int) -> dict[str, str] | None:
    """The queue's handler: one attempt. A transport error raises (the queue retries with back-off); a refusal
    by the axis is final (failed at once, with the axis's reasons)."""
    row = session.execute(select(ExchangePackage).where(ExchangePackage.id == package_id)
                          .with_for_update()).scalar_one()
    if row.state == PackageState.SENT:  # a repeated push after success
        return None
    adapter = transport()
    row.attempts += 1
    if adapter is None:
        raise TransportError(NO_AXIS)
    data = storage.read(row.sha256) if row.sha256 else b""
    try:
        transport_id = adapter.send_edoc(data) if row.kind == "edoc" else adapter.send_status(data)
    except Refused as exc:
        row.state, row.error = PackageState.FAILED, str(exc)[:2000]
        audit.record(None, "exchange.refused_by_axis", object_type="exchange_packages", object_id=row.id,
                     actor_name="trục liên thông", details={"error": str(exc)[:300]})
        return {"refused": str(exc)[:300]}
    row.state, row.transport_id, row.sent_at, row.error = PackageState.SENT, transport_id[:100], utcnow(), None
    return {"transport_id": transport_id[:100]}


def _failed(job) -> None:  # type: ignore[no-untyped-def]
    package_id = json.loads(job.args).get("package_id")
    row = session.get(ExchangePackage, package_id) if package_id else None
    if row is not None and row.state != PackageState.SENT:
        row.state, row.error = PackageState.FAILED, (job.error or "")[:2000]
        audit.record(None, "exchange.send_failed", object_type="exchange_packages", object_id=row.id,
                     actor_name="hàng đợi", details={"error": (job.error or "")[:300]})


def resend(row: ExchangePackage) -> ExchangePackage:
    """"Gửi lại" a failed package: the same bytes, a new job with its attempts."""
    locked = session.execute(select(ExchangePackage).where(ExchangePackage.id == row.id).with_for_update()).scalar_one()
    if locked.state == PackageState.FAILED:
        locked.state, locked.error = PackageState.QUEUED, None
        locked.job_id = jobs.enqueue(SEND_KIND, max_attempts=MAX_ATTEMPTS, package_id=locked.id).id
    return locked
