"""Incoming documents (văn bản đến): arrival, return, registration, presenting, directing,
handling, chasing, recall (SPEC §5). Services in ``services``; routes in ``list_views`` (lists,
search, counts) and ``views`` (the document page and each step's form)."""

from flask import Blueprint

bp = Blueprint("incoming", __name__, url_prefix="/van-ban-den")

from portal.incoming import list_views, pdf_views, views  # noqa: E402,F401  (routes register on import)
