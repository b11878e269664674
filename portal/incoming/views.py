"""The incoming document page and one short form per workflow step (SPEC §5).

Every step runs on the step machine (``portal.steps.run_step``): load the visible document (404),
lock and re-read it, the table's guard (``incoming/workflow.py``: a repeat is told what already
happened, a refusal is 403), the form (422 beside the fields), **one** service call, back to the
page. The rules live in the tables; this module only wires forms to services. Progress notes and
reminders, which may legitimately happen again, carry a one-time token (``portal.once``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import current_app, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal import once, viewer
from portal.auth.forms import EmptyForm
from portal.auth.models import User
from portal.db import session
from portal.documents import identifiers
from portal.documents.models import IncomingDocument, Secrecy, Urgency
from portal.errors import NotFound, ValidationFailed
from portal.incoming import bp, handling, services
from portal.incoming.forms import (
    EXTENSION_FORMS,
    AssignForm,
    DirectForm,
    FinishForm,
    LeaderForm,
    MetadataForm,
    NoteForm,
    ProgressForm,
    ReasonForm,
    RemindForm,
    ReturnForm,
    Row,
    assignee_rows,
    parse_date,
)
from portal.incoming.models import Assignment, FileRole, ReminderKind
from portal.incoming.pickers import PICKER_STEPS
from portal.incoming.workflow import DOCUMENT, MY_PARTS, PREFERENCE, OnRow, Repeated, at, ranked_actions
from portal.orgs.models import Organisation
from portal.params import parse_id
from portal.signatures import service as signatures
from portal.steps import StepView, put_errors, run_step
from portal.web import render

STEPS = {
    "accept": StepView(EmptyForm, "_step_button.html", "Tiếp nhận văn bản", "incoming.accept"),
    "register": StepView(MetadataForm, "_step_register.html", "Vào sổ văn bản đến", "incoming.register"),
    "return": StepView(ReturnForm, "_step_return.html", "Trả lại nơi gửi", "incoming.return_to_sender"),
    "present": StepView(LeaderForm, "_step_leader.html", "Trình lãnh đạo", "incoming.present"),
    "assign_directly": StepView(AssignForm, "_step_assign.html", "Chuyển xử lý", "incoming.assign_directly"),
    "direct": StepView(DirectForm, "_step_assign.html", "Phân phối, chỉ đạo", "incoming.direct"),
    "forward": StepView(LeaderForm, "_step_leader.html", "Chuyển lãnh đạo khác", "incoming.forward"),
    "file_info": StepView(NoteForm, "_step_note.html", "Lưu, để biết", "incoming.file_for_information"),
    "send_back": StepView(ReasonForm, "_step_reason.html", "Trả lại văn thư", "incoming.send_back"),
    "unit_direct": StepView(AssignForm, "_step_assign.html", "Giao xử lý trong đơn vị",
                            "incoming.direct_within_unit"),
    "seen": StepView(EmptyForm, "_step_button.html", "Đánh dấu đã xem", "incoming.mark_seen"),
    "progress": StepView(ProgressForm, "_step_progress.html", "Cập nhật tiến độ, gửi ý kiến",
                         "incoming.record_progress"),
    "finish": StepView(FinishForm, "_step_finish.html", "Hoàn thành xử lý", "incoming.finish"),
    "reopen": StepView(ReasonForm, "_step_reason.html", "Mở lại văn bản", "incoming.reopen"),
    "confirm_recall": StepView(EmptyForm, "_step_button.html", "Xác nhận thu hồi", "incoming.confirm_recall"),
    "refuse_recall": StepView(ReasonForm, "_step_reason.html", "Từ chối thu hồi", "incoming.refuse_recall"),
}


# the steps on one row of the phiếu: the partial returned alone to htmx on 422
ROW_TEMPLATES = {"remind": "_step_remind.html", **{action: "_step_extension.html" for action in EXTENSION_FORMS}}


def _index_url() -> str | None:
    return url_for("incoming.index") if "incoming.index" in current_app.view_functions else None


def _crumbs(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    crumbs = [("Trang chủ", url_for("main.dashboard"))]
    if _index_url():
        crumbs.append(("Văn bản đến", _index_url()))
    return [*crumbs, *extra]


def _fresh_form(step: str, doc: IncomingDocument) -> FlaskForm:
    if step == "register":
        form = MetadataForm(prefix=step, formdata=None, obj=doc)
        _offer(form, doc.organisation_id)
        return form
    return STEPS[step].form(prefix=step, formdata=None)


def _offer(form: MetadataForm, organisation_id: int) -> None:
    form.offer(services.document_types(), services.incoming_books(organisation_id))


def _rows_shown(rows: list[Row]) -> list[dict[str, object]]:
    """The typed assignee rows again, with their names, after a refused submission."""
    shown = []
    for row in rows:
        who = session.get(Organisation if row.kind == "unit" else User, row.id)
        try:
            deadline = parse_date(row.deadline)
        except ValueError:
            deadline = None
        shown.append({"kind": row.kind, "id": row.id, "role": row.role, "name": _display_name(who),
                      "deadline": deadline.isoformat() if deadline else "", "days": row.days})
    return shown


def _display_name(who: User | Organisation | None) -> str:
    if who is None:
        return "?"
    return who.full_name if isinstance(who, User) else who.name


def _page(doc: IncomingDocument, status: int = 200, *, step: str | None = None, form: FlaskForm | None = None,
          **extra: object):  # type: ignore[no-untyped-def]
    """The document page; after a refused step, that step's form (or, for htmx, only its partial)."""
    step = "progress" if step == "finish_part" else step  # one form for both
    actions = services.available_actions(current_user, doc)
    forms = {name: _fresh_form(name, doc) for name in STEPS if name in actions}
    if step and form is not None:
        forms[step] = form
    assignments = services.assignments_of(doc)
    remind_forms = {row.id: RemindForm(prefix=f"remind{row.id}", formdata=None) for row in assignments
                    if services.can_remind(current_user, doc, row)}
    if step == "remind" and form is not None:
        remind_forms[extra["row"].id] = form  # type: ignore[attr-defined]
    extension_forms = {row.id: {a: EXTENSION_FORMS[a](prefix=f"{a}{row.id}", formdata=None)
                                for a in services.row_actions(current_user, doc, row) if a in EXTENSION_FORMS}
                       for row in assignments}
    if step in EXTENSION_FORMS and form is not None:
        extension_forms.setdefault(extra["row"].id, {})[step] = form  # type: ignore[attr-defined]
    slip = url_for("incoming.slip", document_id=doc.id) if "incoming.slip" in current_app.view_functions else None
    fragment = extra.pop("fragment", None) or (  # type: ignore[assignment]
        f"incoming/{STEPS[step].template if step in STEPS else ROW_TEMPLATES[step]}" if step else None)
    row = extra.get("row")
    context = {"rows": {}, "duplicates": [], "remind_row_id": row.id if row else None, "failed_step": step,
               "once_field": once.FIELD, "new_token": once.new_token, "posted_token": request.form.get(once.FIELD),
               "replacement": services.replacement_links(current_user, doc),
               "carry_form": EmptyForm(prefix="carry_over", formdata=None)
               if services.may_carry_over(current_user, doc) else None, **extra}  # type: ignore[attr-defined]
    files = services.files_of(doc)
    return render("incoming/document.html", fragment, status, doc=doc, forms=forms, steps=STEPS, step=step,
                  ranked=ranked_actions(forms), ask_first=PREFERENCE.ask_first,
                  preview=_preview(doc, files),
                  pickers=PICKER_STEPS, files=files, history=services.history(doc),
                  signature_reports=[(f, _report(f.signature_report)) for f in files if f.signature_report],
                  source=(source := services.source_of(doc)),
                  identifier=identifiers.of_incoming(doc, source.outgoing if source else None),
                  assignments=assignments, replies=handling.replies(doc), remind_forms=remind_forms, actions=actions,
                  extension_forms=extension_forms, deadlines=services.assignment_limits(assignments),
                  action_labels=services.ACTION_LABELS, return_categories=services.RETURN_CATEGORIES, slip_url=slip,
                  urgency_label=Urgency(int(doc.urgency or 0)).label,
                  secrecy_label=Secrecy(int(doc.secrecy or 0)).label,
                  breadcrumbs=_crumbs((_title(doc), url_for("incoming.document", document_id=doc.id))), **context)


