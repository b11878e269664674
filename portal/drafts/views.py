"""The draft page, the new-draft form and one short form per step (SPEC §6).

Every step runs on ``portal.steps.run_step``: the visible draft (404), locked and re-read; the
transition table's guard (``drafts.workflow``: 403, or the AlreadyDone notice for a repeat); the form
→ **one** service call → back to the page. A broken rule re-renders that step's form with its
message (422); the service guards again and writes history and audit. No permission rule lives here:
the steps the page offers are the table's ``allowed``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal import once, storage, viewer
from portal.auth import services as auth_services
from portal.auth import views as auth_views
from portal.auth.forms import EmptyForm
from portal.auth.models import User
from portal.db import session
from portal.documents.models import OutgoingDocument, Urgency
from portal.drafts import bp, file_views, services
from portal.drafts.forms import (
    OUTSIDE_METHODS,
    AnswerForm,
    AskForm,
    CommentForm,
    DetailsForm,
    ExternalSignForm,
    FormatForm,
    IssueForm,
    LeaderForm,
    NewDraftForm,
    NoteForm,
    ReasonForm,
    RecipientRow,
    SignForm,
    VersionForm,
    int_or_none,
    recipient_rows,
)
from portal.drafts.models import CommentInvite, Draft, DraftStatus
from portal.drafts.workflow import PREFERENCE, ranked_actions
from portal.errors import NotFound, ValidationFailed
from portal.incoming import services as incoming
from portal.orgs.models import Organisation
from portal.params import Id, args, query
from portal.steps import StepView, put_errors, run_step
from portal.web import client_redirect, flash_ok, render

S = DraftStatus


STEPS = {
    "submit": StepView(NoteForm, "_step_note.html", "Trình duyệt", "drafts.submit"),
    "approve": StepView(NoteForm, "_step_note.html", "Duyệt", "drafts.approve"),
    "format_ok": StepView(FormatForm, "_step_format.html", "Kiểm tra thể thức", "drafts.format_ok"),
    "sign": StepView(SignForm, "_step_sign.html", "Ký số", "drafts.sign"),
    "sign_external": StepView(ExternalSignForm, "_step_external.html", "Ký bằng thiết bị riêng (USB token)",
                              "drafts.sign_external"),
    "forward": StepView(LeaderForm, "_step_leader.html", "Chuyển lãnh đạo khác", "drafts.forward"),
    "issue": StepView(IssueForm, "_step_issue.html", "Cấp số và phát hành", "drafts.issue"),
    "send_back": StepView(CommentForm, "_step_comment.html", "Trả lại", "drafts.send_back"),
    "refuse_issue": StepView(ReasonForm, "_step_reason.html", "Trả lại người ký", "drafts.refuse_issue"),
    "version": StepView(VersionForm, "_step_version.html", "Cập nhật dự thảo (phiên bản mới)", "drafts.add_version"),
    "ask": StepView(AskForm, "_step_ask.html", "Xin ý kiến", "drafts.ask"),
    "details": StepView(DetailsForm, "_step_details.html", "Sửa thông tin và nơi nhận", "drafts.edit"),
    "recall": StepView(ReasonForm, "_step_reason.html", "Thu hồi văn bản", "drafts.recall"),
    "cancel": StepView(ReasonForm, "_step_reason.html", "Hủy dự thảo", "drafts.cancel"),
}


# Cho ý kiến is a step of the page's panel too (issue 18.3): a person whose only step is to answer gets
# it as the main button, otherwise in "Thao tác khác" where ``PREFERENCE`` puts it. Its partial holds
# one form per open invitation, each posted to ``answer`` with the invitation in the URL; so it is not
# in STEPS, whose forms are one per step and post to the draft. Kết thúc xin ý kiến likewise: one form
# per open round the person asked, posted to ``close_round`` with the round in the URL; once the draft
# has left the drafter it may be their only step.
PANEL = {**STEPS, "answer": StepView(AnswerForm, "_step_answers.html", "Cho ý kiến", "drafts.answer"),
         "close_round": StepView(EmptyForm, "_step_close_rounds.html", "Kết thúc xin ý kiến", "drafts.close_round")}


def available_steps(user: User, draft: Draft) -> list[str]:
    """The step forms the page shows: the table's allowed actions, in the page's order."""
    allowed = services.allowed(user, draft)
    return [name for name in STEPS if name in allowed]


# --- page helpers ------------------------------------------------------------------------------------

def _index_url() -> str | None:
    return url_for("drafts.index") if "drafts.index" in current_app.view_functions else None


def _crumbs(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    crumbs = [("Trang chủ", url_for("main.dashboard"))]
    if _index_url():
        crumbs.append(("Dự thảo", _index_url()))
    return [*crumbs, *extra]


def _title(draft: Draft, out: OutgoingDocument | None) -> str:
    if out is not None:
        return f"Văn bản {out.code_number}/{out.code_notation}"
    return f"Dự thảo số {draft.id}"


def _fresh_form(step: str, draft: Draft) -> FlaskForm:
    if step == "details":
        form = DetailsForm(prefix=step, formdata=None, obj=draft)
        form.offer(incoming.document_types())
        return form
    form = STEPS[step].form(prefix=step, formdata=None)
    if step == "issue":
        form.offer(services.outgoing_books(draft.organisation_id))  # type: ignore[attr-defined]
    return form


def _attachments(draft: Draft, versions: list) -> dict[int, list]:  # type: ignore[type-arg]
    by_version = services.attachments_by_version(draft)
    return {v.number: by_version.get(v.number, []) for v in versions}


def _holder_text(draft: Draft) -> str:
    if draft.holder_id:
        holder = session.get(User, draft.holder_id)
        return holder.full_name if holder else "—"
    return {S.FORMAT_CHECK: "Người kiểm tra thể thức", S.SIGNED: "Văn thư cơ quan"}.get(draft.status, "—")


def _recipient_rows_of(draft: Draft) -> list[RecipientRow]:
    return [RecipientRow(r.organisation_id, r.name, r.method.value, r.address or "")
            for r in services.recipients_of(draft)]


def _page(draft: Draft, status: int = 200, *, step: str | None = None, form: FlaskForm | None = None,
          fragment: str | None = None, **extra: object):  # type: ignore[no-untyped-def]
    """The draft page; after a refused step, that step's form (or, for htmx, only its partial)."""
    forms = {name: _fresh_form(name, draft) for name in available_steps(current_user, draft)}
    if step in forms and form is not None:
        forms[step] = form
    invites = services.my_open_invites(current_user, draft)
    answer_forms = {i.id: AnswerForm(prefix=f"answer{i.id}", formdata=None) for i in invites}
    if step == "answer" and form is not None:
        answer_forms[extra["invite_id"]] = form  # type: ignore[index]
    rounds = services.comment_rounds(draft)
    close_forms = {r.round.id: EmptyForm(prefix=f"close{r.round.id}", formdata=None) for r in rounds
                   if services.may_close(current_user, r.round)}
    out = session.get(OutgoingDocument, draft.outgoing_id) if draft.outgoing_id else None
    versions = services.versions(draft)
    context = {"rows": _recipient_rows_of(draft), **extra}
    panel = [*forms, *(["answer"] if invites else []), *(["close_round"] if close_forms else [])]
    if fragment is None and step in STEPS:
        fragment = f"drafts/{STEPS[step].template}"
    return render(
        "drafts/draft.html", fragment, status, draft=draft, forms=forms, steps=PANEL, step=step,
        ranked=ranked_actions(panel), ask_first=PREFERENCE.ask_first,
        holder=_holder_text(draft), drafter=session.get(User, draft.drafter_id),
        signer=session.get(User, draft.signer_id) if draft.signer_id else None,
        reply_to=_visible_incoming(draft.reply_to_id), versions=versions,
        attachments=_attachments(draft, versions),
        recipients=services.recipients_of(draft), rounds=rounds, invites=invites, answer_forms=answer_forms,
        close_forms=close_forms, history=services.history(draft), action_labels=services.ACTION_LABELS,
        outgoing=out, statuses=services.recipient_statuses(draft) if out else [],
        failed_sending=services.failed_sending(draft) if out and services.is_clerk(current_user, draft) else 0,
        preview=_preview(draft),
        placement_url=url_for("drafts.placement_preview", draft_id=draft.id, page=1)
        if (draft.frozen_sha256 or draft.signed_sha256) and not draft.outgoing_id else None,
        resend_form=EmptyForm(prefix="resend", formdata=None),
        urgency_label=Urgency(int(draft.urgency or 0)).label, methods=OUTSIDE_METHODS,
        checklist=services.FORMAT_CHECKLIST, ticked=(draft.format_checklist or "").split(","),
        sign_key=services.signing_key_of(current_user) if "sign" in forms else None,
        breadcrumbs=_crumbs((_title(draft, out), url_for("drafts.draft", draft_id=draft.id))), **context)


