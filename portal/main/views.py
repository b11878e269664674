from __future__ import annotations

from flask import jsonify, url_for
from flask_login import current_user, login_required

from portal.main import bp, services
from portal.timeutil import local_year
from portal.web import render


@bp.get("/")
@login_required
def dashboard():
    summary = services.summary(current_user, local_year())
    return render("main/dashboard.html", summary=summary, year=local_year(),
                  breadcrumbs=[("Trang chủ", url_for("main.dashboard"))])


@bp.get("/healthz")
def healthz():
    """For load balancers and monitoring: no sign-in, no personal data."""
    database = services.database_health()
    ok = database["status"] == "ok"
    return jsonify(status="ok" if ok else "error", database=database), 200 if ok else 503
