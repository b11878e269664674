"""Hệ thống quản lý văn bản và điều hành: the application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import LazyString

from portal import config


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(config.ROOT / "templates"),
        static_folder=str(config.ROOT / "static"),
        instance_path=str(config.ROOT / "instance"),
    )
    app.config.update(config.load(overrides))
    if int(app.config["TRUSTED_PROXIES"]):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    secure = bool(app.config["SESSION_COOKIE_SECURE"])
    app.config.update(
        # "__Host-" binds the cookie to this host and path "/" over https (SPEC §13.3); browsers
        # refuse that prefix without Secure, so plain-http LAN installs use an ordinary name
        SESSION_COOKIE_NAME="__Host-qlvb" if secure else "qlvb_session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        REMEMBER_COOKIE_DURATION=0,
    )

    from portal import db, params, web
    from portal.extensions import babel, csrf, htmx, login_manager

    db.init_app(app)
    if not app.testing:  # the suite builds its apps as a superuser on purpose
        from portal import db_roles

        db_roles.warn_at_start(app.extensions["engine"], app.logger)  # a role that could shorten the audit log
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=lambda: "vi", timezone_selector=lambda: app.config["TIMEZONE"])
    _init_login(app, login_manager)
    web.init_app(app)
    params.init_app(app)  # the id converter, before the blueprints' rules
    _register_blueprints(app)
    _register_template_helpers(app)
    from portal import jobs
    from portal.backup import nightly  # noqa: F401  (the nightly backup: a periodic task)
    from portal.inbox import tasks as inbox_tasks  # noqa: F401  (the nightly rebuild of the inbox)
    from portal.outbox import tasks  # noqa: F401  (the drain and expiry notices: periodic tasks, CLI)

    jobs.init_app(app)  # after the blueprints: their modules register the job kinds and periodic tasks

    from portal.cli import cli

    app.cli.add_command(cli)
    return app


def _init_login(app: Flask, login_manager: Any) -> None:
    from flask import request, url_for
    from flask_login import login_url

    from portal.auth.views import load_user
    from portal.web import client_redirect

    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side AuthSession is the authority
    login_manager.user_loader(load_user)

    @login_manager.unauthorized_handler
    def _unauthorized():  # type: ignore[no-untyped-def]
        # htmx requests get HX-Redirect: a 302 would be followed and the login page swapped
        # into whatever element asked (STYLE §2)
        target = request.full_path.rstrip("?") if request.method == "GET" else request.headers.get(
            "HX-Current-URL", url_for("main.dashboard"))
        return client_redirect(login_url("auth.login", next_url=target))


def _register_blueprints(app: Flask) -> None:
    from portal.admin import bp as admin_bp
    from portal.auth import bp as auth_bp
    from portal.drafts import bp as drafts_bp
    from portal.exchange.views import bp as exchange_bp
    from portal.incoming import bp as incoming_bp
    from portal.main import bp as main_bp
    from portal.notifications import bp as notifications_bp
    from portal.registers import bp as registers_bp
    from portal.reports import bp as reports_bp
    from portal.schedules import bp as schedules_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(incoming_bp)
    app.register_blueprint(drafts_bp)
    app.register_blueprint(registers_bp)
    app.register_blueprint(schedules_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(exchange_bp)
    app.register_blueprint(notifications_bp)


def _register_template_helpers(app: Flask) -> None:
    from portal import timeutil
    from portal.auth.forms import EmptyForm
    from portal.documents.models import Urgency
    from portal.documents.numbering import display as number_display
    from portal.navigation import navigation
    from portal.orgs import province

    app.jinja_env.filters["date_vn"] = timeutil.format_date
    app.jinja_env.filters["datetime_vn"] = timeutil.format_datetime
    app.jinja_env.filters["number"] = number_display
    app.jinja_env.filters["urgency"] = lambda value: Urgency(int(value or 0)).label

    def _province_name() -> str:
        """Read from the root organisation's row at most once per request, and only by pages that
        show it (fragments don't)."""
        if "province_name" not in g:
            g.province_name = province.province_name(app.config.get("PROVINCE_NAME"))
        return str(g.province_name)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"empty_form": EmptyForm, "navigation": navigation, "province_name": LazyString(_province_name)}
