"""The weekly schedule (SPEC §9), the package's public face: callers import from here, the code
lives by sub-domain. No Flask here.

- ``access``    who is who (editor, approver, reader), calendars, weeks, entries one may reach
- ``workflow``  the transition tables (``WEEK``, ``ENTRY``): who may act in which state, what a
                repeated step already did
- ``review``    submit, approve, return, publish
- ``entries``   add / change / cancel with post-publication marks, double-booking checks
- ``display``   weeks and days, entries as text, the page's layout
- ``feeds``     private iCalendar feeds
"""

from __future__ import annotations

from portal.auth.models import User
from portal.schedules.access import (
    calendar_for,
    calendars_for,
    can_read,
    can_see_week,
    ensure_week,
    find_participants,
    find_week,
    get_calendar,
    get_entry,
    is_approver,
    is_editor,
    leaders_of,
    participant_name,
    people_among,
    people_of,
    units_of,
)
from portal.schedules.display import (
    NOON,
    WEEKDAYS,
    Day,
    Row,
    day_heading,
    layout,
    monday_of,
    parse_week,
    row_of,
    snapshot,
    time_label,
    week_title,
)
from portal.schedules.entries import (
    DEFAULT_LENGTH,
    LIMITS,
    Conflict,
    EntryData,
    add_entry,
    cancel_entry,
    check_entry,
    conflicts_of,
    interval,
    update_entry,
)
from portal.schedules.feeds import FEED_HISTORY, create_feed, feed, feeds_of, revoke_feed
from portal.schedules.models import Calendar, Week
from portal.schedules.review import approve, publish, return_week, submit
from portal.schedules.workflow import ENTRY, WEEK, Unsaved

__all__ = [
    "DEFAULT_LENGTH", "ENTRY", "FEED_HISTORY", "LIMITS", "NOON", "WEEK", "WEEKDAYS", "Conflict", "Day", "EntryData",
    "Row", "Unsaved", "add_entry", "approve", "available_actions", "calendar_for", "calendars_for", "can_read",
    "can_see_week", "cancel_entry", "check_entry", "conflicts_of", "create_feed", "day_heading", "ensure_week",
    "feed", "feeds_of", "find_participants", "find_week", "get_calendar", "get_entry", "interval", "is_approver",
    "is_editor", "layout", "leaders_of", "monday_of", "parse_week", "participant_name", "people_among", "people_of",
    "publish", "return_week", "revoke_feed", "row_of", "snapshot", "submit", "time_label", "units_of", "update_entry",
    "week_title",
]


def available_actions(user: User, cal: Calendar, week: Week | None) -> set[str]:
    """What the week page offers: exactly what the table lets through (a week without a row is a draft)."""
    return WEEK.allowed(user, week if week is not None else Unsaved(cal))
