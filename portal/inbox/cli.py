"""``flask portal inbox rebuild|verify``: the nightly rebuild by hand, and a check that changes nothing."""

from __future__ import annotations

import click

from portal.db import session
from portal.inbox.maintain import rebuild, verify


@click.group("inbox", help="Hộp việc “Việc của tôi”: dựng lại, kiểm tra bộ đếm.")
def inbox_cli() -> None:
    pass


@inbox_cli.command("rebuild", help="Tính lại mọi việc đang chờ và bộ đếm, sửa chỗ sai lệch (tác vụ chạy hằng đêm).")
def rebuild_command() -> None:
    report = rebuild(session())
    session.commit()
    click.echo(f"Đã dựng lại hộp việc: {report.items} việc và {report.counts} bộ đếm phải sửa.")


@inbox_cli.command("verify", help="So hộp việc và bộ đếm với cách tính lại từ đầu; không sửa gì.")
def verify_command() -> None:
    report = verify(session())
    session.rollback()
    for line in report.details[:50]:
        click.echo(line)
    if not report.agreed:
        raise click.ClickException(f"Sai lệch: {report.items} việc, {report.counts} bộ đếm.")
    click.echo("Hộp việc khớp với cách tính lại từ đầu.")
