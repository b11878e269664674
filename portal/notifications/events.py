"""Which events notify whom (issue 18 item 2). Listeners of drafts' and incoming's history, in the transaction
of the step; a daily job for deadlines. Each notice's key names the event, so a repeat is one notice."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for
from sqlalchemy import select

from portal import jobs
from portal.auth.models import Role
from portal.db import session
from portal.documents.models import IncomingDocument
from portal.drafts import services as drafts
from portal.drafts.models import Draft
from portal.incoming import services as incoming
from portal.notifications import service
from portal.timeutil import local_today

STEP_WORDS = {"submit": "duyệt", "approve": "kiểm tra thể thức", "format_ok": "ký số", "forward": "ký số",
              "refuse_issue": "ký lại"}


def _url(endpoint: str, **values: object) -> str:
    """A link that works from a request, a job or the command line alike."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def _draft_url(draft: Draft) -> str:
    return _url("drafts.draft", draft_id=draft.id)


def _subject(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= 120 else text[:119] + "…"


def on_draft_event(draft: Draft, actor, action: str, text: str | None) -> None:  # type: ignore[no-untyped-def]
    stamp = f"{draft.id}.{action}.{draft.updated_at.timestamp():.6f}"
    me = actor.id if actor else None
    subject = _subject(draft.subject)
    if action in STEP_WORDS:
        if draft.holder_id:
            whom, word = [draft.holder_id], STEP_WORDS[action]
        elif draft.status.value == "cho_the_thuc":
            whom, word = service.holders_of_role(draft.organisation_id, Role.FORMAT_CHECKER), "kiểm tra thể thức"
        else:
            whom, word = [], ""
        service.notify([u for u in whom if u != me], "to_act", f"Dự thảo chờ bạn {word}: {subject}",
                       _draft_url(draft), f"draft.{stamp}")
    if action == "send_back":
        service.notify([draft.drafter_id], "returned", f"Dự thảo bị trả lại: {subject}"
                       + (f" — {_subject(text)}" if text else ""), _draft_url(draft), f"draft.{stamp}")
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
                       + (f" ({_subject(text)})" if text else ""), _draft_url(draft), f"draft.{stamp}")
    elif action == "recall_answer":
        service.notify([draft.drafter_id], "recipient_status", f"Nơi nhận trả lời thu hồi: {_subject(text)}",
                       _draft_url(draft), f"draft.{stamp}")


def _doc_url(doc: IncomingDocument) -> str:
    return _url("incoming.document", document_id=doc.id)


def _assignees(doc: IncomingDocument) -> list[int]:
    """The people a new assignment names: the person, or the head of the unit it names."""
    people: list[int] = []
    for row in incoming.assignments_of(doc):
        if row.state.value != "new":
            continue
        if row.assignee_user_id:
            people.append(row.assignee_user_id)
        elif row.assignee_unit_id:
            people += service.holders_of_role(doc.organisation_id, Role.UNIT_HEAD, unit_id=row.assignee_unit_id)
    return people


def on_incoming_event(doc: IncomingDocument, action: str, text: str | None) -> None:
    stamp = f"{doc.id}.{action}.{incoming._now().timestamp():.6f}"
    subject = _subject(doc.subject)
    if action == "arrive":
        clerks = service.holders_of_role(doc.organisation_id, Role.CLERK)
        service.notify(clerks, "arrived", f"Văn bản đến mới: {subject}", _doc_url(doc), f"incoming.{doc.id}.arrive")
    elif action in ("present", "forward") and doc.presented_to_id:
        service.notify([doc.presented_to_id], "to_act", f"Văn bản đến chờ bạn cho ý kiến chỉ đạo: {subject}",
                       _doc_url(doc), f"incoming.{stamp}")
    elif action in ("direct", "assign_directly", "unit_direct"):
        service.notify(_assignees(doc), "assigned", f"Bạn được giao xử lý văn bản: {subject}", _doc_url(doc),
                       f"incoming.{stamp}")
    elif action == "send_back":
        clerks = service.holders_of_role(doc.organisation_id, Role.CLERK)
        service.notify(clerks, "returned", f"Lãnh đạo trả lại văn bản đến: {subject}", _doc_url(doc),
                       f"incoming.{stamp}")
    elif action == "recall_requested":
        clerks = service.holders_of_role(doc.organisation_id, Role.CLERK)
        service.notify(clerks, "recall_request", f"Nơi gửi đề nghị thu hồi văn bản: {subject}", _doc_url(doc),
                       f"incoming.{stamp}")


drafts.on_event(on_draft_event)
incoming.on_event(on_incoming_event)


def notify_reminders(day=None) -> int:  # type: ignore[no-untyped-def]
    """After the daily reminders: each reminder of the day reaches its person (or the unit's head) once."""
    from portal.incoming.models import Assignment, Reminder

    day = day or local_today()
    sent = 0
    rows = session.execute(select(Reminder, Assignment, IncomingDocument)
                           .join(Assignment, Assignment.id == Reminder.assignment_id)
                           .join(IncomingDocument, IncomingDocument.id == Assignment.document_id)
                           .where(Reminder.for_date == day)).all()
    for reminder, row, doc in rows:
        people = [row.assignee_user_id] if row.assignee_user_id else service.holders_of_role(
            doc.organisation_id, Role.UNIT_HEAD, unit_id=row.assignee_unit_id)
        word = "Quá hạn" if reminder.kind.value == "overdue" else "Sắp đến hạn"
        sent += service.notify(people, "deadline", f"{word} xử lý văn bản: {_subject(doc.subject)} "
                               f"({reminder.text or ''})", _doc_url(doc), f"reminder.{reminder.id}")
    session.commit()
    return sent


def daily_digest() -> int:
    sent = service.send_digests()
    session.commit()
    return sent


jobs.periodic("notify-reminders", notify_reminders, hour="6", minute="10")
jobs.periodic("notification-digest", daily_digest, hour="17", minute="30")


def recipient_status(recipient_id: int | None, code: str, label: str, organ_name: str, key: str) -> int:
    """A recipient outside answered (through the axis): the drafter of the document hears of it."""
    from portal.drafts.models import Recipient

    recipient = session.get(Recipient, recipient_id) if recipient_id else None
    draft = session.get(Draft, recipient.draft_id) if recipient else None
    if draft is None:
        return 0
    return service.notify([draft.drafter_id], "recipient_status",
                          f"{organ_name or recipient.name}: {label} ({code}) — {_subject(draft.subject)}",
                          _draft_url(draft), f"status.{key}")
