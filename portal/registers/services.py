"""Register books (sổ văn bản, SPEC §8.1): who may print them, which rows each book holds and
how a document becomes a row, and the prepared-PDF jobs (``ReportJob``). No Flask here.

Rows are read in keyset batches of ``BATCH`` documents in number order (never all at once): a
yearly book of a big department has tens of thousands of rows, and each batch brings its
assignments with one more query. Cancelled and recalled numbers stay in the book with their
note (SPEC §4.4, §8.3).

Mapping of Phụ lục IV columns to fields (SPEC §8.1 "Mapping (inferred)"):

- đến (3) Tác giả = OrganName; (7) the lead and co-operating units/persons of the first
  distribution; (8) the date of that distribution; (9) blank for a handwritten signature when
  there is paper, else "Nhận điện tử dd/mm/yyyy hh:mm" (the moment it reached their queue);
  (10) channel, urgency, "Có bản giấy", "Đã thu hồi".
- đi (5) recipients; (6) "Lưu: VT, <đơn vị soạn thảo>"; (7) IssuedAmount; (8) the sending date
  (issuance sends to every recipient); (9) blank.
- theo dõi giải quyết: (4) the lead's deadline; (5) state, completion date, overdue;
  (6) the outgoing reply recorded on the document.
- bưu điện: one row per recipient sent by post, one envelope each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import aliased

from portal import audit
from portal.auth.models import Role, User
from portal.db import session
from portal.documents import numbering
from portal.documents.models import (
    Channel,
    Direction,
    IncomingDocument,
    IncomingStatus,
    OutgoingDocument,
    OutgoingStatus,
    RegisterBook,
    Urgency,
)
from portal.drafts.models import Draft, Recipient, SendMethod
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.incoming.models import Assignment, AssignmentRole
from portal.orgs.models import Organisation, OrgKind
from portal.registers.models import JobStatus, ReportJob
from portal.registers.pdf import LAYOUTS, Layout, RegisterData, Row
from portal.timeutil import local_today, to_local, zone
from portal.workdays.calendar import effective_deadline, overdue_cutoff

BATCH = 1000
JOB_KIND = "so_van_ban"
PRINTERS = (Role.CLERK, Role.AGENCY_LEADER)
DIRECTION = {"den": Direction.INCOMING, "giai_quyet": Direction.INCOMING, "di": Direction.OUTGOING,
             "buu_dien": Direction.OUTGOING}
SLUG = {"den": "so-dang-ky-van-ban-den", "di": "so-dang-ky-van-ban-di",
        "giai_quyet": "so-theo-doi-giai-quyet-van-ban-den", "buu_dien": "so-gui-van-ban-di-buu-dien"}


# --- who -------------------------------------------------------------------------------------------------

def can_print(user: User) -> bool:
    """Clerks and agency leaders of the organisation they work in now (SPEC §2.3 R1)."""
    return user.organisation is not None and user.has_role(*PRINTERS)


def _organisation_id(user: User) -> int:
    if not can_print(user):
        raise NotAllowed("registers.print", "Chỉ văn thư và lãnh đạo cơ quan được in sổ văn bản của cơ quan.")
    assert user.organisation is not None
    return user.organisation.id


# --- what ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Params:
    """One print: the book kind, a year or a date range (Vietnam dates, both ends included), one
    register book or all the organisation's ordinary books of that direction, the volume."""

    kind: str
    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    book_id: int | None = None
    volume: int = 1

    @property
    def layout(self) -> Layout:
        return LAYOUTS[self.kind]

    def to_json(self) -> str:
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat() if self.date_from else None
        data["date_to"] = self.date_to.isoformat() if self.date_to else None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Params:
        data = json.loads(text)
        for key in ("date_from", "date_to"):
            data[key] = date.fromisoformat(data[key]) if data.get(key) else None
        return cls(**data)

    @property
    def period(self) -> str:
        if self.date_from and self.date_to:
            return f"Từ ngày {self.date_from:%d/%m/%Y} đến ngày {self.date_to:%d/%m/%Y}"
        return f"Năm {self.year}"

    @property
    def year_label(self) -> str:
        if self.date_from and self.date_to:
            first, last = self.date_from.year, self.date_to.year
            return str(first) if first == last else f"{first} - {last}"
        return str(self.year)

    @property
    def filename(self) -> str:
        if self.date_from and self.date_to:
            return f"{SLUG[self.kind]}-{self.date_from:%Y%m%d}-{self.date_to:%Y%m%d}.pdf"
        return f"{SLUG[self.kind]}-{self.year}.pdf"

    @property
    def title(self) -> str:
        return f"{self.layout.title} - {self.period}"


