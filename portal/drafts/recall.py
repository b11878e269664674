"""After issuance (SPEC §6.6, §6.8): what each recipient did, thu hồi and the recipients' answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.auth.models import User
from portal.db import session
from portal.documents.models import IncomingDocument, OutgoingDocument, OutgoingStatus
from portal.drafts import common
from portal.drafts.common import S
from portal.drafts.composing import recipients_of
from portal.drafts.models import Draft, Recipient
from portal.drafts.workflow import guard
from portal.incoming import services as incoming
from portal.orgs.models import Organisation


@dataclass
class RecipientStatus:
    recipient: Recipient
    code: str
    label: str
    at: datetime | None
    reason: str | None


STATUS_LABELS = {"01": "Đã đến", "02": "Bị trả lại", "03": "Đã tiếp nhận", "03p": "Đã tiếp nhận",
                 "04": "Đã phân công", "05": "Đang xử lý", "06": "Hoàn thành", "13": "Đang yêu cầu thu hồi",
                 "15": "Đã thu hồi", "16": "Từ chối thu hồi"}


def recipient_statuses(draft: Draft) -> list[RecipientStatus]:
    """What the sender sees per recipient: the latest status and when it changed (SPEC §6.6)."""
    rows = recipients_of(draft)
    docs = {d.id: d for d in session.execute(select(IncomingDocument).where(
        IncomingDocument.id.in_([r.incoming_document_id for r in rows if r.incoming_document_id]))).scalars()}
    result = []
    for r in rows:
        doc = docs.get(r.incoming_document_id) if r.incoming_document_id else None
        if doc is None:
            label = f"Đã gửi ({r.method.label})" if r.sent_at else "Chưa gửi"
            result.append(RecipientStatus(r, "", label, r.sent_at, None))
            continue
        events = incoming.sender_events(doc)
        code = doc.status.value
        at = events[-1].at if events else r.sent_at
        reason = doc.return_reason if code == "02" else None
        if r.recall_answer == "16":
            code, at, reason = "16", r.recall_answered_at, r.recall_answer_text
        elif doc.recall_requested_at and code not in ("02", "15"):
            code, at, reason = "13", doc.recall_requested_at, None
        result.append(RecipientStatus(r, code, STATUS_LABELS.get(code, code), at, reason))
    return result


def recall(actor: User, draft: Draft, reason: str) -> None:
    """Thu hồi (SPEC §6.8): the sender's record is frozen; each internal recipient is asked (at
    01 it disappears at once); each answers, and the sender sees the answer."""
    draft = guard(actor, "recall", draft)
    reason = common.required(reason, "reason", "Hãy ghi lý do thu hồi; nơi nhận sẽ thấy nội dung này.", 1000)
    out = session.get(OutgoingDocument, draft.outgoing_id)
    assert out is not None
    out.status = OutgoingStatus.RECALLED
    out.recalled_at, out.recall_reason, out.recalled_by_id = common.now(), reason, actor.id
    org = session.get(Organisation, draft.organisation_id)
    for r in recipients_of(draft):
        if r.incoming_document_id is None:
            continue
        doc = session.get(IncomingDocument, r.incoming_document_id)
        assert doc is not None
        incoming.request_recall(doc, reason, org.name if org else "Nơi gửi")
        if doc.status.value == "15":
            r.recall_answer, r.recall_answered_at = "15", common.now()
    common.move(draft, actor, "recall", S.RECALLED, None, reason)


def record_recall_answer(doc: IncomingDocument, agreed: bool, reason: str | None) -> None:
    """Called by the incoming side when the receiving clerk agrees (15) or refuses (16)."""
    r = session.execute(select(Recipient).where(Recipient.incoming_document_id == doc.id)).scalar_one_or_none()
    if r is None:
        return
    r.recall_answer = "15" if agreed else "16"
    r.recall_answer_text = reason
    r.recall_answered_at = common.now()
    draft = session.get(Draft, r.draft_id)
    if draft is not None:
        common.event(draft, None, "recall_answer", f"{r.name}: {'đồng ý thu hồi' if agreed else 'từ chối thu hồi'}"
                                             + (f" — {reason}" if reason else ""), actor_name=r.name)