def _preview(doc: IncomingDocument, files: list) -> dict[str, object] | None:  # type: ignore[type-arg]
    """The main file's pages for the viewer, or why there are none."""
    main = next((f for f in files if f.role.value == "main"), None) or next(iter(files), None)
    if main is None:
        return None
    title = "Văn bản" if main.role.value == "main" else main.filename
    download = url_for("incoming.file_download", document_id=doc.id, file_id=main.id)
    if main.warning or not viewer.is_pdf(main.filename):
        return {"title": title, "pages": [], "count": 0, "download": download,
                "note": "Tệp này không xem trước được trên trang; hãy tải về để mở."}
    try:
        count = viewer.page_count(main.sha256)
    except viewer.PreviewUnavailable as exc:
        return {"title": title, "pages": [], "count": 0, "download": download, "note": str(exc)}
    return {"title": title, "count": count, "pages": list(range(1, min(count, viewer.MAX_PAGES) + 1)),
            "download": download, "note": None,
            "url": lambda n: url_for("incoming.file_page", document_id=doc.id, file_id=main.id, page=n)}


def _report(stored: str) -> dict[str, object]:
    data = json.loads(stored)
    return {"error": data.get("loi"), "signatures": signatures.report_lines(stored) if data.get("chu_ky") else []}


