"""What drafts put in people's inbox "Việc của tôi" (issue 18 item 1), declared to ``portal.inbox``: the
action queues of the draft list (``queries.QUEUES``) with the same slugs, so the list's tabs, the menu badge
and the inbox read the same counters. No Flask here."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import Role
from portal.drafts.common import OPEN
from portal.drafts.models import CommentInvite, CommentRound, Draft, DraftStatus
from portal.drafts.workflow import FLOW
from portal.inbox.registry import ORG, USER, Item, QueueInfo, Source, register
from portal.timeutil import to_local

D, S = Draft, DraftStatus

QUEUES = {q.key: q for q in (
    QueueInfo("draft.cho-y-kien", "Cho ý kiến dự thảo", actions=("answer",)),
    QueueInfo("draft.cho-duyet", "Duyệt dự thảo", actions=("approve", "send_back", "forward")),
    QueueInfo("draft.cho-the-thuc", "Kiểm tra thể thức", frozenset({Role.FORMAT_CHECKER}),
              actions=("format_ok", "send_back")),
    QueueInfo("draft.cho-ky", "Ký văn bản", actions=("sign", "sign_external", "send_back")),
    QueueInfo("draft.cho-phat-hanh", "Phát hành văn bản", frozenset({Role.CLERK}), actions=("issue", "refuse_issue")),
)}


def items(db: Session, ids: Collection[int]) -> Iterator[Item]:
    drafts = db.execute(select(D.id, D.organisation_id, D.status, D.holder_id, D.urgency, D.subject, D.due_date,
                               D.issue_due_at).where(D.id.in_(ids))).all()
    invites: dict[int, list] = {}  # type: ignore[type-arg]
    open_ids = [d.id for d in drafts if d.status in OPEN]
    if open_ids:
        for row in db.execute(select(CommentRound.draft_id, CommentRound.deadline, CommentInvite.user_id)
                              .join(CommentInvite, CommentInvite.round_id == CommentRound.id)
                              .where(CommentRound.draft_id.in_(open_ids), CommentRound.closed_at.is_(None),
                                     CommentInvite.answered_at.is_(None))):
            invites.setdefault(row.draft_id, []).append(row)
    for d in drafts:
        common = {"subject_id": d.id, "urgency": int(d.urgency or 0), "title": d.subject, "reference": ""}
        if d.status == S.UNIT_REVIEW and d.holder_id is not None:
            yield Item(owner_kind=USER, owner_id=d.holder_id, queue="draft.cho-duyet", due_day=d.due_date, **common)
        elif d.status == S.FORMAT_CHECK:
            yield Item(owner_kind=ORG, owner_id=d.organisation_id, queue="draft.cho-the-thuc", due_day=d.due_date,
                       **common)
        elif d.status == S.SIGNING and d.holder_id is not None:
            yield Item(owner_kind=USER, owner_id=d.holder_id, queue="draft.cho-ky", due_day=d.due_date, **common)
        elif d.status == S.SIGNED:
            due_day = to_local(d.issue_due_at).date() if d.issue_due_at is not None else None
            yield Item(owner_kind=ORG, owner_id=d.organisation_id, queue="draft.cho-phat-hanh", due_at=d.issue_due_at,
                       due_day=due_day, **common)
        for invite in invites.get(d.id, ()):
            yield Item(owner_kind=USER, owner_id=invite.user_id, queue="draft.cho-y-kien", due_day=invite.deadline,
                       **common)


def candidates(db: Session) -> Iterator[int]:
    return iter(db.scalars(select(D.id).where(D.status.in_(OPEN))).all())


def _round_draft(db: Session, invite: CommentInvite) -> int | None:
    found = db.get(CommentRound, invite.round_id) if invite.round_id is not None else None
    return found.draft_id if found is not None else None


SOURCE = register(Source(
    name="draft", label="Dự thảo", model=D, queues=QUEUES,
    watch={D: lambda db, d: d.id, CommentRound: lambda db, r: r.draft_id, CommentInvite: _round_draft},
    items=items, candidates=candidates, endpoint="drafts.draft", id_arg="draft_id", steps=frozenset(FLOW.transitions),
))