def books_of(organisation_id: int, direction: Direction | None = None) -> list[RegisterBook]:
    """The organisation's ordinary books (secret books print separately, SPEC §8.1)."""
    stmt = select(RegisterBook).where(RegisterBook.organisation_id == organisation_id,
                                      RegisterBook.is_secret.is_(False))
    if direction is not None:
        stmt = stmt.where(RegisterBook.direction == direction)
    return list(session.execute(stmt.order_by(RegisterBook.direction, RegisterBook.id)).scalars())


def check(user: User, params: Params) -> Params:
    """The parameters as the person may print them, or ``ValidationFailed`` naming the field."""
    organisation_id = _organisation_id(user)
    errors: dict[str, str] = {}
    if params.kind not in LAYOUTS:
        errors["kind"] = "Hãy chọn một sổ."
    if params.date_from or params.date_to:
        if not (params.date_from and params.date_to):
            errors["date_to" if params.date_from else "date_from"] = "Hãy nhập đủ từ ngày và đến ngày."
        elif params.date_from > params.date_to:
            errors["date_to"] = "“Đến ngày” phải sau hoặc bằng “Từ ngày”."
        elif (params.date_to - params.date_from).days > 366 * 5:
            errors["date_to"] = "Mỗi lần in tối đa 5 năm."
    elif params.year is None or not 1990 <= params.year <= local_today().year + 1:
        errors["year"] = "Năm không hợp lệ."
    if not 1 <= params.volume <= 999:
        errors["volume"] = "Quyển số từ 1 đến 999."
    if params.book_id is not None and params.kind in LAYOUTS:
        book = session.get(RegisterBook, params.book_id)
        if book is None or book.organisation_id != organisation_id or book.direction != DIRECTION[params.kind]:
            errors["book_id"] = "Sổ này không thuộc cơ quan hoặc không phải sổ của loại đã chọn."
        elif book.is_secret:
            # secret entries are readable only by their registering clerk, the leader named on them
            # and grantees (SPEC §2.3): not by every clerk and leader, as this print would allow
            errors["book_id"] = "Sổ mật được in riêng, không in ở chức năng này."
    if errors:
        raise ValidationFailed(errors)
    if params.date_from:
        return Params(params.kind, None, params.date_from, params.date_to, params.book_id, params.volume)
    return Params(params.kind, params.year, None, None, params.book_id, params.volume)


def _book_ids(organisation_id: int, params: Params) -> list[int]:
    """The chosen book, else every ordinary book of the direction, active or not."""
    if params.book_id is not None:
        return [params.book_id]
    return [b.id for b in books_of(organisation_id, DIRECTION[params.kind])]


def _utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, last + 1 day 00:00) in Vietnam time, as instants."""
    tz = zone()
    return (datetime.combine(first, time(), tzinfo=tz), datetime.combine(last + timedelta(days=1), time(), tzinfo=tz))


# --- the rows ---------------------------------------------------------------------------------------------

def _dmy(value: date | None) -> str:
    return f"{value:%d/%m/%Y}" if value else ""


def _code(number: str | None, notation: str | None) -> str:
    return "/".join(p for p in (number, notation) if p)


def _replaced(r: Any) -> str:
    """The note of a replaced incoming document: what replaced it, by its số đến (or its ký hiệu until numbered)."""
    if r.newer_number is not None:
        return f"Bị thay thế bởi văn bản số đến {numbering.display(r.newer_number)}"
    code = _code(r.newer_code_number, r.newer_notation)
    return f"Bị thay thế bởi văn bản {code} (chưa vào sổ)" if code else "Bị thay thế bởi văn bản chưa vào sổ"


def _recalled(at: datetime | None, reason: str | None) -> str:
    text = "Đã thu hồi" + (f" ngày {to_local(at):%d/%m/%Y}" if at else "")
    return text + (f": {reason}" if reason else "")


class _Source:
    """One book's query: the columns, the keyset (the order), the filters, and a row builder."""

    def __init__(self, organisation_id: int, params: Params, today: date) -> None:
        self.organisation_id = organisation_id
        self.params = params
        self.today = today
        self.book_ids = _book_ids(organisation_id, params)

    def statement(self) -> Select[Any]:
        raise NotImplementedError

    def keys(self) -> Sequence[ColumnElement[Any]]:
        raise NotImplementedError

    def build(self, rows: Sequence[Any]) -> Iterator[Row]:
        raise NotImplementedError

    def count(self) -> int:
        stmt = self.statement()
        return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())

    def __iter__(self) -> Iterator[Row]:
        keys = self.keys()
        base = self.statement().order_by(*keys).limit(BATCH)
        last: tuple[Any, ...] | None = None
        while True:
            stmt = base if last is None else base.where(tuple_(*keys) > tuple_(*last))
            batch = session.execute(stmt).all()
            if not batch:
                return
            yield from self.build(batch)
            if len(batch) < BATCH:
                return
            last = tuple(batch[-1][: len(keys)])


