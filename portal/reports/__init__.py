"""Reports (báo cáo): how incoming and outgoing documents were handled in a month, quarter, half-year
or year, by unit or by person (SPEC §8.2, §12). Figures in ``services``; the chart in ``svg``; the
PDF in ``pdf``; routes in ``views``."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/bao-cao")

from portal.reports import views  # noqa: E402,F401  (routes register on import)
