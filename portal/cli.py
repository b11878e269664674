"""``flask --app wsgi portal …``: a few lines each, calling services; one commit at the end."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app

from portal import audit, migrate, storage
from portal.db import session
from portal.errors import ValidationFailed
from portal.exchange.cli import exchange_cli
from portal.exchange.simulator_cli import axis_simulator
from portal.inbox.cli import inbox_cli
from portal.workdays.cli import workdays_cli


@click.group("portal", help="Lệnh quản trị cổng QLVB&ĐH.")
def cli() -> None:
    pass


cli.add_command(exchange_cli)  # portal exchange …: the feature's own group (portal/exchange/cli.py)
cli.add_command(axis_simulator)  # portal axis-simulator: the national axis on loopback (tests, demo)
cli.add_command(inbox_cli)  # portal inbox rebuild/verify (portal/inbox/cli.py)
cli.add_command(workdays_cli)  # portal workdays add/remove/list: the days IT adds (portal/workdays/cli.py)


@cli.command("db-upgrade", help="Áp dụng các bản chuyển đổi cơ sở dữ liệu (alembic upgrade head).")
def db_upgrade() -> None:
    from portal.inbox.maintain import rebuild

    migrate.upgrade(migrate.migration_url(current_app.config))
    report = rebuild(session())  # work that existed before the inbox's tables, or moved by bulk loads
    session.commit()
    click.echo("Cơ sở dữ liệu đã ở phiên bản mới nhất."
               + (f" Hộp việc: đã bổ sung {report.items} việc." if report.items else ""))


@cli.command("seed-demo", help="Tạo dữ liệu tỉnh mẫu (chạy lại không tạo trùng).")
@click.option("--if-empty", is_flag=True, help="Chỉ tạo khi cơ sở dữ liệu chưa có cơ quan nào.")
def seed_demo(if_empty: bool) -> None:
    from portal import demo

    if if_empty and not demo.database_is_empty():
        click.echo("Cơ sở dữ liệu đã có dữ liệu; bỏ qua dữ liệu mẫu.")
        return
    try:
        report = demo.seed()
    except ValidationFailed as exc:
        session.rollback()
        raise click.ClickException(f"Không tạo được dữ liệu mẫu: {exc}") from exc
    session.commit()
    click.echo(report)


@cli.command("audit-verify", help="Kiểm tra chuỗi băm của nhật ký; báo bản ghi hỏng đầu tiên.")
@click.option("--anchors", "anchor_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Đối chiếu với tệp mốc: đầu chuỗi bị lùi, bản ghi đã neo bị xóa hoặc sửa, chuỗi bị xóa sạch.")
def audit_verify(anchor_file: str | None) -> None:
    from portal import audit_anchors

    result = audit.verify(session(), current_app.config["AUDIT_KEY"])
    click.echo(result.message())
    anchored = audit_anchors.check(session(), current_app.config["AUDIT_KEY"], anchor_file) if anchor_file else None
    if anchored is not None:
        click.echo(anchored.message())
    if not result.ok or (anchored is not None and not anchored.ok):
        sys.exit(1)


@cli.command("audit-anchor", help="Ghi đầu chuỗi nhật ký (số, mã băm, thời điểm) vào tệp mốc PORTAL_AUDIT_ANCHOR_FILE "
             "(chạy hằng ngày và khi sao lưu).")
@click.argument("anchor_file", metavar="[FILE]", required=False, type=click.Path(dir_okay=False))
def audit_anchor(anchor_file: str | None) -> None:
    from portal import audit_anchors

    try:
        anchor = audit_anchors.append(anchor_file)
    except audit_anchors.AnchorRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Đã neo đầu chuỗi: bản ghi số {anchor.seq}, mã băm {anchor.hash[:16]}…, lúc {anchor.at}.")


@cli.command("db-roles", help="PostgreSQL: tạo hoặc cập nhật vai trò chủ sở hữu (chạy chuyển đổi) và vai trò ứng dụng "
             "(không sửa, xóa được nhật ký). Chạy bằng superuser hoặc chủ sở hữu.")
@click.option("--owner", required=True, help="Vai trò sở hữu lược đồ và các bảng.")
@click.option("--app", "app_role", required=True, help="Vai trò cổng dùng khi chạy.")
def db_roles_command(owner: str, app_role: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from portal import db_roles
    from portal.db import make_engine

    engine = make_engine(migrate.migration_url(current_app.config))
    try:
        for line in db_roles.set_up(engine, owner, app_role):
            click.echo(line)
    except db_roles.RolesRefused as exc:
        raise click.ClickException(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise click.ClickException(f"Không đặt được vai trò (cần superuser hoặc chủ sở hữu): {exc.orig}") from exc
    finally:
        engine.dispose()


@cli.command("storage-verify", help="Kiểm tra mọi tệp đã lưu còn đủ và đúng mã băm; ghi nhật ký tệp hỏng; "
             "báo tệp trên đĩa không thuộc bản ghi nào.")
def storage_verify() -> None:
    from portal.jobs.periodic import verify_storage  # also the queue's nightly task

    broken, stray = verify_storage()
    for line in broken + stray:
        click.echo(line)
    if broken or stray:
        click.echo(f"Tệp hỏng hoặc mất: {len(broken)}; tệp mồ côi: {len(stray)}.")
        sys.exit(1)
    click.echo("Mọi tệp đều toàn vẹn.")


@cli.command("storage-clean", help="Xóa tệp tải lên tạm thời còn sót lại quá một ngày (chạy hằng ngày).")
@click.option("--hours", default=24.0, show_default=True, type=click.FloatRange(min=1.0),
              help="Chỉ xóa tệp tạm cũ hơn số giờ này (tệp mới hơn có thể đang được tải lên).")
def storage_clean(hours: float) -> None:
    removed = storage.clean_tmp(hours * 3600)
    for path in removed:
        click.echo(f"Đã xóa tệp tạm: {path.name}")
    click.echo(f"Đã xóa {len(removed)} tệp tạm.")


@cli.command("backup", help="Sao lưu nhất quán CSDL và mọi tệp đã lưu vào thư mục mới DIR (mã hóa khi đặt "
             "PORTAL_BACKUP_KEY).")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
def backup_command(directory: Path) -> None:
    from portal import backup

    try:
        taken = backup.create(directory)
    except backup.BackupError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Đã sao lưu vào {directory}: {len(taken.objects)} tệp, {taken.size():,} byte, đầu nhật ký "
               f"{taken.audit_seq}{', đã mã hóa' if taken.encrypted else ''}.")


@cli.command("restore", help="Khôi phục từ thư mục sao lưu DIR vào CSDL và thư mục lưu tệp trống, rồi diễn tập "
             "kiểm tra.")
@click.argument("directory", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(directory: Path) -> None:
    from portal import backup

    try:
        restored = backup.restore(directory)
    except backup.BackupError as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    if restored.upgraded:
        click.echo("Bản sao lưu có lược đồ cũ hơn mã nguồn: đã chạy db-upgrade sau khi khôi phục.")
    click.echo(restored.report.text())
    if not restored.report.ok:
        sys.exit(1)


def _vietnamese_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()  # noqa: DTZ007 (a calendar day, no time or zone)
    except ValueError:
        raise click.BadParameter("Ngày phải có dạng dd/mm/yyyy, ví dụ 05/01/2026.") from None


@cli.command("remind", help="Gửi nhắc việc sắp đến hạn, quá hạn (chạy hằng ngày; chạy lại không gửi trùng).")
@click.option("--ngay", "day", metavar="dd/mm/yyyy", callback=_vietnamese_date,
              help="Tính như vào ngày này (mặc định: hôm nay, giờ Việt Nam).")
def remind(day: date | None) -> None:
    from portal.incoming.tasks import send_reminders  # also the queue's daily task

    sent = send_reminders(day)
    click.echo(f"Đã gửi {sent} nhắc việc." if sent else "Không có nhắc việc mới.")


@cli.group("pki", help="Chứng thư số, khóa ký.")
def pki_group() -> None:
    pass


@pki_group.command("init-demo", help="Tạo bộ khóa THỬ NGHIỆM: CA, chứng thư cho lãnh đạo và con dấu số cho cơ quan.")
def pki_init_demo() -> None:
    from portal.signatures import service as signatures

    try:
        people, seals = signatures.init_demo_pki()
    except ValidationFailed as exc:
        session.rollback()
        raise click.ClickException(str(exc)) from exc
    session.commit()
    click.echo(f"Đã có chứng thư thử nghiệm cho {people} người ký và {seals} cơ quan "
               f"(khóa trong {current_app.config['PKI_DIR']}).")


@pki_group.command("register", help="Đăng ký chứng thư số cho một người (--user) hoặc cơ quan (--org); khóa trên "
                                     "HSM/thiết bị ký của máy chủ: --token và --key (nhãn).")
@click.argument("certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", default="", help="Tên đăng nhập của người ký.")
@click.option("--org", "organisation_id", type=click.IntRange(1, 2**31 - 1), default=None,
              help="Mã số cơ quan (con dấu).")
@click.option("--token", "token_label", default="", help="Nhãn thiết bị ký (token label) trên HSM.")
@click.option("--key", "key_label", default="", help="Nhãn khóa (key label).")
def pki_register(certificate: Path, username: str, organisation_id: int | None, token_label: str,
                 key_label: str) -> None:
    from portal.signatures import certificates

    try:
        row = certificates.register_by(None, certificate.read_bytes()[:65_537], username=username,
                                       organisation_id=organisation_id,
                                       backend=certificates.PKCS11 if token_label else certificates.EXTERNAL,
                                       token_label=token_label, key_label=key_label)
    except ValidationFailed as exc:
        session.rollback()
        raise click.ClickException("; ".join(exc.errors.values())) from exc
    session.commit()
    click.echo(f"Đã đăng ký chứng thư số {row.serial} ({certificates.BACKEND_LABELS[row.backend]}).")


@cli.command("bench-seed", help="Tạo dữ liệu lớn để đo hiệu năng (COPY trên PostgreSQL); in thời gian nạp.")
@click.option("--documents", type=click.IntRange(1), default=10_000, show_default=True,
              help="Số văn bản (20 % văn bản đi kèm dự thảo, còn lại văn bản đến).")
@click.option("--organisations", type=click.IntRange(1), default=200, show_default=True, help="Số cơ quan.")
@click.option("--force", is_flag=True, help="Thêm vào cả khi cơ sở dữ liệu đã có văn bản.")
def bench_seed(documents: int, organisations: int, force: bool) -> None:
    from portal import benchseed

    if benchseed.has_documents() and not force:
        raise click.ClickException("Cơ sở dữ liệu đã có văn bản; dùng --force để vẫn thêm dữ liệu đo hiệu năng.")
    session.remove()
    report = benchseed.fill(documents, organisations, say=click.echo)
    def n(value: float) -> str:
        return f"{value:,.0f}".replace(",", ".")

    click.echo(f"Xong: {n(report.documents)} văn bản, {n(report.total_rows)} dòng trong {report.seconds:.1f} s "
               f"({n(report.documents / report.seconds)} văn bản/giây, {n(report.total_rows / report.seconds)} "
               "dòng/giây); " + ", ".join(f"{k} {v}" for k, v in report.timings.items()))
    click.echo(f"Đăng nhập: {report.clerk} (văn thư của cơ quan lớn nhất) hoặc bất kỳ tài khoản đã tạo, "
               f"mật khẩu chung “{benchseed.PASSWORD}”.")


@cli.command("outbox-drain", help="Gửi các thư đang chờ trong hộp thư đi (tác vụ định kỳ chạy mỗi phút).")
def outbox_drain() -> None:
    from portal.outbox.drain import drain_once

    click.echo(drain_once().message())


@cli.command("password-expiry-notices", help="Xếp thư báo mật khẩu sắp hết hạn (mỗi người một thư mỗi kỳ hạn).")
def password_expiry_notices() -> None:
    from portal.outbox.tasks import daily_expiry_notices

    click.echo(f"Đã xếp {daily_expiry_notices()} thư báo mật khẩu sắp hết hạn.")
