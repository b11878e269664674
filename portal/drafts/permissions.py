"""Who sees a draft and who may act on it: the predicates the transition table (``drafts.workflow``),
the lists and the pages read. No Flask here; nothing in the views decides permissions.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select

from portal.auth.models import Role, User
from portal.db import session
from portal.drafts.models import CommentInvite, CommentRound, Draft, DraftEvent, DraftStatus
from portal.errors import NotAllowed, NotFound

S = DraftStatus
DRAFTING_ROLES = (Role.OFFICER, Role.UNIT_HEAD, Role.AGENCY_LEADER, Role.CLERK)


class WrongStep(NotAllowed):
    """The draft is not at a step where this action is possible (403 with the reason)."""


def org_id(user: User) -> int:
    if user.organisation is None:
        raise NotAllowed("drafts.access", "Bạn chưa có chức vụ đang hiệu lực.")
    return user.organisation.id


def _of_org(user: User, draft: Draft) -> bool:
    return user.organisation is not None and draft.organisation_id == user.organisation.id


def can_create(user: User) -> bool:
    return user.organisation is not None and user.has_role(*DRAFTING_ROLES)


def is_drafter(user: User, draft: Draft) -> bool:
    return draft.drafter_id == user.id


def is_holder(user: User, draft: Draft) -> bool:
    return draft.holder_id is not None and draft.holder_id == user.id


def is_clerk(user: User, draft: Draft) -> bool:
    return user.has_role(Role.CLERK) and _of_org(user, draft)


def is_format_checker(user: User, draft: Draft) -> bool:
    return user.has_role(Role.FORMAT_CHECKER) and _of_org(user, draft)


def may_send_back(user: User, draft: Draft) -> bool:
    """The holder; at the format check any format checker of the organisation."""
    return is_format_checker(user, draft) if draft.status == S.FORMAT_CHECK else is_holder(user, draft)


def may_recall(user: User, draft: Draft) -> bool:
    return is_clerk(user, draft) or (user.has_role(Role.AGENCY_LEADER) and _of_org(user, draft))


def has_open_invite(user: User, draft: Draft) -> bool:
    return session.execute(select(CommentInvite.id).join(CommentRound, CommentRound.id == CommentInvite.round_id)
                           .where(CommentRound.draft_id == draft.id, CommentRound.closed_at.is_(None),
                                  CommentInvite.user_id == user.id, CommentInvite.answered_at.is_(None))
                           .limit(1)).first() is not None


def has_open_round(user: User, draft: Draft) -> bool:
    return session.execute(select(CommentRound.id).where(
        CommentRound.draft_id == draft.id, CommentRound.closed_at.is_(None), CommentRound.asked_by_id == user.id)
        .limit(1)).first() is not None


def may_close(user: User, round_: CommentRound) -> bool:
    """Whoever asked may end the round while it is open."""
    return round_.closed_at is None and round_.asked_by_id == user.id


# --- visibility -----------------------------------------------------------------------------------------

def visible_clause(user: User) -> ColumnElement[bool]:
    """Who sees a draft: its drafter and everyone who has held it or been asked for comments;
    the organisation's clerks once it is signed; the organisation's agency leaders always."""
    d = Draft
    own = d.organisation_id == org_id(user)
    if user.has_role(Role.AGENCY_LEADER):
        return own
    participant = or_(
        d.drafter_id == user.id,
        d.holder_id == user.id,
        d.signer_id == user.id,
        exists().where(DraftEvent.draft_id == d.id, DraftEvent.actor_id == user.id),
        exists().where(CommentRound.draft_id == d.id, CommentInvite.round_id == CommentRound.id,
                       CommentInvite.user_id == user.id),
    )
    if user.has_role(Role.CLERK):
        participant = or_(participant, d.status.in_([S.SIGNED, S.ISSUED, S.RECALLED]))
    if user.has_role(Role.FORMAT_CHECKER):
        participant = or_(participant, d.status == S.FORMAT_CHECK)
    return and_(own, participant)


def get_visible(user: User, draft_id: int) -> Draft:
    draft = session.execute(select(Draft).where(Draft.id == draft_id, visible_clause(user))).scalar_one_or_none()
    if draft is None:
        raise NotFound()
    return draft
