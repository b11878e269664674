"""The incoming document page and one short form per workflow step (SPEC §5).

Every step: load the visible document (404) → is this step open to this person now (403) →
the form → **one** service call → back to the page. A broken rule re-renders the step's form
with its message (422); the service checks the holder and the step again and audits the change.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, current_app, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal import storage
from portal.auth.forms import EmptyForm
from portal.auth.models import Role, User
from portal.db import session
from portal.documents import identifiers
from portal.documents.models import IncomingDocument, Secrecy, Urgency
from portal.drafts import signatures
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.incoming import bp, handling, services
from portal.incoming.forms import (
    AssignForm,
    DirectForm,
    FinishForm,
    LeaderForm,
    MetadataForm,
    NewDocumentForm,
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
from portal.incoming.pickers import LOOKUP, LOOKUP_ROW, PICKER_STEPS, post_of
from portal.orgs.models import Organisation
from portal.params import args, parse_id, query
from portal.web import client_redirect, flash_ok, render


@dataclass(frozen=True)
class Step:
    form: type[FlaskForm]
    template: str  # the partial holding this step's form, returned alone to htmx on 422
    title: str
    endpoint: str


STEPS = {
    "accept": Step(EmptyForm, "_step_button.html", "Tiếp nhận văn bản", "incoming.accept"),
    "register": Step(MetadataForm, "_step_register.html", "Vào sổ văn bản đến", "incoming.register"),
    "return": Step(ReturnForm, "_step_return.html", "Trả lại nơi gửi", "incoming.return_to_sender"),
    "present": Step(LeaderForm, "_step_leader.html", "Trình lãnh đạo", "incoming.present"),
    "assign_directly": Step(AssignForm, "_step_assign.html", "Chuyển xử lý", "incoming.assign_directly"),
    "direct": Step(DirectForm, "_step_assign.html", "Phân phối, chỉ đạo", "incoming.direct"),
    "forward": Step(LeaderForm, "_step_leader.html", "Chuyển lãnh đạo khác", "incoming.forward"),
    "file_info": Step(NoteForm, "_step_note.html", "Lưu, để biết", "incoming.file_for_information"),
    "send_back": Step(ReasonForm, "_step_reason.html", "Trả lại văn thư", "incoming.send_back"),
    "unit_direct": Step(AssignForm, "_step_assign.html", "Giao xử lý trong đơn vị", "incoming.direct_within_unit"),
    "seen": Step(EmptyForm, "_step_button.html", "Đánh dấu đã xem", "incoming.mark_seen"),
    "progress": Step(ProgressForm, "_step_progress.html", "Cập nhật tiến độ, gửi ý kiến", "incoming.record_progress"),
    "finish": Step(FinishForm, "_step_finish.html", "Hoàn thành xử lý", "incoming.finish"),
    "reopen": Step(ReasonForm, "_step_reason.html", "Mở lại văn bản", "incoming.reopen"),
    "confirm_recall": Step(EmptyForm, "_step_button.html", "Xác nhận thu hồi", "incoming.confirm_recall"),
    "refuse_recall": Step(ReasonForm, "_step_reason.html", "Từ chối thu hồi", "incoming.refuse_recall"),
}


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
                      "deadline": deadline.isoformat() if deadline else ""})
    return shown


def _display_name(who: User | Organisation | None) -> str:
    if who is None:
        return "?"
    return who.full_name if isinstance(who, User) else who.name


def _page(doc: IncomingDocument, status: int = 200, *, step: str | None = None, form: FlaskForm | None = None,
          **extra: object):  # type: ignore[no-untyped-def]
    """The document page; after a refused step, that step's form (or, for htmx, only its partial)."""
    actions = services.available_actions(current_user, doc)
    forms = {name: _fresh_form(name, doc) for name in STEPS if name in actions}
    if step and form is not None:
        forms[step] = form
    assignments = services.assignments_of(doc)
    remind_forms = {row.id: RemindForm(prefix=f"remind{row.id}", formdata=None) for row in assignments
                    if services.can_remind(current_user, doc, row)}
    if step == "remind" and form is not None:
        remind_forms[extra["row"].id] = form  # type: ignore[attr-defined]
    slip = url_for("incoming.slip", document_id=doc.id) if "incoming.slip" in current_app.view_functions else None
    fragment = f"incoming/{STEPS[step].template if step in STEPS else '_step_remind.html'}" if step else None
    row = extra.get("row")
    context = {"rows": {}, "duplicates": [], "remind_row_id": row.id if row else None, **extra}  # type: ignore[attr-defined]
    files = services.files_of(doc)
    return render("incoming/document.html", fragment, status, doc=doc, forms=forms, steps=STEPS, step=step,
                  pickers=PICKER_STEPS, files=files, history=services.history(doc),
                  signature_reports=[(f, _report(f.signature_report)) for f in files if f.signature_report],
                  source=(source := services.source_of(doc)),
                  identifier=identifiers.of_incoming(doc, source.outgoing if source else None),
                  assignments=assignments, replies=handling.replies(doc), remind_forms=remind_forms, actions=actions,
                  action_labels=services.ACTION_LABELS, return_categories=services.RETURN_CATEGORIES, slip_url=slip,
                  urgency_label=Urgency(int(doc.urgency or 0)).label,
                  secrecy_label=Secrecy(int(doc.secrecy or 0)).label,
                  breadcrumbs=_crumbs((_title(doc), url_for("incoming.document", document_id=doc.id))), **context)


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


