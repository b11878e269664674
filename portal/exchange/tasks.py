"""Exchange on the job queue (issue 17): the axis is polled every 5 minutes (and when a clerk presses
"Nhận văn bản"); each received package is processed and committed, then acknowledged, so a crash in between
finds it processed next time and only acknowledges it. Statuses of documents received through the axis go
back to their senders as the clerk and the handlers act (incoming's event listeners)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from portal import jobs
from portal.db import session
from portal.documents.models import Channel, IncomingDocument
from portal.exchange import outbound, receiving
from portal.exchange.transport import TransportFailure
from portal.incoming import services as incoming

# incoming's history actions → the status code the sender outside is told (SPEC §11.2); 01 is sent when the
# package is received
CODES = {"return": "02", "accept": "03", "register": "03", "direct": "04", "assign_directly": "04",
         "unit_direct": "04", "progress": "05", "finish": "06", "recalled": "15", "recall_refused": "16"}


def on_incoming_event(doc: IncomingDocument, action: str, text: str | None) -> None:
    code = CODES.get(action)
    if code is None or doc.channel != Channel.AXIS:
        return
    description = text or ""
    if action == "return" and doc.return_reason:
        description = doc.return_reason
    outbound.queue_status(doc, code, description)


def on_recall_answer(doc: IncomingDocument, agreed: bool, reason: str | None) -> None:
    """A recipient inside the portal answered a recall: the sender's draft records it (through the axis, the
    15/16 status goes back through ``on_incoming_event``)."""
    if doc.source_outgoing_id is None:
        return
    from portal.drafts import services as drafts  # the sender side; imported late (drafts imports exchange)
    from portal.drafts.models import Recipient

    recipient_id = session.execute(select(Recipient.id).where(Recipient.incoming_document_id == doc.id)).scalar()
    if recipient_id is not None:
        drafts.record_recall_answer(recipient_id, agreed, reason)


incoming.on_event(on_incoming_event)
incoming.on_recall_answer(on_recall_answer)


@dataclass
class Poll:
    received: int = 0
    refused: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)

    def message(self) -> str:
        text = f"Đã nhận {self.received} gói tin, từ chối {self.refused}, trùng {self.duplicates}."
        return text + (" Lỗi: " + "; ".join(self.errors[:3]) if self.errors else "")


def poll(limit: int = 200) -> Poll:
    """Fetch what waits on the axis, process each package in its own transaction, then acknowledge it."""
    adapter = outbound.transport()
    result = Poll()
    if adapter is None:
        return result
    for kind in ("edoc", "status"):
        try:
            waiting = adapter.list_received(kind)
        except TransportFailure as exc:
            result.errors.append(str(exc))
            continue
        for transport_id in waiting[:limit]:
            try:
                data = adapter.fetch(transport_id)
                received = receiving.receive(data, transport="axis", transport_id=transport_id)
                session.commit()
            except TransportFailure as exc:
                session.rollback()
                result.errors.append(str(exc))
                continue
            except Exception as exc:  # one bad package must not stop the others; it stays waiting on the axis
                session.rollback()
                result.errors.append(f"{transport_id}: {type(exc).__name__}: {exc}"[:300])
                continue
            result.received += received.outcome not in ("refused", "duplicate")
            result.refused += received.refused
            result.duplicates += received.outcome == "duplicate"
            try:
                adapter.acknowledge(transport_id, ok=not received.refused, reason="; ".join(received.reasons)[:500])
            except TransportFailure as exc:  # processed and committed: acknowledged on the next poll
                result.errors.append(str(exc))
    return result


def poll_job() -> dict[str, int]:
    result = poll()
    return {"received": result.received, "refused": result.refused, "duplicates": result.duplicates}


jobs.periodic("exchange-poll", poll_job, minute="*/5")


def sync_agencies() -> str:
    """The axis's agency list into the directory (daily, and ``portal exchange agencies-sync``)."""
    from portal.exchange import agencies

    adapter = outbound.transport()
    if adapter is None:
        return "Chưa cấu hình trục liên thông: không có danh sách cơ quan để lấy."
    rows = [(a.organ_id, a.name, a.in_charge) for a in adapter.agencies()]
    report = agencies.import_agencies(rows, source="axis", actor_name="trục liên thông")
    return report.summary()


def sync_agencies_job() -> str:
    text = sync_agencies()
    session.commit()
    return text


jobs.periodic("exchange-agencies", sync_agencies_job, hour="5", minute="30")
