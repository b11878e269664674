"""Drafts and outgoing documents (dự thảo, văn bản đi): drafting, comments, approval, format
check, signatures, numbering, issuance, delivery status and recall (SPEC §6–7). Services in
``services`` (the transition table in ``workflow``); signatures through ``signatures``; routes in
``list_views`` (lists, search), ``views`` (the draft page and each step's form), ``file_views``
(files, audited) and ``lookup_views`` (the pickers' type-ahead)."""

from flask import Blueprint

bp = Blueprint("drafts", __name__, url_prefix="/du-thao")

from portal.drafts import file_views, list_views, lookup_views, views, work  # noqa: E402,F401  (routes, inbox queues)