def _title(doc: IncomingDocument) -> str:
    if doc.code_number and doc.code_notation:
        return f"Văn bản {doc.code_number}/{doc.code_notation}"
    return "Văn bản đến"


def _uploads(files: list | None, role: FileRole = FileRole.RESULT) -> list[services.Upload]:  # type: ignore[type-arg]
    """Browsers send one empty part for an untouched file input; that is not a file."""
    return [services.Upload(f.filename, f.stream, role) for f in files or [] if f and f.filename]


def _back_to(doc: IncomingDocument) -> str:
    """The document again, unless this step took it out of the person's sight (recalled, or
    forwarded away from a unit head, who saw it only while it was presented to them)."""
    try:
        services.get_visible(current_user, doc.id)
    except NotFound:
        return _index_url() or url_for("main.dashboard")
    return url_for("incoming.document", document_id=doc.id)


def _load(document_id: int, action: str) -> Callable[[], IncomingDocument]:
    """The visible document. One this person acted on and that the step took out of their sight
    (a recall confirmed, a document sent back by a unit head) answers a repeat with what
    happened instead of 404; anyone else still gets 404."""
    def load() -> IncomingDocument:
        try:
            return services.get_visible(current_user, document_id)
        except NotFound:
            already = services.done_out_of_sight(current_user, document_id, action)
            if not already:
                raise
            raise Repeated(already, _index_url() or url_for("main.dashboard"), action=f"incoming.{action}") from None
    return load


def _refused(action: str) -> Callable[[Exception, IncomingDocument, FlaskForm], object]:
    """A refusal the step answers its own way: a likely duplicate (with the earlier documents),
    the picker's rows again with their names."""
    def refused(exc: Exception, doc: IncomingDocument, form: FlaskForm) -> object:
        if isinstance(exc, services.Duplicate):
            form.form_errors.append(str(exc))
            return _page(doc, 422, step=action, form=form, duplicates=exc.matches)
        if action in PICKER_STEPS and isinstance(exc, ValidationFailed):
            put_errors(form, exc.errors)
            return _page(doc, 422, step=action, form=form, rows={action: _rows_shown(assignee_rows(request.form)[1])})
        return None
    return refused


