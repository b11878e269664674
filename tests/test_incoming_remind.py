"""`flask portal remind`, the daily đôn đốc job (SPEC §5.6, Điều 24.1): "sắp đến hạn" and "quá
hạn" for open assignments with a deadline, once per assignment and day, never for documents
already done nor for "để biết". Runs on SQLite and PostgreSQL.

The command commits once. Under the ``db`` fixture that commit only releases the test's
savepoint (``join_transaction_mode="create_savepoint"``), and the CLI runs in this thread with
the same scoped session, so what it wrote is visible here and still rolled back after the test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import timeutil
from portal.audit import AuditEntry
from portal.incoming import services
from portal.incoming.models import Assignment, AssignmentRole, Reminder, ReminderKind
from portal.timeutil import local_today
from portal.workdays.calendar import add_working_days
from tests.incoming_fixtures import PDF, act, metadata

Spec = services.AssigneeSpec


def remind(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["portal", "remind", *args])


def directed(office, specs, subject: str = "Báo cáo tình hình công tác văn thư năm 2026"):
    _org, _unit, p = office
    doc = services.digitise(p["clerk"], metadata(subject=subject, code_number=str(len(subject))),
                            services.Upload("scan.pdf", PDF), confirm_duplicate=True)
    services.present(p["clerk"], doc, p["leader"].id)
    services.direct(p["leader"], doc, "Đề nghị các đồng chí xử lý đúng hạn.", specs)
    return doc


@pytest.fixture
def reader(factory, office):
    """Someone who is only to be informed (để biết)."""
    org, _unit, _p = office
    return act(factory.person(organisation=org, full_name="Phạm Thị Để Biết"))


def test_due_soon_and_overdue_once_a_day(app, db, office, reader):
    """Days are working days (issue 18): "tomorrow" is the next working day, "yesterday" the last one."""
    _org, unit, p = office
    today = local_today()
    day = add_working_days(today, 2)
    doc = directed(office, [
        Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=add_working_days(today, 3)),  # due tomorrow
        Spec(AssignmentRole.COOPERATE, user_id=p["other"].id, deadline=add_working_days(today, 1)),  # yesterday
        Spec(AssignmentRole.INFORM, user_id=reader.id, deadline=add_working_days(today, 1)),  # để biết: never
        Spec(AssignmentRole.COOPERATE, unit_id=unit.id),  # no deadline: nothing to chase
    ])
    finished = directed(office, [Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=today)],
                        subject="Văn bản đã xử lý xong")
    services.finish(p["officer"], finished, "Đã báo cáo bằng Công văn số 20/SVHT-NV.")
    db.commit()

    first = remind(app, "--ngay", f"{day:%d/%m/%Y}")

    assert first.exit_code == 0, first.output
    assert first.output.strip() == "Đã gửi 2 nhắc việc."
    [soon] = services.reminders_for(p["officer"])
    assert (soon.kind, soon.for_date, soon.sent_by_id) == (ReminderKind.DUE_SOON, day, None)
    assert soon.text == f"Hạn xử lý {add_working_days(today, 3):%d/%m/%Y}"
    [late] = services.reminders_for(p["other"])
    assert (late.kind, late.for_date) == (ReminderKind.OVERDUE, day)
    assert services.reminders_for(reader) == []
    assert services.reminders_for(p["head"]) == []  # the unit's row has no deadline
    assert _documents_reminded(db) == {doc.id}  # nothing for the finished one

    again = remind(app, "--ngay", f"{day:%d/%m/%Y}")

    assert again.exit_code == 0, again.output
    assert again.output.strip() == "Không có nhắc việc mới."
    assert len(_all(db)) == 2
    audits = db.execute(select(AuditEntry).where(AuditEntry.action == "incoming.reminders_sent")).scalars().all()
    assert [a.details_dict for a in audits] == [{"count": 2, "date": day.isoformat()}]

    next_day = remind(app, "--ngay", f"{add_working_days(day, 1):%d/%m/%Y}")

    assert next_day.output.strip() == "Đã gửi 2 nhắc việc."  # a new day, a new reminder each
    assert [r.kind for r in services.reminders_for(p["officer"])] == [ReminderKind.DUE_SOON, ReminderKind.DUE_SOON]


def test_without_a_day_it_uses_today_in_vietnam(app, db, office, monkeypatch):
    """18:30 UTC on Sunday 06/12/2026 is 01:30 on Monday 07/12 in Vietnam: a working day, so the job runs
    (on a day off it sends nothing since issue 18)."""
    monkeypatch.setattr(timeutil, "now_utc", lambda: datetime(2026, 12, 6, 18, 30, tzinfo=UTC))
    _org, _unit, p = office
    directed(office, [Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=local_today())])
    db.commit()

    result = remind(app)

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Đã gửi 1 nhắc việc."
    [row] = services.reminders_for(p["officer"])
    assert (row.kind, row.for_date) == (ReminderKind.DUE_SOON, date(2026, 12, 7))


def test_work_done_before_the_deadline_is_not_chased(app, db, office):
    _org, _unit, p = office
    doc = directed(office, [Spec(AssignmentRole.LEAD, user_id=p["officer"].id, deadline=local_today())])
    services.finish(p["officer"], doc, "Đã xử lý xong.")
    db.commit()

    result = remind(app, "--ngay", f"{local_today() + timedelta(days=5):%d/%m/%Y}")

    assert result.output.strip() == "Không có nhắc việc mới."
    assert _all(db) == []


def test_a_badly_written_day_is_refused_in_vietnamese(app, db):
    result = remind(app, "--ngay", "2026-01-05")
    assert result.exit_code == 2
    assert "dd/mm/yyyy" in result.output
    assert _all(db) == []


def _all(db) -> list[Reminder]:
    return list(db.execute(select(Reminder).order_by(Reminder.id)).scalars())


def _documents_reminded(db) -> set[int]:
    return set(db.execute(select(Assignment.document_id).join(Reminder, Reminder.assignment_id == Assignment.id))
               .scalars())