def _preview(draft: Draft) -> dict[str, object] | None:
    """The pages of what the draft page shows, for the viewer beside the actions."""
    shown = file_views.shown_file(draft)
    if shown is None:
        return None
    kind, sha, title = shown
    try:
        count = viewer.page_count(sha)
    except viewer.PreviewUnavailable as exc:
        return {"title": title, "pages": [], "count": 0, "download": None, "note": str(exc)}
    return {"title": title, "count": count, "pages": list(range(1, min(count, viewer.MAX_PAGES) + 1)),
            "download": None, "note": None,
            "url": lambda n: url_for("drafts.page_image", draft_id=draft.id, kind=kind, page=n)}


def _visible_incoming(doc_id: int | None):  # type: ignore[no-untyped-def]
    if doc_id is None:
        return None
    try:
        return incoming.get_visible(current_user, doc_id)
    except NotFound:
        return None


def _uploads(files: list | None) -> list[services.Upload]:  # type: ignore[type-arg]
    """Browsers send one empty part for an untouched file input; that is not a file."""
    return [services.Upload(f.filename, f.stream) for f in files or [] if f and f.filename]


def _main_upload(file) -> services.Upload:  # type: ignore[no-untyped-def]
    return services.Upload(file.filename if file else "", file.stream if file else b"")


