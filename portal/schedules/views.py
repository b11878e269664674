"""The week page, inline entry editing, the workflow buttons, the PDF and the feeds (SPEC §9).

Each handler: load what the person may see (404) → the form → **one** service call (which checks
the person and the week state again, 403) → the row for htmx or a 303 back to the week. Every
fragment URL also answers a plain GET with a whole page, so the page works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from io import BytesIO

from flask import Response, abort, flash, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from portal import audit, once
from portal.auth.forms import EmptyForm
from portal.auth.models import User
from portal.db import session
from portal.errors import NotFound, ValidationFailed
from portal.params import Choice, Date, Id, Ids, Text, Week, args, in_years, query
from portal.schedules import bp, ical, pdf, services
from portal.schedules.forms import EntryForm, FeedForm, ReturnForm
from portal.schedules.models import Calendar, Entry, FeedKind
from portal.schedules.models import Week as WeekRow
from portal.schedules.workflow import at_by, deleted
from portal.steps import run_step
from portal.timeutil import local_today
from portal.web import client_redirect, flash_ok, render, wants_fragment
from portal.workflow import AlreadyDone

ENTRY_TOKEN = "schedule_entry"  # noqa: S105  (the kind of a one-time form token, not a secret)


def _monday(text: str) -> date:
    """A week's Monday in a path; any other text, or a Monday at the ends of the calendar (the week's
    days run past 9999-12-31), is no week: 404."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        abort(404)
    if day.weekday() != 0 or not in_years(day):
        abort(404)
    return day


def week_url(cal: Calendar, monday: date, **anchor: str) -> str:
    return url_for("schedules.index", lich=cal.id, tuan=monday.isoformat(), **anchor)


def _form(cal: Calendar, monday: date, entry: Entry | None = None, *, day: date | None = None) -> EntryForm:
    """A fresh form (``formdata=None``) for GETs; the typed one on POSTs."""
    form = EntryForm(formdata=None) if request.method == "GET" else EntryForm()
    form.offer(monday, services.leaders_of(cal.organisation_id), services.units_of(cal.organisation_id))
    if request.method == "GET":
        if entry is not None:
            form.fill(entry)
        else:
            form.day.data = (day or monday).isoformat()
    form.show_chosen(services.people_among(cal.organisation_id, form.participant_ids.data or []))
    return form


def _week_page(cal: Calendar, monday: date, status: int = 200, fragment: str | None = None,  # type: ignore[no-untyped-def]
               calendars: list[Calendar] | None = None, **extra: object):
    week = services.find_week(cal, monday)
    visible = services.can_see_week(current_user, cal, week)
    actions = services.available_actions(current_user, cal, week)
    this_week = services.monday_of(local_today())
    extra.setdefault("return_form", ReturnForm(formdata=None))  # a refused return shows its own, with the message
    return render(
        "schedules/week.html", fragment, status, cal=cal, monday=monday, week=week, visible=visible,
        days=services.layout(monday, week.entries if week is not None and visible else []),
        actions=actions, today=local_today(), calendars=calendars or services.calendars_for(current_user),
        this_week=this_week,
        prev_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7),
        title_range=services.week_title(monday),
        is_approver=services.is_approver(current_user, cal), is_editor=services.is_editor(current_user, cal),
        breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Lịch công tác", url_for("schedules.index"))],
        **extra)


def _row(entry: Entry, status: int = 200):  # type: ignore[no-untyped-def]
    week = entry.week
    return _week_page(week.calendar, week.monday, status, "schedules/_entry_row.html",
                      row=services.row_of(entry), can_edit="edit" in services.available_actions(
                          current_user, week.calendar, week))


def _day_rows(entry: Entry):  # type: ignore[no-untyped-def]
    """A new entry under its day at once: that day's rows again, in time order, swapped out of band
    (whichever day's "+ Thêm lịch" opened the form); the form's own row gives way to nothing."""
    week = entry.week
    return _week_page(week.calendar, week.monday, 200, "schedules/_day_rows.html", day=entry.day)