def _put_errors(form: FlaskForm, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        if name in form._fields:
            form._fields[name].errors = [message]
        else:
            form.form_errors.append(message)


def _act(document_id: int, step: str, call: Callable[[IncomingDocument, FlaskForm], object], done: str,
         form: FlaskForm | None = None):  # type: ignore[no-untyped-def]
    """Load, check the step is open to this person, validate, one service call, back to the page.
    A refused call rolls back first: an upload stored before a later rule failed must not be
    committed with the 422 answer."""
    doc = services.get_visible(current_user, document_id)
    if step not in services.available_actions(current_user, doc):
        raise NotAllowed(f"incoming.{step}", f"Bạn không thể “{STEPS[step].title.lower()}” với văn bản này "
                                             f"ở trạng thái “{doc.status_label}”.")
    form = form or STEPS[step].form(prefix=step)
    if step == "register":
        _offer(form, doc.organisation_id)  # type: ignore[arg-type]
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _page(doc, 422, step=step, form=form)
    try:
        call(doc, form)
    except services.Duplicate as exc:
        session.rollback()
        form.form_errors.append(str(exc))
        return _page(doc, 422, step=step, form=form, duplicates=exc.matches)
    except (ValidationFailed, storage.StorageError) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"files": str(exc)}
        _put_errors(form, errors)
        rows = assignee_rows(request.form)[1] if step in PICKER_STEPS else []
        return _page(doc, 422, step=step, form=form, rows={step: _rows_shown(rows)})
    flash_ok(done)
    return client_redirect(_back_to(doc))


def _back_to(doc: IncomingDocument) -> str:
    """The document again, unless this step took it out of the person's sight (recalled, or
    forwarded away from a unit head, who saw it only while it was presented to them)."""
    try:
        services.get_visible(current_user, doc.id)
    except NotFound:
        return _index_url() or url_for("main.dashboard")
    return url_for("incoming.document", document_id=doc.id)


def _assign(document_id: int, step: str, service: Callable[..., object], done: str):  # type: ignore[no-untyped-def]
    """The assigning steps: directive, the picker's rows (bad ones: 422 at once), phân phối's deadline."""
    def call(doc: IncomingDocument, form: FlaskForm) -> None:
        specs, _rows, errors = assignee_rows(request.form)
        if errors:
            raise ValidationFailed(errors)
        extra = {"due_date": form.due_date.data} if isinstance(form, DirectForm) else {}
        service(current_user, doc, form.directive.data or "", specs, **extra)  # type: ignore[attr-defined]
    return _act(document_id, step, call, done)


