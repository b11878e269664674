"""Báo cáo tình hình giải quyết văn bản đến và đi (NĐ 30 Phụ lục VI outputs 2 and 4; SPEC §8.2, §12).

Every figure is one set-based query: an inner SELECT gives each document of the period its group
(unit or person), its deadline in force and its dates; the outer SELECT counts per group with
``SUM(CASE …)``. No Python loop walks the documents, so a year of a large department costs one
indexed scan of ``(organisation_id, …, arrived_at/issued_at)``, on SQLite and PostgreSQL alike.

Vietnam time decides every day: the period's bounds are local midnights turned into UTC instants
here, and "finished on or before the deadline" compares the *local* date of the completion with
the deadline (a date). 23:30 on 30 June in Hà Nội is 16:30 UTC and belongs to the second quarter.

Rules chosen here (the decree prescribes no layout):

- *Received* = registered (it has a số đến) and not recalled, arrived within the period.
- The deadline in force is the lead assignment's (by person: the lead person's own, else the lead
  unit's; by unit: the level-1 lead's), else the document's hạn giải quyết. A document done without
  a deadline counts as on time; an open one without a deadline as "in time".
- Days are working days (``portal.workdays``): a deadline on a day off runs to the next working day, both
  for "finished on time" and for open items, which are overdue when that day is before *today* (the
  report shows the state now); the deadline in force is the one after any approved extension (gia hạn),
  and documents whose lead deadline was extended are counted.
- "Trễ hạn xử lý thủ tục": registered after the registration limit of the arrival's urgency
  (``register_due_at``), issued after the issuance limit of the signed draft (``issue_due_at``).
- By unit: the level-1 lead unit, or the unit of the lead person; by person: the lead person
  (level 1, or the lead unit's own lead at level 2). Documents nobody leads yet form their own row.
- Outgoing: by the drafting unit (the draft's, else the record's) and the drafter; electronic =
  an issued PDF is stored; digitally signed = that PDF went through the signer; replies on time =
  issued (local date) no later than the answered incoming document's deadline.
- ``overview`` (the provincial office) sees organisation-level figures only (SPEC §12: "deeper
  drill-down needs rights in that organisation"): its view has one row, the organisation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from portal.auth.models import Position, Role, User
from portal.db import session
from portal.documents.models import Channel, IncomingDocument, IncomingStatus, OutgoingDocument, OutgoingStatus
from portal.drafts.models import Draft
from portal.errors import NotAllowed, NotFound
from portal.incoming.models import Assignment, AssignmentRole, Extension, ExtensionState
from portal.orgs.models import Organisation, OrgKind
from portal.reports import deadlines
from portal.timeutil import local_today, zone
from portal.workdays.calendar import overdue_cutoff

REPORT_ROLES = frozenset({Role.AGENCY_LEADER, Role.CLERK, Role.UNIT_HEAD, Role.OVERVIEW})
SIGNATURE_VALID = "Hợp lệ"


# --- what is asked: kind, period, grouping -----------------------------------------------------------

class Kind(enum.StrEnum):
    INCOMING = "den"
    OUTGOING = "di"

    @property
    def title(self) -> str:
        return {"den": "Báo cáo tình hình giải quyết văn bản đến",
                "di": "Báo cáo tình hình giải quyết văn bản đi"}[self.value]


class Grouping(enum.StrEnum):
    UNIT = "don-vi"
    PERSON = "ca-nhan"

    @property
    def label(self) -> str:
        return {"don-vi": "Theo đơn vị", "ca-nhan": "Theo cá nhân"}[self.value]


class PeriodKind(enum.StrEnum):
    MONTH = "thang"
    QUARTER = "quy"
    HALF = "6-thang"
    YEAR = "nam"

    @property
    def label(self) -> str:
        return {"thang": "Tháng", "quy": "Quý", "6-thang": "6 tháng", "nam": "Năm"}[self.value]

    @property
    def months(self) -> int:
        return {"thang": 1, "quy": 3, "6-thang": 6, "nam": 12}[self.value]

    @property
    def count(self) -> int:
        return 12 // self.months


ROMAN = ("I", "II", "III", "IV")


class BadPeriod(ValueError):
    """A period the query string cannot mean (the view answers 400)."""


@dataclass(frozen=True)
class Period:
    """A calendar period in Vietnam time; ``end`` is the first day after it."""

    kind: PeriodKind
    year: int
    number: int = 1

    @classmethod
    def parse(cls, kind: str | None, year: str | None, number: str | None, today: date | None = None) -> Period:
        """Query-string values; missing ones default to the period containing today. Anything
        malformed raises ValueError (the view answers 400)."""
        today = today or local_today()
        try:
            period_kind = PeriodKind(kind or PeriodKind.QUARTER)
            y = int(year) if year else today.year
            n = int(number) if number else (today.month - 1) // period_kind.months + 1
        except ValueError as exc:
            raise BadPeriod(f"Kỳ báo cáo không hợp lệ: {exc}") from exc
        if period_kind == PeriodKind.YEAR:
            n = 1
        if not (2000 <= y <= 2100 and 1 <= n <= period_kind.count):
            raise BadPeriod("Kỳ báo cáo không hợp lệ: năm 2000–2100; tháng 1–12, quý 1–4, nửa năm 1–2.")
        return cls(period_kind, y, n)

    @property
    def start(self) -> date:
        return date(self.year, (self.number - 1) * self.kind.months + 1, 1)

    @property
    def end(self) -> date:
        month = self.number * self.kind.months + 1
        return date(self.year + 1, 1, 1) if month > 12 else date(self.year, month, 1)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as UTC instants of local midnights."""
        tz = zone()
        return tuple(datetime.combine(d, time(), tz).astimezone(UTC) for d in (self.start, self.end))  # type: ignore[return-value]

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return f"Tháng {self.number} năm {self.year}"
        if self.kind == PeriodKind.QUARTER:
            return f"Quý {ROMAN[self.number - 1]} năm {self.year}"
        if self.kind == PeriodKind.HALF:
            return f"6 tháng {'đầu' if self.number == 1 else 'cuối'} năm {self.year}"
        return f"Năm {self.year}"

    @property
    def slug(self) -> str:
        return f"nam-{self.year}" if self.kind == PeriodKind.YEAR else f"{self.kind.value}-{self.number}-{self.year}"


