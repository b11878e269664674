"""Notifications (issue 18 item 2): an in-app notice for each event that puts work on someone or answers them,
the bell with the unread count, a page, and per-person settings for which kinds also go by e-mail (at once or
in a daily digest) through the outbox. Never twice (a key per event and person), never an attachment."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/thong-bao")

from portal.notifications import daily, events, views  # noqa: E402,F401  (routes and listeners register on import)
