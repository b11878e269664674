"""Register books (sổ văn bản, SPEC §8): the four books of NĐ 30 Phụ lục IV as PDF, made in the
background for big books, with progress and an audited download. Queries and permissions in
``services``, the PDF in ``pdf``, the background work in ``jobs``, routes in ``views``."""

from flask import Blueprint

bp = Blueprint("registers", __name__, url_prefix="/so-van-ban")

from portal.registers import views  # noqa: E402,F401  (routes register on import)
