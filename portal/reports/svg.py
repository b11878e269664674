"""A small horizontal bar chart drawn on the server as plain SVG.

No script and no ``style=""``: the CSP (``style-src 'self'``) blocks style attributes, while SVG
presentation attributes (``fill``, ``font-size``) are attributes, not styles, and pass. Every label
is escaped: a unit named ``<b>`` must print as text, not open an element inside the page.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from portal.reports.services import Report

BAR = "#a3161a"
TRACK = "#eef1f5"
TEXT = "#1f2933"
WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 50
ROW_HEIGHT = 24
BAR_HEIGHT = 16
TOP = 8
MAX_LABEL = 34


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1].rstrip() + "…"


def bar_chart(bars: list[tuple[str, int]], *, title: str, description: str, chart_id: str = "bieu-do") -> Markup:
    """One bar per (label, value); lengths proportional to the largest value."""
    top = max((value for _, value in bars), default=0)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = TOP * 2 + ROW_HEIGHT * max(len(bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for i, (label, value) in enumerate(bars):
        y = TOP + i * ROW_HEIGHT
        length = round(span * value / top) if top else 0
        text_y = y + BAR_HEIGHT - 4
        parts += [
            f'<g class="bar"><title>{escape(label)}: {value}</title>',
            f'<text x="{LABEL_WIDTH - 8}" y="{text_y}" text-anchor="end" font-size="12" fill="{TEXT}">'
            f'{escape(_short(label))}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{span}" height="{BAR_HEIGHT}" fill="{TRACK}"/>',
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" fill="{BAR}" class="bar-value"/>',
            f'<text x="{LABEL_WIDTH + span + 6}" y="{text_y}" font-size="12" fill="{TEXT}">{value}</text></g>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every interpolated text above is escaped)


def report_chart(report: Report) -> Markup:
    """The report's first measure (received or issued) per row of its table."""
    measure = report.columns[0]
    return bar_chart([(row.label, row.values[measure.key]) for row in report.rows],
                     title=f"{report.title}: {measure.label.lower()}, {report.period.label}",
                     description=f"Biểu đồ thanh ngang: số văn bản {measure.label.lower()} "
                                 f"theo {report.group_label.lower()}, mỗi thanh là một dòng của bảng.")
