"""Which events notify whom (issue 18 item 2): listeners of drafts' and incoming's history, of incoming's
reminders (đôn đốc, and the daily sắp đến hạn / quá hạn) and of auth's locks, in the transaction of the step, and
exchange's entry point for the statuses recipients outside send back. Each notice's key names the event, so a
repeat is one notice. The periodic jobs (time limits, digests) are in ``daily``."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_request_context, url_for
from sqlalchemy import select

from portal.auth import services as auth
from portal.auth.models import Role, User
from portal.db import session
from portal.documents.models import IncomingDocument, OutgoingDocument
from portal.drafts import services as drafts
from portal.drafts.models import CommentInvite, CommentRound, Draft, DraftStatus, Recipient
from portal.exchange.delivery import STATUS_LABELS
from portal.exchange.tasks import CODES as STATUS_CODES
from portal.inbox.registry import ORG, UNIT
from portal.incoming import services as incoming
from portal.incoming.models import Assignment, AssignmentState, Extension, IncomingEvent, Reminder, ReminderKind
from portal.notifications import service

STEP_WORDS = {"submit": "duyệt", "approve": "kiểm tra thể thức", "format_ok": "ký số", "forward": "ký số",
              "refuse_issue": "ký lại"}
# incoming's steps on a document another organisation of the portal issued → the status its sender sees (01 is
# the issuance itself; a recall's answer, 15 or 16, reaches the sender as the draft's "recall_answer")
SENDER_CODES = {action: code for action, code in STATUS_CODES.items() if code not in ("15", "16")}


def link(endpoint: str, **values: object) -> str:
    """A link that works from a request, a job or the command line alike."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def _draft_url(draft: Draft) -> str:
    return link("drafts.draft", draft_id=draft.id)


def doc_url(doc: IncomingDocument) -> str:
    return link("incoming.document", document_id=doc.id)


def subject_of(text: str | None, limit: int = 120) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- drafts ---------------------------------------------------------------------------------------------------


def on_draft_event(draft: Draft, actor, action: str, text: str | None) -> None:  # type: ignore[no-untyped-def]
    stamp = f"{draft.id}.{action}.{draft.updated_at.timestamp():.6f}"
    me = actor.id if actor else None
    subject = subject_of(draft.subject)
    if action in STEP_WORDS:
        if draft.holder_id:
            whom, word = [draft.holder_id], STEP_WORDS[action]
        elif draft.status == DraftStatus.FORMAT_CHECK:
            whom, word = service.holders_of_role(draft.organisation_id, Role.FORMAT_CHECKER), "kiểm tra thể thức"
        else:
            whom, word = [], ""
        service.notify([u for u in whom if u != me], "to_act", f"Dự thảo chờ bạn {word}: {subject}",
                       _draft_url(draft), f"draft.{stamp}")
    if action == "ask":
        service.notify([u for u in _invited(draft) if u != me], "to_act", f"Dự thảo xin ý kiến của bạn: {subject}",
                       _draft_url(draft), f"draft.{stamp}")
    elif action == "send_back":
        service.notify([draft.drafter_id], "returned", f"Dự thảo bị trả lại: {subject}"
                       + (f" — {subject_of(text)}" if text else ""), _draft_url(draft), f"draft.{stamp}")
    elif action == "approve":
        service.notify([draft.drafter_id], "approved", f"Dự thảo đã được duyệt: {subject}", _draft_url(draft),
                       f"draft.{stamp}.drafter")
    elif action in ("sign", "sign_external"):
        service.notify([draft.drafter_id], "signed", f"Văn bản đã được ký số: {subject}", _draft_url(draft),
                       f"draft.{stamp}.drafter")
        clerks = [u for u in service.holders_of_role(draft.organisation_id, Role.CLERK) if u != me]
        service.notify(clerks, "to_act", f"Văn bản đã ký chờ cấp số, phát hành: {subject}", _draft_url(draft),
                       f"draft.{stamp}.clerks")
    elif action == "issue":
        service.notify([draft.drafter_id, draft.signed_by_id], "issued", f"Văn bản đã phát hành: {subject}"
                       + (f" ({subject_of(text)})" if text else ""), _draft_url(draft), f"draft.{stamp}")
    elif action == "recall_answer":
        service.notify(_senders(draft, recall=True), "recipient_status",
                       f"Nơi nhận trả lời thu hồi: {subject_of(text)}", _draft_url(draft), f"draft.{stamp}")


def _invited(draft: Draft) -> list[int]:
    """The people the newest open comment round asks."""
    return list(session.execute(
        select(CommentInvite.user_id).join(CommentRound, CommentRound.id == CommentInvite.round_id)
        .where(CommentRound.id == select(CommentRound.id).where(CommentRound.draft_id == draft.id,
                                                                CommentRound.closed_at.is_(None))
               .order_by(CommentRound.id.desc()).limit(1).scalar_subquery())).scalars())


