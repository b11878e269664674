"""After issuance (SPEC §6.6, §6.8): what each recipient did, thu hồi and the recipients' answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from portal.auth.models import User
from portal.db import session
from portal.documents.models import OutgoingDocument, OutgoingStatus
from portal.drafts import common
from portal.drafts.common import S
from portal.drafts.composing import recipients_of
from portal.drafts.models import Draft, Recipient
from portal.drafts.workflow import guard
from portal.exchange import delivery
from portal.orgs.models import Organisation


@dataclass
class RecipientStatus:
    recipient: Recipient
    code: str
    label: str
    at: datetime | None
    reason: str | None
    history: list = field(default_factory=list)  # (code, label, at, reason), oldest first


STATUS_LABELS = delivery.STATUS_LABELS


def recipient_statuses(draft: Draft) -> list[RecipientStatus]:
    """What the sender sees per recipient: the latest status and when it changed (SPEC §6.6), from exchange
    (inside the portal, through the axis, by e-mail)."""
    result = []
    for r in recipients_of(draft):
        status = delivery.status_of(r)
        result.append(RecipientStatus(r, status.code, status.label, status.at, status.reason, status.history))
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
    org = session.get_one(Organisation, draft.organisation_id)
    delivery.recall(out, org, recipients_of(draft), reason, common.now())
    common.move(draft, actor, "recall", S.RECALLED, None, reason)


def record_recall_answer(recipient_id: int, agreed: bool, reason: str | None) -> None:
    """Called by exchange when a recipient agrees (15) or refuses (16) to a recall, inside the portal or
    through the axis."""
    r = session.get(Recipient, recipient_id)
    if r is None:
        return
    r.recall_answer = "15" if agreed else "16"
    r.recall_answer_text = reason
    r.recall_answered_at = common.now()
    draft = session.get(Draft, r.draft_id)
    if draft is not None:
        common.event(draft, None, "recall_answer", f"{r.name}: {'đồng ý thu hồi' if agreed else 'từ chối thu hồi'}"
                                             + (f" — {reason}" if reason else ""), actor_name=r.name)


def failed_sending(draft: Draft) -> int:
    """How many packages to agencies outside the axis never took (the issued section offers "Gửi lại")."""
    return len(delivery.failed_packages(draft.outgoing_id)) if draft.outgoing_id else 0


def resend(clerk: User, draft: Draft) -> int:
    """Gửi lại: every package of this issued document that failed goes to the queue again (same bytes, new
    attempts). The organisation's clerk only; a repeat finds nothing failed and changes nothing."""
    from portal.drafts import permissions
    from portal.errors import NotAllowed
    from portal.workflow import relock

    locked = relock(session(), draft)
    if locked.outgoing_id is None or not permissions.is_clerk(clerk, locked):
        raise NotAllowed("drafts.resend", "Chỉ văn thư của cơ quan được gửi lại văn bản đã phát hành.")
    count = delivery.resend(locked.outgoing_id)
    if count:
        common.event(locked, clerk, "resend", f"Gửi lại {count} gói tin lên trục liên thông")
    return count
