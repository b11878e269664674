"""Quản trị → Hộp thư đi: the e-mails that failed or still wait (sent ones on their own tab), newest first, and
"Gửi lại" for a failed one. Provincial IT only; the rules live in ``portal.outbox.resend`` and
``portal.outbox.queries``."""

from __future__ import annotations

from flask import url_for
from flask_login import current_user, login_required

from portal.admin import bp
from portal.auth.forms import EmptyForm
from portal.list_pages import url_maker
from portal.listing import format_count
from portal.outbox import queries, resend
from portal.params import Choice, Cursor, args, parse_id, query
from portal.steps import run_step
from portal.web import render

LIST = Choice("ds", "Danh sách", values=tuple(v.slug for v in queries.VIEWS))
AFTER = Cursor("sau", "Trang", check=lambda raw: parse_id(raw) is not None)  # the last id shown


def _page(shown: queries.View, after: int | None, status: int = 200, errors: list[str] | None = None):  # type: ignore[no-untyped-def]
    return render("admin/outbox.html", "admin/_outbox_rows.html", status, view=shown, views=queries.VIEWS,
                  rows=queries.page(current_user, shown, after), counts=queries.counts(current_user),
                  list_url=url_maker("admin.outbox", ()), fmt_count=format_count, errors=errors or [],
                  stale_days=resend.STALE_AFTER.days,
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Quản trị", url_for("admin.organisations")),
                               ("Hộp thư đi", url_for("admin.outbox"))])


@bp.get("/hop-thu-di")
@login_required
@query(LIST, AFTER)
def outbox():
    """The tabs and the pager swap only the rows (``#outbox-rows``); each URL is also a whole page."""
    after = args()["sau"]
    return _page(queries.view(args()["ds"]), int(after) if after else None)


@bp.post("/hop-thu-di/<id:message_id>/gui-lai")
@login_required
def resend_outbox_message(message_id: int):
    """One step of ``resend.RESEND``: the row locked and re-read, a repeat told what happened (409 for htmx),
    content no longer true refused with its reason (422, the list again)."""
    return run_step(workflow=resend.RESEND, action="resend", user=current_user,
                    load=lambda: resend.get(current_user, message_id), form=EmptyForm(),
                    call=lambda message, _form: resend.resend(current_user, message),
                    page=lambda _m, status, *, form, **_kw: _page(queries.DEFAULT, None, status, form.form_errors),
                    done=lambda m: f"Đã xếp thư tới {m.recipient} gửi lại; hệ thống sẽ gửi trong vòng một phút.",
                    back=lambda _m: url_for("admin.outbox", ds="dang-cho"), url=lambda _m: url_for("admin.outbox"))