# --- who sees what ------------------------------------------------------------------------------------

@dataclass
class Scope:
    organisation: Organisation
    unit: Organisation | None = None  # a unit head: only their unit's rows
    detail: bool = True  # False: organisation-level totals only (overview of another organisation)
    choices: list[Organisation] = field(default_factory=list)  # organisations the viewer may pick


def can_view(user: User) -> bool:
    return user.has_role(*REPORT_ROLES)


def province_organisations() -> list[Organisation]:
    return list(session.execute(
        select(Organisation).where(Organisation.is_issuing.is_(True), Organisation.kind != OrgKind.EXTERNAL)
        .order_by(Organisation.path)).scalars())


def scope_for(user: User, organisation_id: int | None = None) -> Scope:
    """Agency leaders and clerks: their organisation; unit heads: their unit's rows; ``overview``:
    any organisation of the province, organisation level only; anyone else: refused."""
    if not can_view(user):
        raise NotAllowed("reports.view", "Chỉ lãnh đạo, văn thư và bộ phận theo dõi được xem báo cáo.")
    own = user.organisation
    overview = user.has_role(Role.OVERVIEW)
    choices = province_organisations() if overview else []
    target_id = organisation_id or (own.id if own is not None else None)
    if target_id is None and choices:
        target_id = choices[0].id
    if own is not None and target_id == own.id:
        if user.has_role(Role.AGENCY_LEADER, Role.CLERK):
            return Scope(own, choices=choices)
        position = user.current_position
        if Role.UNIT_HEAD in user.roles and position is not None and position.unit is not None:
            return Scope(own, unit=position.unit, choices=choices)
    if overview:
        target = next((o for o in choices if o.id == target_id), None)
        if target is None:
            raise NotFound()
        return Scope(target, detail=False, choices=choices)
    raise NotAllowed("reports.view", "Bạn không có quyền xem báo cáo của cơ quan, đơn vị này.")


# --- the result -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: str


