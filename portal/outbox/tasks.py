"""The outbox on the job queue and on the command line: the drain every minute, the password-expiry
notices every morning, and the same two as ``flask portal outbox-drain`` /
``flask portal password-expiry-notices``. Imported once by ``create_app`` (before ``jobs.init_app``)."""

from __future__ import annotations

import click

from portal import jobs
from portal.cli import cli
from portal.db import session
from portal.outbox.drain import drain_once
from portal.outbox.expiry import queue_password_expiry_notices


def daily_expiry_notices() -> int:
    queued = queue_password_expiry_notices()
    session.commit()
    return queued


jobs.periodic("outbox-drain", drain_once)  # every minute
jobs.periodic("password-expiry-notices", daily_expiry_notices, hour="7", minute="0")


@cli.command("outbox-drain", help="Gửi các thư đang chờ trong hộp thư đi (tác vụ định kỳ chạy mỗi phút).")
def outbox_drain() -> None:
    click.echo(drain_once().message())


@cli.command("password-expiry-notices", help="Xếp thư báo mật khẩu sắp hết hạn (mỗi người một thư mỗi kỳ hạn).")
def password_expiry_notices() -> None:
    click.echo(f"Đã xếp {daily_expiry_notices()} thư báo mật khẩu sắp hết hạn.")
