"""The draft's transition table (SPEC §6; STYLE §6): state × action → who may act, the next state,
the title, and what to say when the step has already happened. The service guard (``guard``), the
actions the draft page offers (``allowed``) and the permission and concurrency tests all read it.

========================  ======================  ===============================================
action                    from                    who
========================  ======================  ===============================================
version, details, ask     DRAFT                   the drafter (the state stays)
submit                    DRAFT                   the drafter → unit head (or format check)
cancel                    DRAFT                   the drafter → CANCELLED (never numbered)
approve                   UNIT_REVIEW             the unit head holding it → FORMAT_CHECK
format_ok                 FORMAT_CHECK            a format checker of the organisation → SIGNING
send_back                 UNIT_REVIEW, FORMAT_    the holder (any format checker at FORMAT_CHECK)
                          CHECK, SIGNING          → DRAFT, comment mandatory
forward                   SIGNING                 the signer holding it → another leader
sign, sign_external       SIGNING                 the signer holding it (password re-entered)
refuse_issue              SIGNED                  a clerk → SIGNING (back to the signer)
issue                     SIGNED                  a clerk: number, date, seal, delivery → ISSUED
recall                    ISSUED                  a clerk or agency leader → RECALLED
answer                    any                     a person with an open invitation to comment
close_round               any                     whoever asked, while the round is open
========================  ======================  ===============================================

A step's ``done`` reads the draft's history: the step already happened when, walking back from the
newest event, its own event comes before any event that put the draft (back) into the step's start
state. Then a repeated request is told what happened instead of being refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from portal.auth.models import User
from portal.db import session
from portal.documents.models import OutgoingDocument
from portal.drafts import permissions as perm
from portal.drafts.models import Draft, DraftEvent, DraftStatus
from portal.errors import NotAllowed
from portal.timeutil import to_local
from portal.workflow import AlreadyDone, Transition, Workflow, preference, relock, step

S = DraftStatus
ALL = frozenset(S)


def _events(draft: Draft) -> list[DraftEvent]:
    return list(session.execute(select(DraftEvent).where(DraftEvent.draft_id == draft.id)
                                .order_by(DraftEvent.id.desc())).scalars())


def when(at: datetime, who: str) -> str:
    """"lúc 09:12 ngày 05/03/2026 bởi Lê Văn A": when and by whom a step happened."""
    return f"lúc {to_local(at):%H:%M} ngày {to_local(at):%d/%m/%Y} bởi {who}"


def _when(event: DraftEvent) -> str:
    return when(event.at, event.actor_name)


def happened(draft: Draft, actions: set[str], frm: frozenset[S]) -> DraftEvent | None:
    """This step's newest event, if nothing put the draft back where the step starts since."""
    for event in _events(draft):
        if event.action in actions:
            return event
        if event.status in {s.value for s in frm}:
            return None
    return None


def _said(what: str, *actions: str, frm: frozenset[S]) -> Callable[[Any, Draft], str | None]:
    def done(user: User, draft: Draft) -> str | None:
        event = happened(draft, set(actions), frm)
        return f"{what} {_when(event)}." if event else None
    return done


def _issued(user: User, draft: Draft) -> str | None:
    event = happened(draft, {"issue"}, frozenset({S.SIGNED}))
    out = session.get(OutgoingDocument, draft.outgoing_id) if draft.outgoing_id else None
    if event is None or out is None:
        return None
    return f"Văn bản đã được cấp số {out.code_number}/{out.code_notation} và phát hành {_when(event)}."


def _forwarded(user: User, draft: Draft) -> str | None:
    """The state stays at SIGNING: the person's own forward, newer than anything that gave it back."""
    if perm.is_holder(user, draft):
        return None
    for event in _events(draft):
        if event.action == "forward" and event.actor_id == user.id:
            return f"Dự thảo đã được {(event.text or 'chuyển lãnh đạo khác').lower()} {_when(event)}."
        if event.action in ("format_ok", "refuse_issue", "send_back"):
            return None
    return None


def _answered(user: User, draft: Draft) -> str | None:
    if perm.has_open_invite(user, draft):
        return None
    event = next((e for e in _events(draft) if e.action == "answer" and e.actor_id == user.id), None)
    return f"Bạn đã cho ý kiến {_when(event)}." if event else None


def _closed(user: User, draft: Draft) -> str | None:
    if perm.has_open_round(user, draft):
        return None
    event = next((e for e in _events(draft) if e.action == "close_round" and e.actor_id == user.id), None)
    return f"Lượt xin ý kiến đã được kết thúc {_when(event)}." if event else None


def _open_invite(user: User, draft: Draft) -> bool:
    return perm.has_open_invite(user, draft)


def _open_round(user: User, draft: Draft) -> bool:
    return perm.has_open_round(user, draft)


DRAFT = frozenset({S.DRAFT})
REVIEW = frozenset({S.UNIT_REVIEW, S.FORMAT_CHECK, S.SIGNING})
DRAFTER = "Chỉ người soạn thảo được thực hiện bước này."
HOLDER = "Bạn không phải người đang giữ dự thảo ở bước này."
ISSUING = "Chỉ văn thư của cơ quan được thực hiện bước này."


