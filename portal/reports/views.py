"""The report page and its PDF: one URL, the query string says which report (loai, ky, nam, so,
theo, co_quan) and ``dinh_dang=pdf`` asks for the PDF of the same figures."""

from __future__ import annotations

from io import BytesIO

from flask import abort, request, send_file, url_for
from flask_login import current_user, login_required

from portal import params
from portal.params import BadQuery, Choice, Id, Int, query
from portal.reports import bp, pdf, services, svg
from portal.timeutil import now_utc, to_local
from portal.web import render

PARAMS = ("loai", "ky", "nam", "so", "theo", "co_quan")
QUERY = (Choice("loai", "Loại báo cáo", tuple(services.Kind)), Choice("ky", "Kỳ báo cáo", tuple(services.PeriodKind)),
         Int("nam", "Năm", 2000, 2100), Int("so", "Số thứ tự của kỳ", 1, 12),
         Choice("theo", "Tổng hợp theo", tuple(services.Grouping)), Id("co_quan", "Cơ quan"),
         Choice("dinh_dang", "Định dạng", ("pdf",)))


@bp.app_template_filter("report_value")
def report_value(value: object) -> str:
    """Counts as they are, averages with a decimal comma (3,5), none as a dash."""
    if value is None:
        return "–"
    return f"{value:.1f}".replace(".", ",") if isinstance(value, float) else str(value)


def _request() -> tuple[services.Kind, services.Period, services.Grouping, int | None]:
    """The parsed query string; a period that does not exist (quarter 9) is 422 too, never a guess."""
    parsed = params.args()
    try:
        period = services.Period.parse(parsed["ky"], *(str(parsed[k]) if parsed[k] else None for k in ("nam", "so")))
    except services.BadPeriod as exc:
        raise BadQuery({"so": str(exc)}) from exc
    return (services.Kind(parsed["loai"] or services.Kind.INCOMING), period,
            services.Grouping(parsed["theo"] or services.Grouping.UNIT), parsed["co_quan"])


@bp.get("/")
@login_required
@query(*QUERY)
def index():  # type: ignore[no-untyped-def]
    """The form swaps #report; ``dinh_dang=pdf`` downloads the same report."""
    if not services.can_view(current_user):
        abort(403)
    kind, period, grouping, organisation_id = _request()
    report, scope = services.build(current_user, kind, period, grouping, organisation_id)
    if params.args()["dinh_dang"] == "pdf":
        return _pdf(report)
    chart = svg.report_chart(report)
    args = {k: request.args[k] for k in PARAMS if request.args.get(k)}
    pdf_url = url_for("reports.index", **args, dinh_dang="pdf")
    return render("reports/index.html", "reports/_report.html", report=report, scope=scope, chart=chart,
                  pdf_url=pdf_url, kinds=list(services.Kind), groupings=list(services.Grouping),
                  period_kinds=list(services.PeriodKind))


def _pdf(report: services.Report):  # type: ignore[no-untyped-def]
    data = pdf.build_report_pdf(report, current_user.full_name, to_local(now_utc()))
    name = f"{report.title} - {report.period.label}.pdf"
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
