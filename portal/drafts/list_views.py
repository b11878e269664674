"""Routes of the draft and outgoing lists: one URL whose filters live in the query string, so a
list can be bookmarked and shared; htmx swaps only the rows (STYLE §1, contact-app). The same
parsing rules as the incoming lists: malformed input becomes a message and a 422, never a guess."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user, login_required

from portal import listing
from portal.documents.models import OutgoingStatus
from portal.drafts import bp, queries
from portal.drafts.services import can_create, time_limits
from portal.incoming import services as incoming_services
from portal.list_pages import chosen_queue, url_maker
from portal.navigation import draft_counts
from portal.params import Cursor, args, parse_id, query
from portal.web import render

PARAMS = ("ds", "q", "tu", "den", "khan", "loai")


def _cursor_ok(raw: str) -> bool:
    """"<rank>.<id>" as ``queries._key`` writes it: rank 0/1 or microseconds since 1970."""
    rank, dot, last = raw.partition(".")
    return bool(dot) and 0 < len(rank) <= 18 and rank.isascii() and rank.isdigit() and parse_id(last) is not None


QUERY = (*listing.FILTERS, Cursor("sau", "Trang", check=_cursor_ok))


def _filters() -> queries.Filters:
    parsed = args()
    errors = dict(parsed.errors)
    f = queries.Filters(q=parsed["q"], urgent=parsed["khan"], errors=errors)
    f.date_from, f.date_to = listing.period(parsed, errors)
    f.type_id = parsed["loai"]
    return f


@bp.get("/")
@login_required
@query(*QUERY, inline=True)
def index():
    """Every list of drafts and issued documents; the filter form swaps #drafts-rows."""
    available, queue = chosen_queue(queries)
    filters = _filters()
    cursor = args()["sau"]
    page = queries.page(current_user, queue, queries.Filters() if filters.errors else filters, cursor)
    types = incoming_services.document_types()
    return render("drafts/index.html", "drafts/_rows.html", status=422 if filters.errors else 200, queue=queue,
                  queues=available, filters=filters, rows=page, counts=draft_counts(), types=types,
                  list_url=url_maker("drafts.index", PARAMS), args=request.args, fmt_count=queries.format_count,
                  can_create=can_create(current_user), limits=time_limits(page.rows) if not queue.outgoing else {},
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")),
                               ("Dự thảo, văn bản đi", url_for("drafts.index"))])


@bp.get("/van-ban-di/<id:outgoing_id>")
@login_required
def outgoing(outgoing_id: int):
    """An issued document, read-only; for those without a draft (older or imported records)."""
    if current_user.organisation is None:
        abort(404)
    doc = queries.get_outgoing(current_user, outgoing_id)
    if doc is None:
        abort(404)
    listed = "da-phat-hanh" if doc.status == OutgoingStatus.ISSUED else "da-thu-hoi"
    return render("drafts/outgoing.html", doc=doc, draft_id=queries.draft_of(doc),
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard")),
                               ("Dự thảo, văn bản đi", url_for("drafts.index", ds=listed)),
                               (f"Số {doc.code_number}/{doc.code_notation}", request.path)])
