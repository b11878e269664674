"""Working days, working hours and legal time limits (SPEC §5.3, §5.6, §6.3, §16, §17 #11; issue 18).

Core: imports no feature, so incoming, drafts, reports and registers all count days the same way.

- ``calendar``   is_working_day, add_working_days, working_days_between, next/previous working day,
                 effective_deadline (a deadline on a day off runs to the next working day), the cut-off
                 days lists compare with; per year: weekends, the ``holidays`` package's Vietnamese
                 holidays (Tết included) and compensating Saturdays, then IT's overrides; cached
- ``hours``      office hours (``PORTAL_WORK_HOURS``), add_working_hours, working_time_between
- ``limits``     the procedures' time limits as settings, ``due_for``, "còn 2 giờ làm việc" / "trễ 1
                 ngày làm việc" (``describe``), the registry of sources and ``near_or_past``
- ``deadlines``  a deadline typed as a date or as N working days
- ``service``    IT's overrides (Quản trị → Ngày làm việc, ``portal workdays …``), audited; on_change
- ``models``     WorkdayOverride
"""

from portal.workdays.calendar import (
    add_working_days,
    effective_deadline,
    is_working_day,
    next_working_day,
    overdue_cutoff,
    previous_working_day,
    working_days_between,
)
from portal.workdays.hours import add_working_hours, working_time_between

__all__ = [
    "add_working_days",
    "add_working_hours",
    "effective_deadline",
    "is_working_day",
    "next_working_day",
    "overdue_cutoff",
    "previous_working_day",
    "working_days_between",
    "working_time_between",
]
