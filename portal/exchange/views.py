"""Exchange's pages. For now the type-ahead that picks an outside recipient from the national agency directory
(issue 17 item 5); the picker of the draft form asks it as the clerk types."""

from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

from portal.exchange import agencies, tasks  # noqa: F401  (tasks: the queue's jobs and incoming's listener)
from portal.params import Text, args, query
from portal.web import render

bp = Blueprint("exchange", __name__, url_prefix="/lien-thong")


@bp.get("/co-quan-ngoai")
@login_required
@query(Text("q", "Tên hoặc mã cơ quan", 200))
def agency_options():
    """Any signed-in person: the directory is public (QĐ 20 codes are published), and whoever composes the
    recipients of a draft picks from it."""
    q = args()["q"]
    return render("exchange/_agency_options.html", q=q, results=agencies.search(q))
