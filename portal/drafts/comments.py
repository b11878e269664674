"""Xin ý kiến (SPEC §6.2): rounds of comments on the current version, answers, the summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal.auth.models import Position, User
from portal.db import session
from portal.drafts import common
from portal.drafts import permissions as perm
from portal.drafts.models import Answer, CommentInvite, CommentRound, Draft
from portal.drafts.workflow import guard, when
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.text import nfc
from portal.timeutil import local_today
from portal.workdays import deadlines
from portal.workflow import AlreadyDone


def ask_comments(drafter: User, draft: Draft, user_ids: list[int], question: str,
                 deadline: date | None, *, deadline_days: int | None = None) -> CommentRound:
    """A round of comments; the deadline is a date, or ``deadline_days`` working days from today."""
    draft = guard(drafter, "ask", draft)
    errors = {}
    try:
        deadline = deadlines.resolve(deadline, deadline_days, "deadline", local_today())
    except ValidationFailed as exc:
        errors.update(exc.errors)
    question = (nfc(question) or "").strip()
    if not question:
        errors["question"] = "Hãy ghi nội dung xin ý kiến."
    elif len(question) > 1000:
        errors["question"] = "Nội dung tối đa 1.000 ký tự."
    people = sorted(set(user_ids) - {drafter.id})
    if not people:
        errors["people"] = "Hãy chọn ít nhất một người cho ý kiến."
    for uid in people:
        member = session.execute(select(Position.id).where(Position.user_id == uid,
                                                           Position.organisation_id == draft.organisation_id)).first()
        if member is None:
            errors["people"] = "Chỉ xin ý kiến người trong cơ quan."
    if deadline is not None and deadline < local_today():
        errors["deadline"] = "Hạn cho ý kiến không thể trước hôm nay."
    if errors:
        raise ValidationFailed(errors)
    _not_asked_already(draft, drafter, question, people)
    round_ = CommentRound(draft_id=draft.id, version_number=draft.current_version, question=question,
                          deadline=deadline, asked_by_id=drafter.id, asked_at=common.now())
    session.add(round_)
    session.flush()
    session.add_all(CommentInvite(round_id=round_.id, user_id=uid) for uid in people)
    session.flush()
    names = ", ".join(session.get(User, uid).full_name for uid in people)  # type: ignore[union-attr]
    common.event(draft, drafter, "ask",
                 f"{question} (gửi {names}" + (f", hạn {deadline:%d/%m/%Y})" if deadline else ")"))
    return round_


def _not_asked_already(draft: Draft, drafter: User, question: str, people: list[int]) -> None:
    """A round still open with the same question to the same people is this request's twin (a
    double click, a resubmitted form): nothing is asked twice."""
    for round_ in session.execute(select(CommentRound).where(
            CommentRound.draft_id == draft.id, CommentRound.asked_by_id == drafter.id,
            CommentRound.closed_at.is_(None), CommentRound.question == question)).scalars():
        invited = sorted(session.execute(select(CommentInvite.user_id)
                                         .where(CommentInvite.round_id == round_.id)).scalars())
        if invited == people:
            raise AlreadyDone(f"Đã xin ý kiến “{question[:80]}” {when(round_.asked_at, drafter.full_name)}.",
                              action="drafts.ask")


def answer(user: User, draft: Draft, invite_id: int, value: str, text: str) -> None:
    draft = guard(user, "answer", draft)
    invite = session.get(CommentInvite, invite_id)
    round_ = session.get(CommentRound, invite.round_id) if invite else None
    if invite is None or round_ is None or round_.draft_id != draft.id:
        raise NotFound()
    if invite.user_id != user.id:
        raise NotAllowed("drafts.answer", "Bạn không được xin ý kiến ở lượt này.")
    if round_.closed_at is not None:
        raise perm.WrongStep("drafts.answer", "Lượt xin ý kiến đã kết thúc.")
    if invite.answered_at is not None:
        raise perm.WrongStep("drafts.answer", "Bạn đã cho ý kiến ở lượt này.")
    errors = {}
    if value not in {a.value for a in Answer}:
        errors["answer"] = "Hãy chọn Đồng ý, Không đồng ý hoặc Ý kiến khác."
    text = (nfc(text) or "").strip()
    if not text:
        errors["text"] = "Hãy ghi nội dung ý kiến."
    elif len(text) > 1000:
        errors["text"] = "Ý kiến tối đa 1.000 ký tự."
    if errors:
        raise ValidationFailed(errors)
    invite.answer, invite.text, invite.answered_at = Answer(value), text, common.now()
    session.flush()
    common.event(draft, user, "answer", f"{Answer(value).label}: {text}")


def close_round(drafter: User, draft: Draft, round_id: int) -> None:
    draft = guard(drafter, "close_round", draft)
    round_ = session.get(CommentRound, round_id)
    if round_ is None or round_.draft_id != draft.id:
        raise NotFound()
    if round_.asked_by_id != drafter.id:
        raise NotAllowed("drafts.close_round", "Chỉ người xin ý kiến được kết thúc lượt này.")
    if round_.closed_at is not None:
        raise perm.WrongStep("drafts.close_round", "Lượt xin ý kiến đã kết thúc.")
    round_.closed_at = common.now()
    common.event(draft, drafter, "close_round")


@dataclass
class RoundSummary:
    round: CommentRound
    invites: list[tuple[CommentInvite, User]]
    counts: dict[str, int]


def comment_rounds(draft: Draft) -> list[RoundSummary]:
    """The drafter's summary: each round with every answer and the count per answer."""
    rounds = session.execute(select(CommentRound).where(CommentRound.draft_id == draft.id)
                             .order_by(CommentRound.id)).scalars().all()
    rows = session.execute(select(CommentInvite, User).join(User, User.id == CommentInvite.user_id)
                           .join(CommentRound, CommentRound.id == CommentInvite.round_id)
                           .where(CommentRound.draft_id == draft.id).order_by(CommentInvite.id)).all()
    result = []
    for r in rounds:
        invites = [(i, u) for i, u in rows if i.round_id == r.id]
        counts = {a.label: sum(1 for i, _ in invites if i.answer == a) for a in Answer}
        counts["Chưa trả lời"] = sum(1 for i, _ in invites if i.answer is None)
        result.append(RoundSummary(r, invites, counts))
    return result


def my_open_invites(user: User, draft: Draft) -> list[CommentInvite]:
    return list(session.execute(
        select(CommentInvite).join(CommentRound, CommentRound.id == CommentInvite.round_id)
        .where(CommentRound.draft_id == draft.id, CommentRound.closed_at.is_(None), CommentInvite.user_id == user.id,
               CommentInvite.answered_at.is_(None)).order_by(CommentRound.id, CommentInvite.id)).scalars())
