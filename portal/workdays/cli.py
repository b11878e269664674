"""``flask --app wsgi portal workdays …``: the days IT adds to the calendar, by hand. A few lines per
command calling ``portal.workdays.service``; one commit at the end, nothing written when it fails."""

from __future__ import annotations

from datetime import date

import click

from portal.db import session
from portal.errors import NotFound, ValidationFailed


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("Ngày phải có dạng YYYY-MM-DD, ví dụ 2027-02-13.") from None


@click.group("workdays", help="Lịch ngày làm việc: ngày nghỉ bù, ngày làm bù thêm vào lịch nghỉ lễ.")
def workdays_cli() -> None:
    pass


@workdays_cli.command("add", help="Thêm một ngày nghỉ (--nghi) hoặc ngày làm bù (--lam-bu), kèm căn cứ.")
@click.argument("day", metavar="YYYY-MM-DD", callback=_day)
@click.option("--nghi", "kind", flag_value="nghi", help="Ngày nghỉ (nghỉ bù, nghỉ theo quyết định).")
@click.option("--lam-bu", "kind", flag_value="lam_bu", help="Ngày làm việc bù (ví dụ một ngày thứ Bảy).")
@click.option("--ghi-chu", "note", required=True, help="Căn cứ, ví dụ số thông báo lịch nghỉ.")
def add(day: date, kind: str | None, note: str) -> None:
    from portal.workdays import service

    if kind is None:
        raise click.UsageError("Hãy chọn --nghi hoặc --lam-bu.")
    try:
        row = service.add_override(None, day, kind, note)
    except ValidationFailed as exc:
        session.rollback()
        raise click.ClickException("; ".join(exc.errors.values())) from exc
    session.commit()
    click.echo(f"Đã thêm {row.kind.label.lower()} {row.day:%d/%m/%Y}: {row.note}.")


@workdays_cli.command("remove", help="Xóa ngày đã thêm (lịch trở lại như lịch nghỉ lễ).")
@click.argument("day", metavar="YYYY-MM-DD", callback=_day)
def remove(day: date) -> None:
    from portal.workdays import service

    row = service.find(day)
    try:
        if row is None:
            raise NotFound()
        service.remove_override(None, row.id)
    except NotFound:
        session.rollback()
        raise click.ClickException(f"Ngày {day:%d/%m/%Y} chưa được thêm vào lịch.") from None
    session.commit()
    click.echo(f"Đã xóa {row.kind.label.lower()} {day:%d/%m/%Y}.")


@workdays_cli.command("list", help="Các ngày nghỉ, ngày làm bù của một năm.")
@click.option("--nam", "year", type=click.IntRange(1995, 2100), default=None, help="Năm (mặc định: năm nay).")
def list_days(year: int | None) -> None:
    from portal.timeutil import local_today
    from portal.workdays import calendar

    year = year or local_today().year
    for day, why in calendar.days_off(year):
        click.echo(f"{day:%d/%m/%Y}  nghỉ    {why}")
    for day, why in calendar.weekend_worked(year):
        click.echo(f"{day:%d/%m/%Y}  làm bù  {why}")
    total = calendar.working_days_between(date(year - 1, 12, 31), date(year, 12, 31))
    click.echo(f"Năm {year}: {total} ngày làm việc.")
