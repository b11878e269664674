"""Deadlines counted in working days inside a report's one query (SPEC §12, portal/workdays): a deadline on
a day off runs to the next working day. The days off of the years around the period travel with the query as
a small VALUES list (day → the working day it runs to) joined to the deadline column, so the figures stay
one set-based statement on SQLite and PostgreSQL; any other deadline is its own working day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, bindparam, column, func, text
from sqlalchemy.sql.elements import ColumnElement

from portal.workdays.calendar import effective_deadline, non_working_days

BEFORE, AFTER = timedelta(days=92), timedelta(days=731)  # deadlines set before or long after the period are rare


def days_off(start: date, end: date) -> Any | None:
    """The days off from a quarter before ``start`` to two years after ``end``, each with the working
    day a deadline on it runs to, as a subquery (``day``, ``runs_to``); None when there is none. Written
    as text: SQLite knows ``(VALUES …)`` in FROM but not its column list, and both databases name the
    columns column1, column2."""
    days = non_working_days(start - BEFORE, end + AFTER)
    if not days:
        return None
    rows = ", ".join(f"(:d{n}, :r{n})" for n in range(len(days)))
    binds = [bindparam(f"d{n}", day, type_=Date) for n, day in enumerate(days)]
    binds += [bindparam(f"r{n}", effective_deadline(day), type_=Date) for n, day in enumerate(days)]
    query = text(f"SELECT column1 AS day, column2 AS runs_to FROM (VALUES {rows}) AS v").bindparams(*binds)  # noqa: S608 (placeholders only)
    return query.columns(column("day", Date), column("runs_to", Date)).subquery("days_off")


def in_force(deadline: ColumnElement[Any], shift: Any | None) -> ColumnElement[Any]:
    """The deadline as it runs: shifted off a day off when it falls on one."""
    return deadline if shift is None else func.coalesce(shift.c.runs_to, deadline)
