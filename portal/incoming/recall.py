"""Recall (SPEC §5.8): the sender asks; at 01 the document is recalled at once, later the
receiving clerk confirms (15) or refuses with a reason the sender sees. No Flask here."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from portal.auth.models import User
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.errors import ValidationFailed
from portal.incoming import events
from portal.incoming.events import guard
from portal.incoming.models import IncomingFile
from portal.incoming.visibility import S
from portal.text import nfc


def request_recall(doc: IncomingDocument, reason: str, sender_name: str) -> None:
    """The sender recalls (called by the outgoing side). At 01, and once replaced (final: nobody works on it), it
    is recalled at once and the sender hears 15; otherwise the receiving clerk confirms."""
    if doc.status in (S.RETURNED, S.RECALLED):  # gone: nothing left to recall
        return
    doc.recall_requested_at = events._now()
    doc.recall_reason = (nfc(reason) or "")[:1000]
    if doc.status in (S.ARRIVED, S.REPLACED):
        _destroy(doc, None, sender_name)
    else:
        session.flush()
        events._event(doc, None, "recall_requested", text=doc.recall_reason, actor_name=sender_name)


def confirm_recall(clerk: User, doc: IncomingDocument) -> None:
    guard(clerk, "confirm_recall", doc)
    _destroy(doc, clerk, None)
    _tell_sender(doc, agreed=True, reason=None)


def refuse_recall(clerk: User, doc: IncomingDocument, reason: str) -> None:
    """Từ chối thu hồi (16): the document stays; the reason goes back to the sender."""
    guard(clerk, "refuse_recall", doc)
    reason = (nfc(reason) or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "Hãy ghi lý do từ chối thu hồi; nơi gửi sẽ thấy nội dung này."})
    if len(reason) > 1000:
        raise ValidationFailed({"reason": "Lý do tối đa 1.000 ký tự."})
    doc.recall_requested_at = None
    session.flush()
    events._event(doc, clerk, "recall_refused", text=reason)
    _tell_sender(doc, agreed=False, reason=reason)


def _tell_sender(doc: IncomingDocument, *, agreed: bool, reason: str | None) -> None:
    """The clerk's answer to a recall goes to whoever listens (exchange tells the sender, inside the portal or
    through the axis)."""
    for listener in RECALL_ANSWER_LISTENERS:
        listener(doc, agreed, reason)


RECALL_ANSWER_LISTENERS: list[Callable[[IncomingDocument, bool, str | None], None]] = []


def on_recall_answer(listener: Callable[[IncomingDocument, bool, str | None], None]) -> None:
    if listener not in RECALL_ANSWER_LISTENERS:
        RECALL_ANSWER_LISTENERS.append(listener)


def _destroy(doc: IncomingDocument, clerk: User | None, sender_name: str | None) -> None:
    """Thu hồi (SPEC §5.8): file references go, the content disappears from every view; the
    identity and the recall record stay."""
    for row in session.execute(select(IncomingFile).where(IncomingFile.document_id == doc.id)).scalars():
        session.delete(row)
    doc.main_file_sha256 = None
    doc.recalled_at = events._now()
    doc.recalled_by_id = clerk.id if clerk else None
    events._move(doc, clerk, "recalled", S.RECALLED, text=doc.recall_reason, actor_name=sender_name)