INCOMING_COLUMNS = [
    Column("received", "Tiếp nhận"), Column("electronic", "Điện tử"), Column("paper", "Giấy"),
    Column("signed", "Có chữ ký số hợp lệ"), Column("on_time", "Hoàn thành đúng hạn"),
    Column("late", "Hoàn thành quá hạn"), Column("open_overdue", "Quá hạn chưa hoàn thành"),
    Column("open_in_time", "Đang xử lý trong hạn"), Column("extended", "Được gia hạn"),
    Column("late_procedure", "Trễ hạn xử lý thủ tục"), Column("avg_days", "Thời gian xử lý bình quân (ngày)"),
]
OUTGOING_COLUMNS = [
    Column("issued", "Phát hành"), Column("electronic", "Điện tử"), Column("paper", "Giấy"),
    Column("signed", "Ký số"), Column("recalled", "Thu hồi"), Column("replies", "Trả lời văn bản đến"),
    Column("replies_on_time", "Trả lời đúng hạn"), Column("late_procedure", "Trễ hạn xử lý thủ tục"),
]


@dataclass
class Row:
    key: int | None
    label: str
    values: dict[str, Any]


@dataclass
class Report:
    kind: Kind
    grouping: Grouping
    period: Period
    organisation: str
    unit: str | None
    detail: bool
    columns: list[Column]
    totals: Row
    rows: list[Row]

    @property
    def title(self) -> str:
        return self.kind.title

    @property
    def main_key(self) -> str:
        return self.columns[0].key

    @property
    def group_label(self) -> str:
        if not self.detail:
            return "Cơ quan"
        return "Đơn vị" if self.grouping == Grouping.UNIT else "Cá nhân"


def build(user: User, kind: Kind, period: Period, grouping: Grouping, organisation_id: int | None = None,
          today: date | None = None) -> tuple[Report, Scope]:
    """The report the person may see; raises NotAllowed / NotFound."""
    scope = scope_for(user, organisation_id)
    if kind == Kind.INCOMING:
        report = incoming_report(scope, period, grouping, today=today)
    else:
        report = outgoing_report(scope, period, grouping)
    return report, scope


# --- SQL helpers that differ between the databases -----------------------------------------------

def _dialect() -> str:
    return session.get_bind().dialect.name


def local_date(column: Any) -> ColumnElement[Any]:
    """The calendar date of a stored UTC instant in Vietnam time. PostgreSQL converts with the
    zone; SQLite, which stores naive UTC text, adds the zone's fixed offset (Asia/Ho_Chi_Minh has
    had no daylight saving since 1975)."""
    tz = zone()
    if _dialect() == "postgresql":
        return cast(func.timezone(str(tz.key), column), Date)
    offset = datetime.now(tz).utcoffset() or timedelta()
    return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")


def days_between(later: Any, earlier: Any) -> ColumnElement[Any]:
    if _dialect() == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


# --- văn bản đến -------------------------------------------------------------------------------------

