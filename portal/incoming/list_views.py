"""Routes of the incoming lists: one URL per list whose filters live in the query string, so a
list can be bookmarked and shared; htmx swaps only the rows (STYLE §1, contact-app)."""

from __future__ import annotations

import re

from flask import request, url_for
from flask_login import current_user, login_required

from portal import listing
from portal.documents.models import IncomingStatus
from portal.incoming import bp, queries
from portal.incoming import services as incoming_services
from portal.list_pages import chosen_queue, url_maker
from portal.navigation import incoming_counts
from portal.params import Choice, Cursor, Text, args, parse_id, query
from portal.timeutil import local_today
from portal.web import render

PARAMS = ("ds", "q", "tu", "den", "khan", "cq", "loai", "tt", "nguoi")
STATUS_CHOICES = [s for s in IncomingStatus if s != IncomingStatus.RECALLED]
QUERY = (*listing.FILTERS, Text("cq", "Cơ quan gửi", 200), Text("nguoi", "Người xử lý", 100),
         Choice("tt", "Trạng thái", tuple(s.value for s in STATUS_CHOICES)),
         Cursor("sau", "Trang", check=lambda raw: re.fullmatch(r"[01][0-9]{29}", raw) is not None))  # sort_key


def _filters() -> queries.Filters:
    """The query string as filters; anything malformed becomes a message, never a guess."""
    parsed = args()
    errors = dict(parsed.errors)
    f = queries.Filters(q=parsed["q"], organ=parsed["cq"], urgent=parsed["khan"], errors=errors)
    f.date_from, f.date_to = listing.period(parsed, errors)
    f.type_id, f.status = parsed["loai"], parsed["tt"] or ""
    if (who := parsed["nguoi"]) and parse_id(who) is not None:
        f.assignee_id = parse_id(who)
    else:
        f.assignee_name = who
    return f


@bp.get("/")
@login_required
@query(*QUERY, inline=True)
def index():
    """Every list of incoming documents; the filter form swaps #incoming-rows."""
    available, queue = chosen_queue(queries)
    filters = _filters()
    status = 422 if filters.errors else 200
    cursor = args()["sau"]
    page = queries.page(current_user, queue, queries.Filters() if filters.errors else filters, cursor)
    counts = dict(incoming_counts())
    if "qua-han" in queries.QUEUES and queries.QUEUES["qua-han"].available(current_user):
        counts["qua-han"] = queries.overdue_count(current_user)  # time, not a queue: from the items' index
    if "sap-den-han" in queries.QUEUES and queries.QUEUES["sap-den-han"].available(current_user):
        counts["sap-den-han"] = queries.due_soon_count(current_user)
    types = incoming_services.document_types()
    return render("incoming/index.html", "incoming/_rows.html", status=status, queue=queue, queues=available,
                  filters=filters, rows=page, counts=counts, types=types, statuses=STATUS_CHOICES,
                  list_url=url_maker("incoming.index", PARAMS), args=request.args, today=local_today(),
                  limits=incoming_services.time_limits(page.rows),
                  fmt_count=queries.format_count,
                  doc_base=url_for("incoming.document", document_id=1)[:-1],  # + id: no url_for per row
                  can_digitise=incoming_services.is_clerk(current_user),
                  can_see_sent=incoming_services.may_see_sent(current_user),
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")), ("Văn bản đến", url_for("incoming.index"))])