# --- the page ---------------------------------------------------------------------------------------

@bp.get("/<id:document_id>")
@login_required
def document(document_id: int):
    return _page(services.get_visible(current_user, document_id))


# --- steps ----------------------------------------------------------------------------------------------

@bp.post("/<id:document_id>/tiep-nhan")
@login_required
def accept(document_id: int):
    return _act(document_id, "accept", lambda d, f: services.accept(current_user, d),
                "Đã tiếp nhận văn bản; văn bản chờ vào sổ.")


@bp.post("/<id:document_id>/vao-so")
@login_required
def register(document_id: int):
    return _act(document_id, "register", lambda d, f: services.register(
        current_user, d, f.metadata(), confirm_duplicate=bool(f.confirm_duplicate.data)),
        "Đã vào sổ văn bản đến.")


@bp.post("/<id:document_id>/tra-lai")
@login_required
def return_to_sender(document_id: int):
    return _act(document_id, "return", lambda d, f: services.return_to_sender(
        current_user, d, f.category.data or "", f.reason.data or ""), "Đã trả lại văn bản cho nơi gửi.")


@bp.post("/<id:document_id>/trinh")
@login_required
def present(document_id: int):
    return _act(document_id, "present", lambda d, f: services.present(
        current_user, d, _leader_id(f), (f.note.data or "").strip() or None), "Đã trình lãnh đạo.")


@bp.post("/<id:document_id>/chuyen-lanh-dao")
@login_required
def forward(document_id: int):
    return _act(document_id, "forward", lambda d, f: services.forward(
        current_user, d, _leader_id(f), (f.note.data or "").strip() or None), "Đã chuyển lãnh đạo khác.")


def _leader_id(form: FlaskForm) -> int:
    if (ident := parse_id(form.leader_id.data)) is None:  # type: ignore[attr-defined]
        raise ValidationFailed({"leader_id": "Hãy tìm và chọn một lãnh đạo."})
    return ident