def _run(document_id: int, action: str, call: Callable[[IncomingDocument, FlaskForm], object], done: str,
         *, workflow: object = DOCUMENT, page: Callable[..., object] | None = None,
         form: FlaskForm | None = None):  # type: ignore[no-untyped-def]
    if form is None:
        form = STEPS[view_prefix(action)].form(prefix=view_prefix(action))
    return run_step(workflow=workflow, action=action, user=current_user, load=_load(document_id, action),  # type: ignore[arg-type]
                    form=form, call=call, page=page or _page, done=done,
                    back=_back_to, url=_back_to, refused=_refused(action),
                    prepare=(lambda d, f: _offer(f, d.organisation_id)) if action == "register" else None)


def view_prefix(action: str) -> str:
    return "progress" if action == "finish_part" else action


def _assign(document_id: int, step: str, service: Callable[..., object], done: str):  # type: ignore[no-untyped-def]
    """The assigning steps: directive, the picker's rows (bad ones: 422 at once), phân phối's deadline."""
    def call(doc: IncomingDocument, form: FlaskForm) -> None:
        specs, _rows, errors = assignee_rows(request.form)
        if errors:
            raise ValidationFailed(errors)
        extra = ({"due_date": form.due_date.data, "due_days": form.due_days.data}
                 if isinstance(form, DirectForm) else {})
        service(current_user, doc, form.directive.data or "", specs, **extra)  # type: ignore[attr-defined]
    return _run(document_id, step, call, done)


def _once(kind: str, what: str, doc: IncomingDocument, work: Callable[[], object]) -> None:
    """A step that may legitimately happen again (a progress note, a reminder): the form's
    one-time token makes one submission one record; the same form again is told when it was."""
    token = request.form.get(once.FIELD)
    if (made := once.claim(current_user.id, token, kind)) is not None:
        event = services.event(made)
        raise Repeated(f"{what} lúc {at(event.at if event else None)}.", _back_to(doc), action=kind)
    work()
    newest = services.newest_event_id(doc)
    if newest is not None:
        once.remember(token, newest)


# --- the page ---------------------------------------------------------------------------------------

@bp.get("/<id:document_id>")
@login_required
def document(document_id: int):
    return _page(services.get_visible(current_user, document_id))


# --- steps ----------------------------------------------------------------------------------------------

@bp.post("/<id:document_id>/tiep-nhan")
@login_required
def accept(document_id: int):
    return _run(document_id, "accept", lambda d, f: services.accept(current_user, d),
                "Đã tiếp nhận văn bản; văn bản chờ vào sổ.")


@bp.post("/<id:document_id>/vao-so")
@login_required
def register(document_id: int):
    return _run(document_id, "register", lambda d, f: services.register(
        current_user, d, f.metadata(), confirm_duplicate=bool(f.confirm_duplicate.data)),
        "Đã vào sổ văn bản đến.")


@bp.post("/<id:document_id>/tra-lai")
@login_required
def return_to_sender(document_id: int):
    return _run(document_id, "return", lambda d, f: services.return_to_sender(
        current_user, d, f.category.data or "", f.reason.data or ""), "Đã trả lại văn bản cho nơi gửi.")


@bp.post("/<id:document_id>/trinh")
@login_required
def present(document_id: int):
    return _run(document_id, "present", lambda d, f: services.present(
        current_user, d, _leader_id(f), (f.note.data or "").strip() or None), "Đã trình lãnh đạo.")


@bp.post("/<id:document_id>/chuyen-lanh-dao")
@login_required
def forward(document_id: int):
    return _run(document_id, "forward", lambda d, f: services.forward(
        current_user, d, _leader_id(f), (f.note.data or "").strip() or None), "Đã chuyển lãnh đạo khác.")


def _leader_id(form: FlaskForm) -> int:
    if (ident := parse_id(form.leader_id.data)) is None:  # type: ignore[attr-defined]
        raise ValidationFailed({"leader_id": "Hãy tìm và chọn một lãnh đạo."})
    return ident


@bp.post("/<id:document_id>/tra-van-thu")
@login_required
def send_back(document_id: int):
    return _run(document_id, "send_back", lambda d, f: services.send_back(current_user, d, f.reason.data or ""),
                "Đã trả lại văn thư.")


@bp.post("/<id:document_id>/phan-phoi")
@login_required
def direct(document_id: int):
    return _assign(document_id, "direct", services.direct, "Đã phân phối văn bản.")