class _Incoming(_Source):
    """Sổ đăng ký văn bản đến and sổ theo dõi giải quyết: every numbered incoming document."""

    d = IncomingDocument
    answer = aliased(OutgoingDocument)
    newer = aliased(IncomingDocument)  # the document that replaced it (SPEC §5.8)

    def statement(self) -> Select[Any]:
        d, answer, a, newer = self.d, self.answer, Assignment, self.newer
        # (4): the lead's own deadline, else the document's; the lead's is no longer copied onto it
        lead_deadline = (select(a.deadline).where(a.document_id == d.id, a.level == 1, a.role == AssignmentRole.LEAD)
                         .order_by(a.id).limit(1).correlate(d).scalar_subquery())
        stmt = (select(d.year, d.book_id, d.arrival_number, d.id, d.arrival_date, d.organ_name, d.code_number,
                       d.code_notation, d.issued_date, d.type_name, d.subject, d.channel, d.urgency, d.has_paper,
                       d.status, d.recalled_at, d.recall_reason, func.coalesce(lead_deadline, d.due_date)
                       .label("due_date"), d.completed_at,
                       answer.code_number.label("answer_number"), answer.code_notation.label("answer_notation"),
                       answer.issued_date.label("answer_date"), newer.arrival_number.label("newer_number"),
                       newer.code_number.label("newer_code_number"), newer.code_notation.label("newer_notation"))
                .outerjoin(answer, answer.id == d.answer_outgoing_id)
                .outerjoin(newer, newer.id == d.replaced_by_id)
                .where(d.organisation_id == self.organisation_id, d.arrival_number.is_not(None),
                       d.book_id.in_(self.book_ids)))
        p = self.params
        if p.date_from and p.date_to:
            return stmt.where(d.arrival_date >= p.date_from, d.arrival_date <= p.date_to)
        return stmt.where(d.year == p.year)

    def keys(self) -> Sequence[ColumnElement[Any]]:
        return (self.d.year, self.d.book_id, self.d.arrival_number)

    def _assignees(self, ids: list[int]) -> dict[int, tuple[str, datetime | None]]:
        """Per document: "Chủ trì: …; Phối hợp: …" of the first (level 1) distribution, and when."""
        a = Assignment
        rows = session.execute(
            select(a.document_id, a.role, a.assigned_at, User.full_name, Organisation.name)
            .outerjoin(User, User.id == a.assignee_user_id)
            .outerjoin(Organisation, Organisation.id == a.assignee_unit_id)
            .where(a.document_id.in_(ids), a.level == 1, a.role != AssignmentRole.INFORM)
            .order_by(a.document_id, a.id)).all()
        found: dict[int, tuple[dict[str, list[str]], datetime | None]] = {}
        for doc_id, role, at, person, unit in rows:
            names, first = found.setdefault(doc_id, ({}, at))
            names.setdefault(role, []).append(person or unit or "")
            if at is not None and (first is None or at < first):
                found[doc_id] = (names, at)
        out = {}
        for doc_id, (names, at) in found.items():
            parts = [f"{AssignmentRole(role).label}: {', '.join(people)}"
                     for role, people in sorted(names.items(), key=lambda item: item[0] != AssignmentRole.LEAD)]
            out[doc_id] = ("; ".join(parts), at)
        return out

    def _note(self, r: Any) -> str:
        notes = [Channel(r.channel).label]
        if r.urgency:
            notes.append(Urgency(int(r.urgency)).label)
        if r.has_paper:
            notes.append("Có bản giấy")
        if r.status == IncomingStatus.RECALLED:
            notes.append(_recalled(r.recalled_at, r.recall_reason))
        if r.status == IncomingStatus.REPLACED:
            notes.append(_replaced(r))
        return "; ".join(notes)

    def build(self, rows: Sequence[Any]) -> Iterator[Row]:
        assignees = self._assignees([r.id for r in rows])
        for r in rows:
            names, sent = assignees.get(r.id, ("", None))
            sent_local = to_local(sent) if sent else None
            signed = "" if r.has_paper or sent_local is None else f"Nhận điện tử {sent_local:%d/%m/%Y %H:%M}"
            type_subject = "\n".join(p for p in (r.type_name, r.subject) if p)
            cells = (_dmy(r.arrival_date), numbering.display(r.arrival_number), r.organ_name or "",
                     _code(r.code_number, r.code_notation), _dmy(r.issued_date), type_subject, names,
                     _dmy(sent_local.date() if sent_local else None), signed, self._note(r))
            yield Row(cells, number=r.arrival_number, day=r.arrival_date)


