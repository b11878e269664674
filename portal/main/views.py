from __future__ import annotations

from flask import current_app, jsonify, url_for
from flask_login import current_user, login_required

from portal.main import bp, services
from portal.navigation import inbox_counts
from portal.params import Choice, Int, args, query
from portal.timeutil import local_year
from portal.web import render

SOURCE_CHOICES = ("incoming", "draft", "schedule")


@bp.get("/")
@login_required
@query(Choice("loai", "Loại việc", values=SOURCE_CHOICES), Int("trang", "Trang", low=1, high=100_000))
def dashboard():
    """Việc của tôi: everything waiting for the signed-in person (the filter and the pager swap #inbox-rows)."""
    source = args()["loai"] or None
    counted = services.figures(current_user, inbox_counts())
    pages = services.pages(counted, source, args()["trang"] or 1)
    rows = services.inbox_rows(current_user, source, pages.number) if current_user.organisation else []
    links = {r.row.id: url_for(services.SOURCES[r.row.source].endpoint,
                               **{services.SOURCES[r.row.source].id_arg: r.row.subject_id}) for r in rows}
    return render("main/dashboard.html", "main/_inbox_rows.html", summary=services.summary(
                  current_user, local_year(), counted), year=local_year(), counted=counted, rows=rows, links=links,
                  pages=pages, source=source, sources=services.inbox_sources(),
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard"))])


@bp.get("/healthz")
def healthz():
    """For load balancers and monitoring: no sign-in, no personal data."""
    database = services.database_health()
    ok = database["status"] == "ok"
    return jsonify(status="ok" if ok else "error", database=database), 200 if ok else 503


@bp.get("/readyz")
def readyz():
    """Like /healthz, with ``warnings`` an operator must act on (the audit log's protection)."""
    ready = services.readiness(current_app.config["AUDIT_ANCHOR_FILE"])
    return jsonify(ready), 200 if ready["status"] == "ok" else 503
