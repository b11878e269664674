"""The pickers' type-ahead on a document page, and its files (every view and download audited)."""

from __future__ import annotations

import io

from flask import abort, send_file
from flask_login import current_user, login_required

from portal import storage, viewer
from portal.auth.models import User
from portal.db import session
from portal.errors import NotAllowed
from portal.incoming import bp, services
from portal.incoming.pickers import LOOKUP, LOOKUP_ROW, PICKER_STEPS, post_of
from portal.incoming.views import _display_name
from portal.orgs.models import Organisation
from portal.params import Choice, args, query
from portal.web import render

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
    kind = None if row.warning else storage.KINDS.get(storage.extension_of(row.filename))
    # a flagged file (received from outside, its content not what its name says) is only ever downloaded
    return send_file(io.BytesIO(data), mimetype=kind.content_type if kind else "application/octet-stream",
                     as_attachment=download or bool(row.warning), download_name=row.filename, max_age=0)


@bp.get("/<id:document_id>/tep/<id:file_id>")
@login_required
def file_view(document_id: int, file_id: int):
    return _file(document_id, file_id, download=False)


@bp.get("/<id:document_id>/tep/<id:file_id>/tai-ve")
@login_required
def file_download(document_id: int, file_id: int):
    return _file(document_id, file_id, download=True)




@bp.get("/<id:document_id>/tep/<id:file_id>/trang/<id:page>")
@login_required
@query(Choice("rong", "Độ rộng", [str(w) for w in viewer.WIDTHS]))
def file_page(document_id: int, file_id: int, page: int):
    """One page of a visible document's PDF as an image (the viewer beside the actions)."""
    doc = services.get_visible(current_user, document_id)
    row = services.file_of(doc, file_id)
    if row.warning or not viewer.is_pdf(row.filename):
        abort(404)
    try:
        png = viewer.page_png(row.sha256, page - 1, int(args()["rong"] or viewer.DEFAULT_WIDTH))
    except viewer.PreviewUnavailable as exc:
        return str(exc), 404, {"Content-Type": "text/plain; charset=utf-8"}
    response = send_file(io.BytesIO(png), mimetype="image/png", max_age=3600)
    response.cache_control.private = True  # only for who may see the document
    return response
