"""The inbox's link to a week (``work.SOURCE``): its calendar's page at that week."""

from flask import redirect, url_for
from flask_login import current_user, login_required

from portal.schedules import bp
from portal.schedules.work import week_location


@bp.get("/tuan/<id:week_id>")
@login_required
def week_item(week_id: int):  # type: ignore[no-untyped-def]
    calendar_id, monday = week_location(current_user, week_id)
    return redirect(url_for("schedules.index", lich=calendar_id, tuan=monday))
