"""Incoming documents (văn bản đến): arrival, return, registration, presenting, directing,
handling, chasing, recall (SPEC §5). Services in ``services``; routes in ``list_views`` (lists,
search, counts), ``views`` (the document page and each step's form), ``lookup_views`` (pickers,
files) and ``intake_views`` (paper intake, sent, reminders). The step rules: ``workflow``."""

from flask import Blueprint

bp = Blueprint("incoming", __name__, url_prefix="/van-ban-den")

from portal.incoming import (  # noqa: E402,F401  (routes and tasks register on import)
    carry_views,
    extension_views,
    intake_views,
    list_views,
    lookup_views,
    pdf_views,
    tasks,
    views,
    work,
)