def _senders(draft: Draft, *, recall: bool = False) -> list[int | None]:
    """Who hears what a recipient answers: the drafter and the clerk who issued it, and for an answer to a recall
    whoever recalled it."""
    out = session.get(OutgoingDocument, draft.outgoing_id) if draft.outgoing_id else None
    if out is None:
        return [draft.drafter_id]
    return [draft.drafter_id, out.issued_by_id, out.recalled_by_id if recall else None]


def recipient_status(recipient_id: int | None, code: str, label: str, organ_name: str, key: str) -> int:
    """A recipient outside answered through the axis (``key``: the status package received): the drafter and the
    issuing clerk hear of it, and of an answer to a recall (15, 16) whoever recalled it."""
    recipient = session.get(Recipient, recipient_id) if recipient_id else None
    draft = session.get(Draft, recipient.draft_id) if recipient else None
    if draft is None:
        return 0
    return service.notify(_senders(draft, recall=code in ("15", "16")), "recipient_status",
                          f"{organ_name or recipient.name}: {label} ({code}) — {subject_of(draft.subject)}",
                          _draft_url(draft), f"status.{key}")


def _inside_status(doc: IncomingDocument, code: str) -> None:
    """A recipient inside the portal moved the document it received: its sender hears the status (once per
    document and code: registering after accepting is still "03" to the sender)."""
    row = session.execute(select(Recipient, Draft).join(Draft, Draft.id == Recipient.draft_id)
                          .where(Recipient.incoming_document_id == doc.id)).first()
    if row is None:
        return
    recipient, draft = row
    label = STATUS_LABELS.get(code, code)
    reason = f": {subject_of(doc.return_reason)}" if code == "02" and doc.return_reason else ""
    service.notify(_senders(draft), "recipient_status",
                   f"{recipient.name}: {label} ({code}){reason} — {subject_of(draft.subject)}", _draft_url(draft),
                   f"status.inside.{doc.id}.{code}")


# --- incoming -------------------------------------------------------------------------------------------------


def _assignees(doc: IncomingDocument) -> list[int]:
    """The people a new assignment names: the person, or the head of the unit it names."""
    people: list[int] = []
    for row in incoming.assignments_of(doc):
        if row.state == AssignmentState.NEW:
            people += people_of(doc, row)
    return people


def people_of(doc: IncomingDocument, row) -> list[int]:  # type: ignore[no-untyped-def]
    """The person an assignment row names, or the head of the unit it names."""
    if row.assignee_user_id:
        return [row.assignee_user_id]
    if row.assignee_unit_id:
        return service.holders_of_role(doc.organisation_id, Role.UNIT_HEAD, unit_id=row.assignee_unit_id)
    return []


def on_incoming_event(doc: IncomingDocument, action: str, text: str | None) -> None:
    stamp = f"{doc.id}.{action}.{incoming._now().timestamp():.6f}"
    subject = subject_of(doc.subject)
    if action == "arrive":
        clerks = service.holders_of_role(doc.organisation_id, Role.CLERK)
        service.notify(clerks, "arrived", f"Văn bản đến mới: {subject}", doc_url(doc), f"incoming.{doc.id}.arrive")
    elif action in ("present", "forward") and doc.presented_to_id:
        service.notify([doc.presented_to_id], "to_act", f"Văn bản đến chờ bạn cho ý kiến chỉ đạo: {subject}",
                       doc_url(doc), f"incoming.{stamp}")
    elif action in ("direct", "assign_directly", "unit_direct"):
        service.notify(_assignees(doc), "assigned", f"Bạn được giao xử lý văn bản: {subject}", doc_url(doc),
                       f"incoming.{stamp}")
    elif action == "send_back":
        clerks = service.holders_of_role(doc.organisation_id, Role.CLERK)
        service.notify(clerks, "returned", f"Lãnh đạo trả lại văn bản đến: {subject}", doc_url(doc),
                       f"incoming.{stamp}")
    elif action == "recall_requested":
        clerks = service.holders_of_role(doc.organisation_id, Role.CLERK)
        service.notify(clerks, "recall_request", f"Nơi gửi đề nghị thu hồi văn bản: {subject}", doc_url(doc),
                       f"incoming.{stamp}")
    elif action in EXTENSION_STEPS:
        _extension(doc, action)
    if action in SENDER_CODES and doc.source_outgoing_id is not None:
        _inside_status(doc, SENDER_CODES[action])


EXTENSION_STEPS = {"extension_requested": "requested", "extension_approved": "approved",
                   "extension_refused": "refused"}


def _deciders(doc: IncomingDocument, row: Assignment) -> list[int]:
    """The people who decide the row's gia hạn request now, by incoming's one rule (``decider_of``): whoever set
    the deadline, or once they are gone the unit's heads or the organisation's agency leaders (never whoever asked:
    the caller leaves them out, and ``decider_of`` sends a request a unit's head asked to the agency leaders)."""
    kind, owner = incoming.decider_of(row)
    if kind == UNIT:
        return service.holders_of_role(doc.organisation_id, Role.UNIT_HEAD, unit_id=owner)
    if kind == ORG:
        return service.holders_of_role(doc.organisation_id, Role.AGENCY_LEADER)
    return [owner]