@bp.post("/<id:document_id>/chuyen-xu-ly")
@login_required
def assign_directly(document_id: int):
    return _assign(document_id, "assign_directly", services.assign_directly, "Đã chuyển xử lý.")


@bp.post("/<id:document_id>/giao-trong-don-vi")
@login_required
def direct_within_unit(document_id: int):
    return _assign(document_id, "unit_direct", services.direct_within_unit, "Đã giao xử lý trong đơn vị.")


@bp.post("/<id:document_id>/luu-de-biet")
@login_required
def file_for_information(document_id: int):
    return _run(document_id, "file_info", lambda d, f: services.file_for_information(
        current_user, d, (f.note.data or "").strip() or None), "Đã lưu văn bản để biết.")


@bp.post("/<id:document_id>/tien-do")
@login_required
def record_progress(document_id: int):
    """A note, or with "đã hoàn thành phần việc" ticked the person's own part finished."""
    part_done = request.form.get("progress-done", "") not in ("", "false")
    return _run(document_id, "finish_part" if part_done else "progress", lambda d, f: _once(
        "incoming.progress", "Nội dung này đã được ghi", d, lambda: services.record_progress(
            current_user, d, f.text.data or "", _uploads(f.files.data), part_done=part_done)),
        "Đã ghi tiến độ.", workflow=MY_PARTS)


@bp.post("/<id:document_id>/da-xem")
@login_required
def mark_seen(document_id: int):
    return _run(document_id, "seen", lambda d, f: services.mark_seen(current_user, d), "Đã đánh dấu đã xem.",
                workflow=MY_PARTS)


@bp.post("/<id:document_id>/hoan-thanh")
@login_required
def finish(document_id: int):
    return _run(document_id, "finish", lambda d, f: services.finish(
        current_user, d, f.result.data or "", _uploads(f.files.data)), "Đã hoàn thành xử lý văn bản.")


@bp.post("/<id:document_id>/mo-lai")
@login_required
def reopen(document_id: int):
    return _run(document_id, "reopen", lambda d, f: services.reopen(current_user, d, f.reason.data or ""),
                "Đã mở lại văn bản.")


@bp.post("/<id:document_id>/xac-nhan-thu-hoi")
@login_required
def confirm_recall(document_id: int):
    return _run(document_id, "confirm_recall", lambda d, f: services.confirm_recall(current_user, d),
                "Đã thu hồi văn bản theo đề nghị của nơi gửi.")


@bp.post("/<id:document_id>/tu-choi-thu-hoi")
@login_required
def refuse_recall(document_id: int):
    return _run(document_id, "refuse_recall", lambda d, f: services.refuse_recall(current_user, d, f.reason.data or ""),
                "Đã từ chối thu hồi; nơi gửi sẽ thấy lý do.")


@bp.post("/<id:document_id>/phan-cong/<id:assignment_id>/don-doc")
@login_required
def remind(document_id: int, assignment_id: int):
    """Đôn đốc one row of the phiếu; the form is per row, so its errors show beside that row."""
    row = session.get(Assignment, assignment_id)
    if row is None or row.document_id != document_id:
        raise NotFound()

    def call(doc: IncomingDocument, form: FlaskForm) -> None:
        if form.kind.data not in REMIND_KINDS:  # type: ignore[attr-defined]
            raise ValidationFailed({"kind": "Hãy chọn hình thức đôn đốc."})
        _once("incoming.remind", "Lời đôn đốc này đã được gửi", doc, lambda: services.remind(
            current_user, doc, row.id, ReminderKind(form.kind.data), form.text.data or ""))  # type: ignore[attr-defined]

    return _run(document_id, "remind", call, f"Đã đôn đốc {row.assignee_name}.", workflow=OnRow(row.id),
                page=lambda doc, status, **kw: _page(doc, status, row=row, **kw),
                form=RemindForm(prefix=f"remind{row.id}"))


REMIND_KINDS = {k.value for k in (ReminderKind.REMIND, ReminderKind.CRITICISE, ReminderKind.REVIEW)}
