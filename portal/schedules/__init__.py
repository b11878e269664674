"""Weekly work schedules (lịch công tác tuần, SPEC §9): the week page with inline editing, the
workflow (dự thảo → chờ duyệt → đã duyệt → đã công bố), the PDF and private iCalendar feeds."""

from flask import Blueprint

bp = Blueprint("schedules", __name__, url_prefix="/lich-cong-tac")

from portal.schedules import views, week_link, work  # noqa: E402,F401  (routes and inbox queues register on import)