class _Tracking(_Incoming):
    """Sổ theo dõi giải quyết văn bản đến: the same documents, seen from their handling."""

    def _progress(self, r: Any) -> str:
        status = IncomingStatus(r.status)
        if status == IncomingStatus.RECALLED:
            return "Đã thu hồi"
        if status == IncomingStatus.REPLACED:
            return _replaced(r)
        if status == IncomingStatus.DONE:
            done = to_local(r.completed_at).date() if r.completed_at else None
            # working days: a deadline on a day off runs to the next working day (portal.workdays)
            late = done is not None and r.due_date is not None and done > effective_deadline(r.due_date)
            return f"Hoàn thành{' quá hạn' if late else ''}" + (f" ngày {done:%d/%m/%Y}" if done else "")
        if status in (IncomingStatus.ASSIGNED, IncomingStatus.IN_PROGRESS):
            overdue = r.due_date is not None and r.due_date <= overdue_cutoff(self.today)
            return "Đang xử lý" + (", quá hạn" if overdue else "")
        return status.label

    def build(self, rows: Sequence[Any]) -> Iterator[Row]:
        assignees = self._assignees([r.id for r in rows])
        for r in rows:
            names, _sent = assignees.get(r.id, ("", None))
            described = " ".join(p for p in (
                r.type_name or "", f"số {_code(r.code_number, r.code_notation)}" if r.code_number or r.code_notation
                else "", f"ngày {_dmy(r.issued_date)}" if r.issued_date else "",
                f"của {r.organ_name}" if r.organ_name else "") if p)
            answer = _code(r.answer_number, r.answer_notation)
            if answer and r.answer_date:
                answer += f" ngày {_dmy(r.answer_date)}"
            note = "; ".join(p for p in (Urgency(int(r.urgency)).label if r.urgency else "",
                                         _recalled(r.recalled_at, r.recall_reason)
                                         if r.status == IncomingStatus.RECALLED else "") if p)
            cells = (numbering.display(r.arrival_number), described, names, _dmy(r.due_date), self._progress(r),
                     answer, note)
            yield Row(cells, number=r.arrival_number, day=r.arrival_date)


class _Outgoing(_Source):
    """Sổ đăng ký văn bản đi: every number taken, recalled ones with their note."""

    o = OutgoingDocument
    unit = aliased(Organisation)

    def statement(self) -> Select[Any]:
        o, unit = self.o, self.unit
        stmt = (select(o.year, o.book_id, o.number, o.id, o.code_number, o.code_notation, o.issued_date,
                       o.type_name, o.subject, o.signer_name, o.recipients_text, unit.short_name.label("unit"),
                       o.issued_amount, o.issued_at, o.status, o.recalled_at, o.recall_reason, o.urgency)
                .outerjoin(unit, unit.id == o.unit_id)
                .where(o.organisation_id == self.organisation_id, o.book_id.in_(self.book_ids)))
        p = self.params
        if p.date_from and p.date_to:
            return stmt.where(o.issued_date >= p.date_from, o.issued_date <= p.date_to)
        return stmt.where(o.year == p.year)

    def keys(self) -> Sequence[ColumnElement[Any]]:
        return (self.o.year, self.o.book_id, self.o.number)

    def build(self, rows: Sequence[Any]) -> Iterator[Row]:
        for r in rows:
            note = "; ".join(p for p in (
                Urgency(int(r.urgency)).label if r.urgency else "",
                _recalled(r.recalled_at, r.recall_reason) if r.status == OutgoingStatus.RECALLED else "") if p)
            cells = (_code(r.code_number, r.code_notation), _dmy(r.issued_date),
                     "\n".join(p for p in (r.type_name, r.subject) if p), r.signer_name or "",
                     r.recipients_text or "", "Lưu: VT" + (f", {r.unit}" if r.unit else ""),
                     str(r.issued_amount) if r.issued_amount else "",
                     _dmy(to_local(r.issued_at).date() if r.issued_at else None), "", note)
            yield Row(cells, number=r.number, day=r.issued_date)