class DraftWorkflow(Workflow[Draft]):
    """The table's guard, with two refinements the drafts need:

    - a step whose state stays (forward, answer, close_round) is "done" when the person no longer
      may act because they already did: the repeat is told so rather than refused;
    - a wrong state is ``WrongStep`` (a NotAllowed), as the services always said."""

    def guard(self, user: Any, action: str, obj: Draft) -> Transition:
        t = self.transitions[action]
        if self.open(action, obj) and t.done and not t.who(user, obj):
            already = t.done(user, obj)
            if already:
                raise AlreadyDone(already, action=f"{self.name}.{action}")
        try:
            return super().guard(user, action, obj)
        except AlreadyDone:
            raise
        except NotAllowed as exc:
            if not self.open(action, obj):
                raise perm.WrongStep(exc.action, f"Dự thảo đang ở bước “{obj.status.label}”, không thể "
                                                 f"“{t.title.lower()}”.") from None
            raise


FLOW = DraftWorkflow("drafts", {t.action: t for t in (
    step("version", "Cập nhật dự thảo (phiên bản mới)", DRAFT, perm.is_drafter, S.DRAFT,
         refusal="Chỉ người soạn thảo được cập nhật dự thảo."),
    step("details", "Sửa thông tin và nơi nhận", DRAFT, perm.is_drafter, S.DRAFT,
         refusal="Chỉ người soạn thảo được sửa dự thảo."),
    step("ask", "Xin ý kiến", DRAFT, perm.is_drafter, S.DRAFT, refusal="Chỉ người soạn thảo được xin ý kiến."),
    step("submit", "Trình duyệt", DRAFT, perm.is_drafter, S.UNIT_REVIEW,
         done=_said("Dự thảo đã được trình", "submit", frm=DRAFT),
         refusal="Chỉ người soạn thảo được trình dự thảo."),
    step("cancel", "Hủy dự thảo", DRAFT, perm.is_drafter, S.CANCELLED,
         done=_said("Dự thảo đã được hủy", "cancel", frm=DRAFT), refusal="Chỉ người soạn thảo được hủy dự thảo."),
    step("approve", "Duyệt", {S.UNIT_REVIEW}, perm.is_holder, S.FORMAT_CHECK,
         done=_said("Dự thảo đã được duyệt", "approve", frm=frozenset({S.UNIT_REVIEW})), refusal=HOLDER),
    step("format_ok", "Kiểm tra thể thức", {S.FORMAT_CHECK}, perm.is_format_checker, S.SIGNING,
         done=_said("Dự thảo đã được xác nhận đạt thể thức", "format_ok", frm=frozenset({S.FORMAT_CHECK})),
         refusal="Chỉ người kiểm tra thể thức của cơ quan được xác nhận."),
    step("send_back", "Trả lại", REVIEW, perm.may_send_back, S.DRAFT,
         done=_said("Dự thảo đã được trả lại người soạn thảo", "send_back", frm=REVIEW), refusal=HOLDER),
    step("forward", "Chuyển lãnh đạo khác", {S.SIGNING}, perm.is_holder, S.SIGNING, done=_forwarded,
         refusal=HOLDER),
    step("sign", "Ký số", {S.SIGNING}, perm.is_holder, S.SIGNED,
         done=_said("Văn bản đã được ký số", "sign", "sign_external", frm=frozenset({S.SIGNING})), refusal=HOLDER),
    step("sign_external", "Ký bằng thiết bị riêng (USB token)", {S.SIGNING}, perm.is_holder, S.SIGNED,
         done=_said("Văn bản đã được ký số", "sign", "sign_external", frm=frozenset({S.SIGNING})), refusal=HOLDER),
    step("refuse_issue", "Trả lại người ký", {S.SIGNED}, perm.is_clerk, S.SIGNING,
         done=_said("Văn bản đã được trả lại người ký", "refuse_issue", frm=frozenset({S.SIGNED})),
         refusal="Chỉ văn thư của cơ quan được trả lại văn bản đã ký."),
    step("issue", "Cấp số và phát hành", {S.SIGNED}, perm.is_clerk, S.ISSUED, done=_issued,
         refusal="Chỉ văn thư của cơ quan được cấp số và phát hành."),
    step("recall", "Thu hồi văn bản", {S.ISSUED}, perm.may_recall, S.RECALLED,
         done=_said("Văn bản đã được thu hồi", "recall", frm=frozenset({S.ISSUED})),
         refusal="Chỉ văn thư hoặc lãnh đạo cơ quan được thu hồi văn bản."),
    step("answer", "Cho ý kiến", ALL, _open_invite, None, done=_answered,
         refusal="Bạn không có lượt xin ý kiến đang mở với dự thảo này."),
    step("close_round", "Kết thúc xin ý kiến", ALL, _open_round, None, done=_closed,
         refusal="Chỉ người xin ý kiến được kết thúc lượt đang mở."),
)})


def guard(user: User, action: str, draft: Draft) -> Draft:
    """Every step starts here: the draft locked and re-read (pending changes flushed first), then the
    table's guard. Returns the locked draft (the same object)."""
    session.flush()
    locked = relock(session(), draft)
    FLOW.guard(user, action, locked)
    return locked


def allowed(user: User, draft: Draft) -> set[str]:
    return FLOW.allowed(user, draft)


# The page's main button: the first of these the person may take (issue 18.3); the others go in
# "Thao tác khác". Each holder's forward step (trình, duyệt, đạt thể thức, ký, phát hành), then an
# answer asked of them, then the drafter's edits, the side roads, and what cannot be undone last
# (recall and cancel open only when asked, even as the main button).
PREFERENCE = preference((
    "submit", "approve", "format_ok", "sign", "issue", "answer", "close_round", "version", "details", "ask",
    "sign_external", "forward", "send_back", "refuse_issue", "recall", "cancel"), FLOW.transitions,
    ask_first={"recall", "cancel"})
primary_action, ranked_actions = PREFERENCE.primary, PREFERENCE.ranked