def _saved(entry: Entry, conflicts: list[services.Conflict], message: str,  # type: ignore[no-untyped-def]
           *, added: bool = False):
    if conflicts:
        flash("Đã lưu, nhưng trùng lịch: " + "; ".join(c.text for c in conflicts), "warning")
    else:
        flash_ok(message)
    if wants_fragment():
        return _day_rows(entry) if added else _row(entry)
    return client_redirect(week_url(entry.week.calendar, entry.week.monday, _anchor=f"entry-{entry.id}"))


# --- the week --------------------------------------------------------------------------------------

@bp.get("/")
@login_required
@query(Id("lich", "Lịch"), Week("tuan", "Tuần"))
def index():  # type: ignore[no-untyped-def]
    """?lich=<calendar>&tuan=2026-03-02 (any day) or 2026-W10; the person's organisation and this week by default."""
    calendar_id = args()["lich"]
    calendars = services.calendars_for(current_user)
    cal = services.get_calendar(current_user, calendar_id) if calendar_id else calendars[0]
    return _week_page(cal, services.parse_week(args()["tuan"]), calendars=calendars)


@bp.get("/lich/<id:calendar_id>/<monday>/lich-cong-tac.pdf")
@login_required
def week_pdf(calendar_id: int, monday: str):  # type: ignore[no-untyped-def]
    cal, day = services.get_calendar(current_user, calendar_id), _monday(monday)
    week = services.find_week(cal, day)
    if not services.can_see_week(current_user, cal, week):
        abort(404)
    content = pdf.build_week_pdf(pdf.week_pdf_data(cal, day, week, local_today()))  # before the audit row (head lock)
    audit.record(current_user, "schedules.pdf_printed", week, organisation_id=cal.organisation_id)
    response = send_file(BytesIO(content), mimetype="application/pdf", as_attachment=True,
                         download_name=f"lich-cong-tac-{day.isoformat()}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- entries ---------------------------------------------------------------------------------------

@bp.route("/lich/<id:calendar_id>/<monday>/them", methods=["GET", "POST"])
@login_required
@query(Date("ngay", "Ngày"))
def add_entry(calendar_id: int, monday: str):  # type: ignore[no-untyped-def]
    """htmx appends the empty form as a row under the day and swaps the saved row in its place.
    The form's one-time token makes a second submission of it answer with the entry it made."""
    cal, day = services.get_calendar(current_user, calendar_id), _monday(monday)
    if "edit" not in services.available_actions(current_user, cal, services.find_week(cal, day)):
        abort(403)
    form = _form(cal, day, day=args()["ngay"] or day)
    token = request.form.get(once.FIELD)
    if form.is_submitted():
        try:
            if form.validate():
                if (made := once.claim(current_user.id, token, ENTRY_TOKEN)) is not None:
                    return _made_before(made, cal, day)
                entry, conflicts = services.add_entry(current_user, cal, day, form.entry_data())
                once.remember(token, entry.id)
                return _saved(entry, conflicts, "Đã thêm mục lịch.", added=True)
            services.check_entry(cal, day, form.entry_data())  # the other fields' messages too
        except ValidationFailed as exc:
            session.rollback()  # the token's claim too, so the corrected form can be sent again
            form.show(exc)
    return _week_page(cal, day, 422 if form.is_submitted() else 200, "schedules/_entry_form_row.html",
                      form=form, entry=None, editing=True, once_token=token or once.new_token())


def _made_before(entry_id: int, cal: Calendar, day: date) -> Response:
    """The same form was sent again: no second entry; back to the week at the one it made."""
    made = session.get(Entry, entry_id)
    if made is None:  # made, then removed before publication
        flash("Mục lịch của biểu mẫu này đã được thêm trước đó (và đã được xóa).", "info")
        return client_redirect(week_url(cal, day))
    by = session.get(User, made.created_by_id) if made.created_by_id else None
    flash(f"Mục lịch “{made.content[:80]}” đã được thêm trước đó {at_by(made.created_at, by)}; "
          "không thêm lần nữa.", "info")
    return client_redirect(week_url(made.week.calendar, made.week.monday, _anchor=f"entry-{made.id}"))


@bp.get("/muc/<id:entry_id>")
@login_required
def entry(entry_id: int):  # type: ignore[no-untyped-def]
    """The row (htmx: "Thôi" in the edit form); a browser gets the whole week."""
    return _row(services.get_entry(current_user, entry_id))


@bp.route("/muc/<id:entry_id>/sua", methods=["GET", "POST"])
@login_required
def edit_entry(entry_id: int):  # type: ignore[no-untyped-def]
    item = services.get_entry(current_user, entry_id)
    week = item.week
    services.ENTRY.guard(current_user, "change", item)  # the form only where the table allows the step
    form = _form(week.calendar, week.monday, item)
    if form.is_submitted():
        try:
            if form.validate():
                item, conflicts = services.update_entry(current_user, item, form.entry_data())
                return _saved(item, conflicts, "Đã lưu mục lịch.")
            services.check_entry(week.calendar, week.monday, form.entry_data())
        except ValidationFailed as exc:
            form.show(exc)
    return _week_page(week.calendar, week.monday, 422 if form.is_submitted() else 200,
                      "schedules/_entry_form_row.html", form=form, entry=item, editing=True)


@bp.post("/muc/<id:entry_id>/huy")
@login_required
def cancel_entry(entry_id: int):  # type: ignore[no-untyped-def]
    """Before publication the row goes away; after it, the row comes back marked "Hủy". A second
    press finds it done (AlreadyDone: the week with what happened)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    item = _entry_or_gone(entry_id)
    cal, monday, published = item.week.calendar, item.week.monday, item.week.is_published
    try:
        services.cancel_entry(current_user, item)
    except AlreadyDone as exc:
        exc.url = week_url(cal, monday)
        raise
    flash_ok("Đã hủy mục lịch." if published else "Đã xóa mục lịch.")
    if wants_fragment():
        return _row(item) if published else render("schedules/week.html", "schedules/_nothing.html")
    return client_redirect(week_url(cal, monday))


def _entry_or_gone(entry_id: int) -> Entry:
    """The entry, or AlreadyDone if it was removed (for a person who could have removed it), else 404."""
    try:
        return services.get_entry(current_user, entry_id)
    except NotFound:
        gone = deleted(current_user, entry_id)
        if gone is None:
            raise
        message, calendar_id, monday = gone
        raise AlreadyDone(message, url_for("schedules.index", lich=calendar_id, tuan=monday.isoformat()),
                          action="schedule_entry.cancel") from None


# --- the participants' type-ahead -----------------------------------------------------------------

def _picking(calendar_id: int) -> Calendar:
    """The calendar, for one who fills its entry forms (an editor); others are refused (403)."""
    cal = services.get_calendar(current_user, calendar_id)
    if not services.is_editor(current_user, cal):
        abort(403)
    return cal


@bp.get("/lich/<id:calendar_id>/thanh-phan")
@login_required
@query(Text("q", "Từ khóa", 200))
def find_participants(calendar_id: int):  # type: ignore[no-untyped-def]
    """"Thành phần" as one types: the organisation's units and people, as buttons that add a chip."""
    cal = _picking(calendar_id)
    q = args()["q"][:100]
    units, people = services.find_participants(cal.organisation_id, q)
    return render("schedules/_participant_results.html", cal=cal, q=q, units=units, people=people)


@bp.get("/lich/<id:calendar_id>/thanh-phan/chon")
@login_required
@query(Choice("kind", "Loại", ("unit", "person")), Id("id", "Đơn vị hoặc người"),
       Ids("participant_ids", "Người đã chọn"), Ids("unit_ids", "Đơn vị đã chọn"))
def participant_chip(calendar_id: int):  # type: ignore[no-untyped-def]
    """One chip (its hidden input and its remove button); a unit or person outside the organisation
    is 404, one already chosen is nothing (204). Saving the entry checks every id again."""
    cal = _picking(calendar_id)
    kind, ident = args()["kind"] or "person", args()["id"]
    if ident is None:
        abort(404)
    if ident in args()["unit_ids" if kind == "unit" else "participant_ids"]:
        return "", 204
    name = services.participant_name(cal.organisation_id, kind, ident)
    if name is None:
        abort(404)
    return render("schedules/_participant_chip.html", kind=kind, ident=ident, name=name)


# --- workflow --------------------------------------------------------------------------------------
#
# Each button is one step of ``services.WEEK`` run by ``portal.steps.run_step``: the week locked
# and re-read, the table's guard (a repeat is AlreadyDone: the week with a notice), the form, one
# service call, a notice and back to the week.

DONE = {"submit": "Đã gửi lịch tuần để lãnh đạo duyệt.", "approve": "Đã duyệt lịch tuần.",
        "publish": "Đã công bố lịch tuần.", "return": "Đã trả lại lịch tuần cho người lập lịch."}


def _week_step(calendar_id: int, monday: str, action: str, form: FlaskForm,
               call: Callable[[WeekRow, FlaskForm], object]):  # type: ignore[no-untyped-def]
    cal, day = services.get_calendar(current_user, calendar_id), _monday(monday)

    def load() -> WeekRow:
        if action == "submit":  # the first step of a week may be the one that makes its row
            return services.ensure_week(cal, day)
        week = services.find_week(cal, day)
        if week is None or not services.can_see_week(current_user, cal, week):
            abort(404)
        return week

    def page(week: WeekRow, status: int, *, step: str, form: FlaskForm, **extra: object):  # type: ignore[no-untyped-def]
        if step == "return":
            return _week_page(cal, day, status, "schedules/_return_form.html", return_form=form)
        abort(400)

    return run_step(workflow=services.WEEK, action=action, user=current_user, load=load, form=form, call=call,
                    page=page, done=DONE[action], back=lambda w: week_url(cal, day), url=lambda w: week_url(cal, day))


@bp.post("/lich/<id:calendar_id>/<monday>/gui-duyet")
@login_required
def submit(calendar_id: int, monday: str):  # type: ignore[no-untyped-def]
    return _week_step(calendar_id, monday, "submit", EmptyForm(),
                      lambda w, f: services.submit(current_user, w.calendar, w.monday))


@bp.post("/lich/<id:calendar_id>/<monday>/duyet")
@login_required
def approve(calendar_id: int, monday: str):  # type: ignore[no-untyped-def]
    return _week_step(calendar_id, monday, "approve", EmptyForm(), lambda w, f: services.approve(current_user, w))


@bp.post("/lich/<id:calendar_id>/<monday>/cong-bo")
@login_required
def publish(calendar_id: int, monday: str):  # type: ignore[no-untyped-def]
    return _week_step(calendar_id, monday, "publish", EmptyForm(), lambda w, f: services.publish(current_user, w))


@bp.post("/lich/<id:calendar_id>/<monday>/tra-lai")
@login_required
def return_week(calendar_id: int, monday: str):  # type: ignore[no-untyped-def]
    return _week_step(calendar_id, monday, "return", ReturnForm(),
                      lambda w, f: services.return_week(current_user, w, f.comment.data or ""))


# --- iCalendar feeds -------------------------------------------------------------------------------

@bp.route("/dong-bo", methods=["GET", "POST"])
@login_required
def feeds():  # type: ignore[no-untyped-def]
    """The person's private addresses; a new one is shown once, right here (never flashed: the
    session cookie is signed, not encrypted)."""
    form = FeedForm()
    created = None
    if form.validate_on_submit():
        _token, secret = services.create_feed(current_user, FeedKind(form.kind.data))
        created = url_for("schedules.ical_feed", token=secret, _external=True)
    return render("schedules/feeds.html", "schedules/_feeds.html", form=FeedForm(formdata=None),
                  feeds=services.feeds_of(current_user), created=created,
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Lịch công tác", url_for("schedules.index")),
                               ("Đồng bộ lịch", url_for("schedules.feeds"))])


@bp.post("/dong-bo/<id:token_id>/thu-hoi")
@login_required
def revoke_feed(token_id: int) -> Response:
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.revoke_feed(current_user, token_id)
    flash_ok("Đã thu hồi địa chỉ đồng bộ; lịch trên điện thoại sẽ không cập nhật nữa.")
    return client_redirect(url_for("schedules.feeds"))


@bp.get("/ical/<token>.ics")
def ical_feed(token: str) -> Response:
    """No sign-in: the secret in the address is the permission."""
    feed, entries = services.feed(token)
    name = f"{feed.kind.label} · {feed.organisation.short_name}"
    response = Response(ical.build_feed(name, entries), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="lich-cong-tac.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