@bp.post("/<id:document_id>/tra-van-thu")
@login_required
def send_back(document_id: int):
    return _act(document_id, "send_back", lambda d, f: services.send_back(current_user, d, f.reason.data or ""),
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
    return _act(document_id, "file_info", lambda d, f: services.file_for_information(
        current_user, d, (f.note.data or "").strip() or None), "Đã lưu văn bản để biết.")


@bp.post("/<id:document_id>/tien-do")
@login_required
def record_progress(document_id: int):
    return _act(document_id, "progress", lambda d, f: services.record_progress(
        current_user, d, f.text.data or "", _uploads(f.files.data), part_done=bool(f.done.data)), "Đã ghi tiến độ.")


@bp.post("/<id:document_id>/da-xem")
@login_required
def mark_seen(document_id: int):
    return _act(document_id, "seen", lambda d, f: services.mark_seen(current_user, d), "Đã đánh dấu đã xem.")


@bp.post("/<id:document_id>/hoan-thanh")
@login_required
def finish(document_id: int):
    return _act(document_id, "finish", lambda d, f: services.finish(
        current_user, d, f.result.data or "", _uploads(f.files.data)), "Đã hoàn thành xử lý văn bản.")


@bp.post("/<id:document_id>/mo-lai")
@login_required
def reopen(document_id: int):
    return _act(document_id, "reopen", lambda d, f: services.reopen(current_user, d, f.reason.data or ""),
                "Đã mở lại văn bản.")


@bp.post("/<id:document_id>/xac-nhan-thu-hoi")
@login_required
def confirm_recall(document_id: int):
    return _act(document_id, "confirm_recall", lambda d, f: services.confirm_recall(current_user, d),
                "Đã thu hồi văn bản theo đề nghị của nơi gửi.")


@bp.post("/<id:document_id>/tu-choi-thu-hoi")
@login_required
def refuse_recall(document_id: int):
    return _act(document_id, "refuse_recall", lambda d, f: services.refuse_recall(current_user, d, f.reason.data or ""),
                "Đã từ chối thu hồi; nơi gửi sẽ thấy lý do.")


@bp.post("/<id:document_id>/phan-cong/<id:assignment_id>/don-doc")
@login_required
def remind(document_id: int, assignment_id: int):
    """Đôn đốc one row of the phiếu; the form is per row, so its errors show beside that row."""
    doc = services.get_visible(current_user, document_id)
    row = session.get(Assignment, assignment_id)
    if row is None or row.document_id != doc.id:
        abort(404)
    if not services.can_remind(current_user, doc, row):
        raise NotAllowed("incoming.remind", "Chỉ văn thư, lãnh đạo cơ quan hoặc người giao việc được đôn đốc.")
    form = RemindForm(prefix=f"remind{row.id}")
    kinds = {k.value for k in (ReminderKind.REMIND, ReminderKind.CRITICISE, ReminderKind.REVIEW)}
    try:
        if form.kind.data not in kinds:
            raise ValidationFailed({"kind": "Hãy chọn hình thức đôn đốc."})
        services.remind(current_user, doc, row.id, ReminderKind(form.kind.data), form.text.data or "")
    except ValidationFailed as exc:
        session.rollback()
        _put_errors(form, exc.errors)
        return _page(doc, 422, step="remind", form=form, row=row)
    flash_ok(f"Đã đôn đốc {row.assignee_name}.")
    return client_redirect(url_for("incoming.document", document_id=doc.id))


# --- people and units ----------------------------------------------------------------------------------

@bp.get("/<id:document_id>/tim-nguoi")
@login_required
@query(*LOOKUP)
def lookup(document_id: int):
    """Type-ahead of the pickers, inside the document's organisation, at most 15 answers; only
    for someone who has a picker on this document now."""
    doc = services.get_visible(current_user, document_id)
    step = args()["step"] or ""
    kind = PICKER_STEPS.get(step)
    if kind is None or step not in services.available_actions(current_user, doc):
        raise NotAllowed("incoming.lookup", "Bạn không cần chọn người cho văn bản này ở bước hiện tại.")
    q = args()["q"][:100]
    if kind == "assignee":
        results = [("unit", u.id, u.name, "Phòng, ban") for u in services.lookup(current_user, doc, "unit", q, 7)]
        results += [("person", u.id, u.full_name, post_of(u, doc)) for u in services.lookup(
            current_user, doc, "person", q, 15 - len(results))]
    else:
        results = [("person", u.id, u.full_name, post_of(u, doc)) for u in services.lookup(current_user, doc, kind, q)]
    return render("incoming/_people_results.html", doc=doc, step=step, kind=kind, q=q, results=results,
                  field=f"{step}-leader_id")


@bp.get("/<id:document_id>/tim-nguoi/dong")
@login_required
@query(*LOOKUP_ROW)
def lookup_row(document_id: int):
    """One assignee row for the picker (swapped in at the end of the table); a unit or person
    outside the document's organisation is 404, one already in the table is nothing (204)."""
    doc = services.get_visible(current_user, document_id)
    step = args()["step"] or ""
    if PICKER_STEPS.get(step) not in ("assignee", "member") or step not in services.available_actions(
            current_user, doc):
        raise NotAllowed("incoming.lookup", "Bạn không cần chọn người cho văn bản này ở bước hiện tại.")
    kind, ident = args()["kind"], args()["id"]
    who = session.get(Organisation if kind == "unit" else User, ident) if ident else None
    inside = (isinstance(who, Organisation) and who.owner_id == doc.organisation_id and not who.is_issuing) or (
        isinstance(who, User) and any(p.organisation_id == doc.organisation_id for p in who.active_positions()))
    if not inside or kind not in ("unit", "person"):
        abort(404)
    chosen = set(zip(args()["a_kind"], args()["a_id"], strict=False))
    if (kind, ident) in chosen:
        return "", 204
    role = "phoi_hop" if chosen else "chu_tri"
    return render("incoming/_people_row.html", step=step, row={"kind": kind, "id": who.id, "role": role,
                                                               "name": _display_name(who), "deadline": ""},
                  autofocus=True)


# --- files ----------------------------------------------------------------------------------------------

def _file(document_id: int, file_id: int, *, download: bool):  # type: ignore[no-untyped-def]
    doc = services.get_visible(current_user, document_id)
    row, data = services.open_file(current_user, doc, file_id, download=download)
    kind = storage.KINDS.get(storage.extension_of(row.filename))
    return send_file(io.BytesIO(data), mimetype=kind.content_type if kind else "application/octet-stream",
                     as_attachment=download, download_name=row.filename, max_age=0)


@bp.get("/<id:document_id>/tep/<id:file_id>")
@login_required
def file_view(document_id: int, file_id: int):
    return _file(document_id, file_id, download=False)


@bp.get("/<id:document_id>/tep/<id:file_id>/tai-ve")
@login_required
def file_download(document_id: int, file_id: int):
    return _file(document_id, file_id, download=True)


# --- paper documents, sent, reminders -----------------------------------------------------------------

@bp.route("/moi", methods=["GET", "POST"])
@login_required
def new():
    """Nhập văn bản giấy: the scan (PDF), attachments and metadata, registered at once."""
    if not services.is_clerk(current_user):
        abort(403)
    form = NewDocumentForm()
    _offer(form, services.org_id(current_user))
    duplicates: list[IncomingDocument] = []
    if form.validate_on_submit():
        scan = form.scan.data
        try:
            doc = services.digitise(current_user, form.metadata(), services.Upload(
                scan.filename if scan else "", scan.stream if scan else b"", FileRole.MAIN),
                _uploads(form.attachments.data, FileRole.ATTACHMENT),
                confirm_duplicate=bool(form.confirm_duplicate.data))
        except services.Duplicate as exc:
            session.rollback()
            form.form_errors.append(str(exc))
            duplicates = exc.matches
        except (ValidationFailed, storage.StorageError) as exc:
            session.rollback()
            _put_errors(form, exc.errors if isinstance(exc, ValidationFailed) else {"upload": str(exc)})
        else:
            flash_ok(f"Đã vào sổ văn bản giấy, số đến {doc.arrival_number:02d}.")
            return client_redirect(url_for("incoming.document", document_id=doc.id))
    return render("incoming/new.html", "incoming/_doc_new_form.html", 422 if form.is_submitted() else 200,
                  form=form, duplicates=duplicates, breadcrumbs=_crumbs(("Nhập văn bản giấy", request.path)))


@bp.get("/da-gui")
@login_required
def sent():
    """What became of what this organisation sent: the receiver's latest status only."""
    if not current_user.has_role(Role.CLERK, Role.AGENCY_LEADER):
        abort(403)
    docs = services.sender_statuses(current_user)
    latest = {doc.id: (services.sender_events(doc) or [None])[-1] for doc in docs}
    return render("incoming/sent.html", docs=docs, latest=latest, return_categories=services.RETURN_CATEGORIES,
                  breadcrumbs=_crumbs(("Trạng thái văn bản đã gửi", request.path)))


@bp.get("/nhac-viec")
@login_required
def reminders():
    rows = [(r, session.get(Assignment, r.assignment_id)) for r in services.reminders_for(current_user)]
    return render("incoming/reminders.html", rows=rows, breadcrumbs=_crumbs(("Nhắc việc", request.path)))