def _signer_id() -> int | None:
    return int_or_none(request.form.get("details-signer_id") or request.form.get("signer_id"))


def _act(draft_id: int, step: str, call: Callable[[Draft, FlaskForm], object], done: str):  # type: ignore[no-untyped-def]
    """One step on the step machine (``portal.steps.run_step``). ``call`` returning False is a wrong
    password: 422 *without* rolling back, so the counted failure and its audit row stay. A directory
    outage while checking the password is a 422 with nothing counted."""
    def guarded_call(draft: Draft, form: FlaskForm) -> object:
        try:
            return call(draft, form)
        except auth_services.DirectoryDown as exc:
            raise ValidationFailed({"password": str(exc)}) from exc

    def prepare(draft: Draft, form: FlaskForm) -> None:
        if step == "details":
            form.offer(incoming.document_types())  # type: ignore[attr-defined]
        if step == "issue":
            form.offer(services.outgoing_books(draft.organisation_id))  # type: ignore[attr-defined]

    return run_step(
        workflow=services.FLOW, action=step, user=current_user,
        load=lambda: services.get_visible(current_user, draft_id), form=STEPS[step].form(prefix=step),
        call=guarded_call, prepare=prepare, done=done, back=_back_to, url=_draft_url,
        page=lambda d, status, **kw: _page(d, status, **kw, **_typed_rows(step)),
        failed={"password": "Mật khẩu không đúng; văn bản chưa được ký."})


def _draft_url(draft: Draft) -> str:
    return url_for("drafts.draft", draft_id=draft.id)


def _typed_rows(step: str) -> dict[str, object]:
    """What the pickers held, with names, after a refused form: recipients and signer, or the
    people asked for comments."""
    if step == "ask":
        return {"asked_people": [u for u in map(_person, map(int_or_none, request.form.getlist("people"))) if u]}
    if step != "details":
        return {}
    return {"rows": _named(recipient_rows(request.form)[1]), "chosen_signer": _person(_signer_id())}


def _named(rows: list[RecipientRow]) -> list[RecipientRow]:
    for row in rows:
        if row.organisation_id is not None:
            org = session.get(Organisation, row.organisation_id)
            row.name = org.name if org else "?"
    return rows