def incoming_report(scope: Scope, period: Period, grouping: Grouping, today: date | None = None) -> Report:
    today = today or local_today()
    start, end = period.bounds()
    org_id = scope.organisation.id
    d = IncomingDocument
    first_lead = (select(Assignment.document_id, func.min(Assignment.id).label("id"))
                  .where(Assignment.level == 1, Assignment.role == AssignmentRole.LEAD)
                  .group_by(Assignment.document_id).subquery())
    l1 = aliased(Assignment)
    l2 = aliased(Assignment)
    person_unit = (select(func.min(Position.unit_id))
                   .where(Position.user_id == l1.assignee_user_id, Position.organisation_id == org_id)
                   .correlate(l1).scalar_subquery())
    if grouping == Grouping.PERSON:
        deadline = func.coalesce(l2.deadline, l1.deadline, d.due_date)
    else:
        deadline = func.coalesce(l1.deadline, d.due_date)
    extended = (select(Extension.id).where(Extension.document_id == d.id, Extension.state == ExtensionState.APPROVED,
                                           Extension.assignment_id.in_([l1.id, l2.id])).correlate(d, l1, l2).exists())
    inner = (
        select(d.id, d.channel, d.signature_verdict, d.status, d.arrived_at, d.completed_at,
               d.registered_at, d.register_due_at,
               func.coalesce(l1.assignee_unit_id, person_unit).label("unit_id"),
               func.coalesce(l1.assignee_user_id, l2.assignee_user_id).label("person_id"),
               deadline.label("deadline"), extended.label("extended"))
        .select_from(d)
        .outerjoin(first_lead, first_lead.c.document_id == d.id)
        .outerjoin(l1, l1.id == first_lead.c.id)
        .outerjoin(l2, and_(l2.parent_id == l1.id, l2.role == AssignmentRole.LEAD, l2.assignee_user_id.is_not(None)))
        .where(d.organisation_id == org_id, d.arrival_number.is_not(None), d.status != IncomingStatus.RECALLED,
               # replaced before it was done (SPEC §5.8): its work goes on as the new document, counted there
               or_(d.status != IncomingStatus.REPLACED, d.completed_at.is_not(None)),
               d.arrived_at >= start, d.arrived_at < end)
    ).subquery()
    c = inner.c
    # a document done and then replaced stays done
    done = and_(c.status.in_((IncomingStatus.DONE, IncomingStatus.REPLACED)), c.completed_at.is_not(None))
    finished_on = local_date(c.completed_at)
    shift = deadlines.days_off(period.start, period.end)
    due = deadlines.in_force(c.deadline, shift)  # working days: a deadline on a day off runs to the next one
    cutoff = overdue_cutoff(today)
    key = _key(scope, grouping, c.unit_id, c.person_id)
    stmt = select(
        (key if key is not None else literal(0)).label("key"),
        func.count().label("received"),
        _count(c.channel != Channel.PAPER).label("electronic"),
        _count(c.channel == Channel.PAPER).label("paper"),
        _count(c.signature_verdict == SIGNATURE_VALID).label("signed"),
        _count(and_(done, or_(c.deadline.is_(None), finished_on <= due))).label("on_time"),
        _count(and_(done, c.deadline.is_not(None), finished_on > due)).label("late"),
        _count(and_(~done, c.deadline.is_not(None), c.deadline <= cutoff)).label("open_overdue"),
        _count(and_(~done, or_(c.deadline.is_(None), c.deadline > cutoff))).label("open_in_time"),
        _count(c.extended).label("extended"),
        _count(c.registered_at > c.register_due_at).label("late_procedure"),
        _count(done).label("done"),
        func.sum(case((done, days_between(c.completed_at, c.arrived_at)), else_=None)).label("days"),
    ).select_from(inner if shift is None else inner.outerjoin(shift, shift.c.day == c.deadline))
    if scope.unit is not None:
        stmt = stmt.where(c.unit_id == scope.unit.id)
    stmt = _grouped(stmt, key)
    columns = [col.key for col in INCOMING_COLUMNS if col.key != "avg_days"] + ["done", "days"]
    groups = _groups(stmt, columns)
    rows = [Row(k, "", v) for k, v in groups.items()]
    totals = Row(None, "Tổng cộng", {name: sum(r.values[name] for r in rows) for name in columns})
    for row in [*rows, totals]:
        done_count, days = row.values.pop("done"), row.values.pop("days")
        row.values["avg_days"] = round(days / done_count, 1) if done_count else None
    return _finish(Kind.INCOMING, INCOMING_COLUMNS, scope, period, grouping, rows, totals,
                   "Chưa giao xử lý hoặc không thuộc phòng, ban" if grouping == Grouping.UNIT
                   else "Chưa giao cá nhân chủ trì")


def _key(scope: Scope, grouping: Grouping, unit: Any, person: Any) -> Any:
    """The group column, or None for the organisation-level view (no GROUP BY: one row)."""
    if not scope.detail:
        return None
    return unit if grouping == Grouping.UNIT else person


def _grouped(stmt: Any, key: Any) -> Any:
    return stmt.group_by(key) if key is not None else stmt


def _groups(stmt: Any, columns: list[str]) -> dict[int | None, dict[str, Any]]:
    """Aggregates per group key; PostgreSQL's SUM gives Decimal/bigint, SQLite's int/float."""
    out: dict[int | None, dict[str, Any]] = {}
    for record in session.execute(stmt).mappings():
        values = {}
        for name in columns:
            value = record[name]
            values[name] = float(value or 0) if name == "days" else int(value or 0)
        out[record["key"]] = values
    return out


