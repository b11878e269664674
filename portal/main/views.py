from __future__ import annotations

from flask import current_app, jsonify, url_for
from flask_login import current_user, login_required

from portal.incoming import queries
from portal.main import bp, services
from portal.navigation import incoming_counts
from portal.timeutil import local_year
from portal.web import render


@bp.get("/")
@login_required
def dashboard():
    summary = services.summary(current_user, local_year())
    queues = queries.queues_for(current_user) if current_user.organisation else []
    counts = incoming_counts()
    return render("main/dashboard.html", summary=summary, year=local_year(), counts=counts,
                  work=[q for q in queues if q.slug in counts], fmt_count=queries.format_count,
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
