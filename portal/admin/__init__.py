"""Quản trị: the organisation tree and the people in it. Issue 3 adds account administration."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/quan-tri")

from portal.admin import certificates, outbox_views, views, workdays  # noqa: E402,F401