def _person(user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id else None


def _back_to(draft: Draft) -> str:
    """The draft again, unless this step took it out of the person's sight."""
    try:
        services.get_visible(current_user, draft.id)
    except NotFound:
        return _index_url() or url_for("main.dashboard")
    return url_for("drafts.draft", draft_id=draft.id)


def _client() -> object:
    return auth_views.client()


# --- new draft -------------------------------------------------------------------------------------------

@bp.route("/moi", methods=["GET", "POST"])
@login_required
@query(Id("tra_loi", "Văn bản đến được trả lời"), Id("dinh_chinh", "Văn bản được đính chính"),
       Id("thay_the", "Văn bản được thay thế"))
def new():
    """Soạn dự thảo; ?tra_loi=<văn bản đến> starts a reply, ?dinh_chinh= / ?thay_the=<văn bản
    đi> a correction or replacement of an issued document."""
    if not services.can_create(current_user):
        abort(403)
    form = NewDraftForm()
    form.offer(incoming.document_types())
    specs, rows = recipient_rows(request.form)
    if not form.is_submitted():
        _prefill(form)
    elif form.validate_on_submit():
        token = request.form.get(once.FIELD)
        made = once.claim(current_user.id, token, "drafts.new")
        if made is not None:  # this very form already created a draft (double click, resubmission)
            flash("Biểu mẫu này đã tạo dự thảo trước đó; không tạo thêm dự thảo mới.", "info")
            return client_redirect(url_for("drafts.draft", draft_id=made))
        try:
            draft = services.create(current_user, form.draft_data(
                _signer_id(), replaces_id=int_or_none(form.replaces_id.data),
                corrects_id=int_or_none(form.corrects_id.data)), _main_upload(form.main.data),
                _uploads(form.attachments.data), specs)
        except (ValidationFailed, storage.StorageError) as exc:
            session.rollback()
            put_errors(form, exc.errors if isinstance(exc, ValidationFailed) else {"main": str(exc)})
        else:
            once.remember(token, draft.id)
            flash_ok(f"Đã tạo dự thảo “{draft.subject}”.")
            return client_redirect(url_for("drafts.draft", draft_id=draft.id))
    return render("drafts/new.html", "drafts/_draft_new_form.html", 422 if form.is_submitted() else 200,
                  form=form, rows=_named(rows), methods=OUTSIDE_METHODS, chosen_signer=_person(_signer_id()),
                  reply_to=_visible_incoming(int_or_none(form.reply_to_id.data)), once_field=once.FIELD,
                  once_token=request.form.get(once.FIELD) or once.new_token(),
                  breadcrumbs=_crumbs(("Soạn dự thảo", request.path)))


def _prefill(form: NewDraftForm) -> None:
    reply_to = args()["tra_loi"]
    if reply_to is not None:
        incoming.get_visible(current_user, reply_to)  # 404 for a document this person cannot see
        form.reply_to_id.data = str(reply_to)
    for kind in ("dinh_chinh", "thay_the"):
        out_id = args()[kind]
        if out_id is None:
            continue
        out = session.get(OutgoingDocument, out_id)
        if out is None:
            abort(404)
        data = services.start_follow_up(current_user, out, kind)
        form.subject.data, form.document_type_id.data = data.subject, data.document_type_id
        form.replaces_id.data = str(data.replaces_id or "")
        form.corrects_id.data = str(data.corrects_id or "")


# --- the page --------------------------------------------------------------------------------------------

@bp.get("/<id:draft_id>")
@login_required
def draft(draft_id: int):
    return _page(services.get_visible(current_user, draft_id))


# --- drafting --------------------------------------------------------------------------------------------

@bp.post("/<id:draft_id>/phien-ban")
@login_required
def add_version(draft_id: int):
    return _act(draft_id, "version", lambda d, f: services.add_version(
        current_user, d, _main_upload(f.main.data), _uploads(f.attachments.data), f.note.data),
        "Đã lưu phiên bản mới của dự thảo.")


@bp.post("/<id:draft_id>/sua")
@login_required
def edit(draft_id: int):
    """Details and recipients in one form, one service call."""
    return _act(draft_id, "details", lambda d, f: services.edit(
        current_user, d, f.draft_data(_signer_id()), recipient_rows(request.form)[0]),  # type: ignore[attr-defined]
        "Đã lưu thông tin dự thảo.")


@bp.post("/<id:draft_id>/xin-y-kien")
@login_required
def ask(draft_id: int):
    return _act(draft_id, "ask", lambda d, f: services.ask_comments(
        current_user, d, [i for i in map(int_or_none, request.form.getlist("people")) if i], f.question.data or "",
        f.deadline.data, deadline_days=f.deadline_days.data), "Đã gửi xin ý kiến.")


@bp.post("/<id:draft_id>/y-kien/<id:invite_id>")
@login_required
def answer(draft_id: int, invite_id: int):
    """Cho ý kiến: the form is per invitation, so its errors show beside that question."""
    def page(d: Draft, status: int, **kw: object):  # type: ignore[no-untyped-def]
        return _page(d, status, **kw, invite_id=invite_id, invite=session.get(CommentInvite, invite_id),
                     fragment="drafts/_step_answer.html")
    return run_step(
        workflow=services.FLOW, action="answer", user=current_user,
        load=lambda: services.get_visible(current_user, draft_id), form=AnswerForm(prefix=f"answer{invite_id}"),
        call=lambda d, f: services.answer(current_user, d, invite_id, f.answer.data or "", f.text.data or ""),
        page=page, done="Đã gửi ý kiến.", back=_back_to, url=_draft_url)


@bp.post("/<id:draft_id>/luot-y-kien/<id:round_id>/ket-thuc")
@login_required
def close_round(draft_id: int, round_id: int):
    return run_step(
        workflow=services.FLOW, action="close_round", user=current_user,
        load=lambda: services.get_visible(current_user, draft_id), form=EmptyForm(prefix=f"close{round_id}"),
        call=lambda d, f: services.close_round(current_user, d, round_id), page=_page,
        done="Đã kết thúc lượt xin ý kiến.", back=_back_to, url=_draft_url)


# --- format check, forwarding, signing ---------------------------------------------------------------

@bp.post("/<id:draft_id>/the-thuc")
@login_required
def format_ok(draft_id: int):
    return _act(draft_id, "format_ok", lambda d, f: services.format_ok(
        current_user, d, list(f.checklist.data or []), f.note.data), "Đã xác nhận đạt thể thức; chuyển người ký.")


@bp.post("/<id:draft_id>/chuyen-lanh-dao")
@login_required
def forward(draft_id: int):
    def call(d: Draft, f: FlaskForm) -> None:
        leader = int_or_none(request.form.get("forward-leader_id"))
        if leader is None:
            raise ValidationFailed({"leader_id": "Hãy tìm và chọn một lãnh đạo."})
        services.forward_signing(current_user, d, leader, (f.note.data or "").strip() or None)  # type: ignore[attr-defined]
    return _act(draft_id, "forward", call, "Đã chuyển lãnh đạo khác.")


@bp.post("/<id:draft_id>/ky-so")
@login_required
def sign(draft_id: int):
    return _act(draft_id, "sign", lambda d, f: services.sign_with_key(
        current_user, d, f.password.data or "", _client(), pin=f.pin.data or None),  # type: ignore[attr-defined]
        "Đã ký số văn bản; chuyển văn thư phát hành.")


@bp.post("/<id:draft_id>/ky-ngoai")
@login_required
def sign_external(draft_id: int):
    def call(d: Draft, f: FlaskForm):  # type: ignore[no-untyped-def]
        upload = f.upload.data  # type: ignore[attr-defined]
        if not upload or not upload.filename:
            raise ValidationFailed({"upload": "Hãy chọn tệp PDF đã ký."})
        return services.accept_external(current_user, d, upload.read(), f.password.data or "",  # type: ignore[attr-defined]
                                        _client())
    return _act(draft_id, "sign_external", call, "Đã nhận bản ký số; chuyển văn thư phát hành.")


# --- the steps that are one service call on a note or a reason -------------------------------------------

# (path, step = endpoint, service call, notice); a repeated click finds the step done (AlreadyDone):
# the notice of what happened, never a second approval or a second number
SIMPLE_STEPS: list[tuple[str, str, Callable[[Draft, FlaskForm], object], str]] = [
    ("trinh", "submit", lambda d, f: services.submit(current_user, d, f.note.data),
     "Đã trình dự thảo."),
    ("huy", "cancel", lambda d, f: services.cancel(current_user, d, f.reason.data or ""),
     "Đã hủy dự thảo."),
    ("duyet", "approve", lambda d, f: services.approve(current_user, d, f.note.data),
     "Đã duyệt dự thảo."),
    ("tra-lai", "send_back", lambda d, f: services.send_back(current_user, d, f.comment.data or ""),
     "Đã trả lại dự thảo cho người soạn thảo."),
    ("tra-nguoi-ky", "refuse_issue", lambda d, f: services.refuse_issue(current_user, d, f.reason.data or ""),
     "Đã trả lại người ký."),
    ("phat-hanh", "issue", lambda d, f: services.issue(current_user, d, f.book_id.data),
     "Đã cấp số và phát hành văn bản."),
    ("thu-hoi", "recall", lambda d, f: services.recall(current_user, d, f.reason.data or ""),
     "Đã thu hồi văn bản; nơi nhận được đề nghị thu hồi."),
]


def _simple_step(step: str, call: Callable[[Draft, FlaskForm], object], done: str):  # type: ignore[no-untyped-def]
    def view(draft_id: int):  # type: ignore[no-untyped-def]
        return _act(draft_id, step, call, done)
    return view


for _path, _step, _call, _done in SIMPLE_STEPS:
    bp.add_url_rule(f"/<id:draft_id>/{_path}", _step, login_required(_simple_step(_step, _call, _done)),
                    methods=["POST"])