class _Post(_Source):
    """Sổ gửi văn bản đi bưu điện: each recipient an issued document was posted to."""

    o = OutgoingDocument
    r = Recipient

    def statement(self) -> Select[Any]:
        o, r = self.o, self.r
        stmt = (select(o.year, o.book_id, o.number, r.id, r.sent_at, r.name, r.address, o.code_number,
                       o.code_notation, o.urgency, o.status, o.recalled_at)
                .join(Draft, Draft.id == r.draft_id).join(o, o.id == Draft.outgoing_id)
                .where(o.organisation_id == self.organisation_id, o.book_id.in_(self.book_ids),
                       r.method == SendMethod.POST, r.sent_at.is_not(None)))
        p = self.params
        if p.date_from and p.date_to:
            start, end = _utc_bounds(p.date_from, p.date_to)
            return stmt.where(r.sent_at >= start, r.sent_at < end)
        return stmt.where(o.year == p.year)

    def keys(self) -> Sequence[ColumnElement[Any]]:
        return (self.o.year, self.o.book_id, self.o.number, self.r.id)

    def build(self, rows: Sequence[Any]) -> Iterator[Row]:
        for r in rows:
            sent = to_local(r.sent_at).date()
            note = "; ".join(p for p in (
                Urgency(int(r.urgency)).label if r.urgency else "",
                _recalled(r.recalled_at, None) if r.status == OutgoingStatus.RECALLED else "") if p)
            cells = (_dmy(sent), _code(r.code_number, r.code_notation),
                     "\n".join(p for p in (r.name, r.address) if p), "1", "", note)
            yield Row(cells, number=r.number, day=sent)


SOURCES: dict[str, type[_Source]] = {"den": _Incoming, "giai_quyet": _Tracking, "di": _Outgoing,
                                     "buu_dien": _Post}


def source(organisation_id: int, params: Params, today: date | None = None) -> _Source:
    return SOURCES[params.kind](organisation_id, params, today or local_today())


def register_data(job: ReportJob, printed_at: datetime) -> RegisterData:
    """Everything the PDF shows except the rows' drawing: cover fields from the organisation, the
    rows as a lazy iterator over the database."""
    params = Params.from_json(job.params)
    org = session.get_one(Organisation, job.organisation_id)
    parent = org.parent
    governing = parent.name if parent is not None and parent.kind != OrgKind.EXTERNAL else ""
    requester = session.get_one(User, job.requested_by_id)
    books = session.execute(select(RegisterBook.name).where(
        RegisterBook.id.in_(_book_ids(org.id, params))).order_by(RegisterBook.id)).scalars()
    return RegisterData(layout=params.layout, organisation=org.name, governing_body=governing,
                        period=params.period, year_label=params.year_label, volume=f"{params.volume:02d}",
                        books=", ".join(books), printed_by=requester.full_name, printed_at=to_local(printed_at),
                        rows=source(org.id, params))


# --- jobs --------------------------------------------------------------------------------------------------

def request(user: User, params: Params) -> ReportJob:
    """A new job for this print, with the number of rows it will have (for the progress bar)."""
    params = check(user, params)
    organisation_id = _organisation_id(user)
    job = ReportJob(kind=JOB_KIND, organisation_id=organisation_id, params=params.to_json(),
                    title=params.title[:300], requested_by_id=user.id, status=JobStatus.QUEUED,
                    total_rows=source(organisation_id, params).count(), filename=params.filename)
    session.add(job)
    session.flush()
    audit.record(user, "registers.requested", job, organisation_id=organisation_id,
                 details={"params": json.loads(job.params), "rows": job.total_rows})
    return job


def may_see(user: User, job: ReportJob) -> bool:
    """The requester, and the organisation's clerks and agency leaders (who may print it anyway)."""
    if job.kind != JOB_KIND:
        return False
    if job.requested_by_id == user.id:
        return True
    return can_print(user) and user.organisation is not None and user.organisation.id == job.organisation_id


def job_for(user: User, job_id: int) -> ReportJob:
    """The job, or ``NotFound`` for anyone else: they may not learn that it exists."""
    job = session.get(ReportJob, job_id, populate_existing=True)
    if job is None or not may_see(user, job):
        raise NotFound()
    return job


def recent_jobs(user: User, limit: int = 10) -> list[ReportJob]:
    return list(session.execute(select(ReportJob).where(ReportJob.requested_by_id == user.id,
                                                        ReportJob.kind == JOB_KIND)
                                .order_by(ReportJob.id.desc()).limit(limit)).scalars())


def downloaded(user: User, job: ReportJob) -> None:
    """Every download of a book is recorded (SPEC §13.5)."""
    if job.status != JobStatus.DONE or job.file_sha256 is None:
        raise NotFound()
    audit.record(user, "registers.downloaded", job, organisation_id=job.organisation_id,
                 details={"file": job.file_sha256, "filename": job.filename})