def _finish(kind: Kind, columns: list[Column], scope: Scope, period: Period, grouping: Grouping, rows: list[Row],
            totals: Row, unassigned: str) -> Report:
    """Names for the group keys (one query each), then rows in name order, the unnamed last."""
    if not scope.detail:
        for row in rows:
            row.key, row.label = scope.organisation.id, scope.organisation.name
    else:
        ids = [r.key for r in rows if r.key is not None]
        model, name = (Organisation, Organisation.name) if grouping == Grouping.UNIT else (User, User.full_name)
        names = dict(session.execute(select(model.id, name).where(model.id.in_(ids))).all()) if ids else {}
        for row in rows:
            row.label = names.get(row.key, unassigned) if row.key is not None else unassigned
        rows.sort(key=lambda r: (r.key is None, r.label.casefold()))
    return Report(kind=kind, grouping=grouping, period=period, organisation=scope.organisation.name,
                  unit=scope.unit.name if scope.unit is not None else None, detail=scope.detail,
                  columns=columns, totals=totals, rows=rows)


# --- văn bản đi --------------------------------------------------------------------------------------

def outgoing_report(scope: Scope, period: Period, grouping: Grouping) -> Report:
    start, end = period.bounds()
    o = OutgoingDocument
    answered = aliased(IncomingDocument)
    a = Assignment
    # a reply is due by the answered document's lead deadline, else its own (as incoming_report)
    lead_due = (select(a.deadline).where(a.document_id == answered.id, a.level == 1, a.role == AssignmentRole.LEAD)
                .order_by(a.id).limit(1).correlate(answered).scalar_subquery())
    inner = (
        select(o.id, o.file_sha256, o.status, o.recalled_at, o.issued_at, Draft.signed_at, Draft.reply_to_id,
               Draft.issue_due_at, func.coalesce(lead_due, answered.due_date).label("reply_due"),
               func.coalesce(Draft.unit_id, o.unit_id).label("unit_id"), Draft.drafter_id.label("person_id"))
        .select_from(o)
        .outerjoin(Draft, Draft.outgoing_id == o.id)
        .outerjoin(answered, answered.id == Draft.reply_to_id)
        .where(o.organisation_id == scope.organisation.id, o.issued_at >= start, o.issued_at < end)
    ).subquery()
    c = inner.c
    electronic = c.file_sha256.is_not(None)
    reply = c.reply_to_id.is_not(None)
    shift = deadlines.days_off(period.start, period.end)
    reply_in_time = or_(c.reply_due.is_(None), local_date(c.issued_at) <= deadlines.in_force(c.reply_due, shift))
    key = _key(scope, grouping, c.unit_id, c.person_id)
    stmt = select(
        (key if key is not None else literal(0)).label("key"),
        func.count().label("issued"),
        _count(electronic).label("electronic"),
        _count(~electronic).label("paper"),
        _count(and_(electronic, c.signed_at.is_not(None))).label("signed"),
        _count(or_(c.recalled_at.is_not(None), c.status == OutgoingStatus.RECALLED)).label("recalled"),
        _count(reply).label("replies"),
        _count(and_(reply, reply_in_time)).label("replies_on_time"),
        _count(c.issued_at > c.issue_due_at).label("late_procedure"),
    ).select_from(inner if shift is None else inner.outerjoin(shift, shift.c.day == c.reply_due))
    if scope.unit is not None:
        stmt = stmt.where(c.unit_id == scope.unit.id)
    stmt = _grouped(stmt, key)
    columns = [col.key for col in OUTGOING_COLUMNS]
    rows = [Row(k, "", v) for k, v in _groups(stmt, columns).items()]
    totals = Row(None, "Tổng cộng", {name: sum(r.values[name] for r in rows) for name in columns})
    return _finish(Kind.OUTGOING, OUTGOING_COLUMNS, scope, period, grouping, rows, totals,
                   "Không thuộc phòng, ban" if grouping == Grouping.UNIT else "Không qua dự thảo trên hệ thống")