def _extension(doc: IncomingDocument, action: str) -> None:
    """Gia hạn: the request reaches whoever decides it (``_deciders``: whoever set the deadline, or who stands in
    for them once they are gone, told so), who must answer it; the answer reaches whoever asked, with the new
    deadline or the reason. The request is the newest on the row the history row just written names (the
    assignment table lets a row have one pending request, and decides only that one); the key names the request
    and the step, so each is told once."""
    found = session.execute(
        select(Extension, Assignment).join(Assignment, Assignment.id == Extension.assignment_id)
        .where(Extension.assignment_id == select(IncomingEvent.assignment_id)
               .where(IncomingEvent.document_id == doc.id, IncomingEvent.action == action)
               .order_by(IncomingEvent.id.desc()).limit(1).scalar_subquery())
        .order_by(Extension.id.desc()).limit(1)).first()
    if found is None:
        return
    ext, row = found
    subject, step = subject_of(doc.subject), EXTENSION_STEPS[action]
    if step == "requested":
        deciders = _deciders(doc, row)
        whom = [u for u in deciders if u != ext.requested_by_id]
        instead = "" if row.assigned_by_id in (*deciders, ext.requested_by_id) else \
            f" (thay {row.assigned_by.full_name}, người giao hạn, không còn công tác)"
        title = (f"Đề nghị gia hạn xử lý văn bản đến {ext.proposed_deadline:%d/%m/%Y} (hạn hiện tại "
                 f"{ext.old_deadline:%d/%m/%Y}), chờ ý kiến của bạn{instead}: {subject} — "
                 f"{ext.requested_by.full_name}: {ext.reason}")
    else:
        whom = [ext.requested_by_id] if ext.requested_by_id != ext.decided_by_id else []
        note = f" — {ext.decision_note}" if ext.decision_note else ""
        title = (f"Đồng ý gia hạn xử lý văn bản, hạn mới {ext.proposed_deadline:%d/%m/%Y}: {subject}{note}"
                 if step == "approved" else
                 f"Không đồng ý gia hạn xử lý văn bản, hạn vẫn là {row.deadline:%d/%m/%Y}: {subject}{note}")
    service.notify(whom, "extension", subject_of(title, 300), doc_url(doc), f"extension.{ext.id}.{step}")


def on_replaced(doc: IncomingDocument, new: IncomingDocument, rows: list[Assignment]) -> None:
    """The sender replaced a document (SPEC §5.8): each person whose part closed (or the head of the unit it named)
    hears that the work stopped and which document replaced it, once per replacement."""
    people = [u for row in rows for u in people_of(doc, row)]
    code = "/".join(p for p in (new.code_number or "", new.code_notation or "") if p)
    title = f"Văn bản đã bị thay thế{f' bởi văn bản {code}' if code else ''}, phần việc của bạn đã đóng: " \
            f"{subject_of(doc.subject)}"
    service.notify(people, "replaced", subject_of(title, 300), doc_url(doc), f"replaced.{doc.id}.{new.id}")


def on_reminder(reminder: Reminder, row: Assignment, doc: IncomingDocument) -> None:
    """A reminder incoming recorded reaches the row's person, or its unit's head, in the same transaction, once
    (the key is the reminder row's): đôn đốc by a person (nhắc nhở, phê bình, kiểm điểm; never to the one who
    sent it) as "reminder"; the daily job's sắp đến hạn and quá hạn as "deadline" and "overdue"."""
    subject = subject_of(doc.subject)
    if reminder.kind == ReminderKind.OVERDUE:
        kind, title = "overdue", f"Quá hạn xử lý văn bản: {subject} ({reminder.text or ''})"
    elif reminder.kind == ReminderKind.DUE_SOON:
        kind, title = "deadline", f"Sắp đến hạn xử lý văn bản: {subject} ({reminder.text or ''})"
    else:
        kind, title = "reminder", f"{reminder.kind.label}: {subject}" + (
            f" — {subject_of(reminder.text)}" if reminder.text else "")
    service.notify([u for u in people_of(doc, row) if u != reminder.sent_by_id], kind, title, doc_url(doc),
                   f"reminder.{reminder.id}")


# --- accounts -------------------------------------------------------------------------------------------------


def on_account_locked(user: User, at: datetime, text: str, emailed: bool, by_admin: bool) -> None:
    """The locked person finds the notice under the bell once they are back in (the lockout's time is up, or IT
    unlocked them). The e-mail went by auth's own path (``emailed``), never a second time from here; the key is
    the lock's, as the e-mail's is."""
    service.notify([user.id], "account_locked", text, None if by_admin else link("auth.change_password"),
                   f"account-locked.{user.id}.{at:%Y%m%dT%H%M%S%f}", emailed=emailed)


drafts.on_event(on_draft_event)
incoming.on_event(on_incoming_event)
incoming.on_replaced(on_replaced)
incoming.on_reminder(on_reminder)
auth.on_locked(on_account_locked)
