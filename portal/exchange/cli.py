"""``flask --app wsgi portal exchange …``: exchange with the world outside the province by hand. A few lines per
command, calling the services; one commit at the end, nothing written when a command fails."""

from __future__ import annotations

from pathlib import Path

import click

from portal.db import session


@click.group("exchange", help="Liên thông văn bản ngoài tỉnh: danh sách cơ quan, gói tin edXML.")
def exchange_cli() -> None:
    pass


@exchange_cli.command("agencies-import", help="Nhập danh sách cơ quan nhận (mã định danh QĐ 20) từ tệp CSV có cột "
                      "organ_id, organ_name, in_charge; nhập lại không tạo trùng.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def agencies_import(file: Path) -> None:
    from portal.exchange import agencies

    with file.open("rb") as handle:
        data = handle.read(agencies.MAX_BYTES + 1)  # one byte over is enough to refuse it
    try:
        report = agencies.import_csv(data, actor_name="dòng lệnh (exchange agencies-import)", file_name=file.name)
    except agencies.AgencyFileRefused as exc:
        session.rollback()
        raise click.ClickException(f"Không nhập được {file.name}: {exc}") from exc
    session.commit()
    for line in report.warnings:
        click.echo(line)
    click.echo(f"Đã nhập {file.name}: thêm {report.added}, cập nhật {report.updated}, không đổi {report.unchanged}, "
               f"trùng mã {report.duplicate_count}, mã không theo QĐ 20 {report.malformed_count}, "
               f"bỏ qua {report.skipped_count} (trên {report.rows} dòng).")


@exchange_cli.command("validate", help="Kiểm tra một gói tin edXML (QCVN 102): in «hợp lệ» kèm các lưu ý, hoặc các lỗi "
                      "(mã thoát 0 hoặc 1). Kiểm tra cả chữ ký XML nếu có.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_package(file: Path) -> None:
    from portal.exchange import edxml

    with file.open("rb") as handle:
        data = handle.read(edxml.DEFAULT_LIMITS.max_bytes + 1)
    try:
        parsed = edxml.parse(data)
    except edxml.ParseError as exc:
        click.echo(f"{file.name}: không đọc được gói tin: {exc}")
        raise SystemExit(1) from exc
    result = edxml.validate(parsed)
    kind = "gói văn bản" if parsed.kind == "document" else "gói trạng thái"
    signature = edxml.verify(data) if parsed.has_signature else None
    if result.ok:
        click.echo(f"{file.name}: hợp lệ ({kind}).")
    else:
        click.echo(f"{file.name}: không hợp lệ ({kind}), {len(result.violations)} lỗi:")
        for finding in result.violations:
            click.echo(f"  lỗi: {finding.element}: {finding.message}")
    for finding in result.warnings:
        click.echo(f"  lưu ý: {finding.element}: {finding.message}")
    if signature is not None:
        click.echo(f"  chữ ký XML: {signature.label}" + (f" ({signature.reason})" if signature.reason else ""))
    raise SystemExit(0 if result.ok else 1)


@exchange_cli.command("import", help="Nhập một gói tin edXML nhận bằng đường khác (USB, thư điện tử) vào cơ quan có mã "
                      "định danh --to, bất kể nơi nhận ghi trong gói; in mã số văn bản đến mới (mã thoát khác 0 và "
                      "không tạo gì khi lỗi).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "organ_id", required=True, help="Mã định danh (QĐ 20) của cơ quan nhận trong hệ thống.")
def import_package(file: Path, organ_id: str) -> None:
    from portal.exchange import edxml, receiving

    org = receiving.organisation_by_code(organ_id.strip())
    if org is None:
        raise click.ClickException(f"Không có cơ quan ban hành nào có mã định danh {organ_id.strip()[:40]}.")
    with file.open("rb") as handle:
        data = handle.read(edxml.DEFAULT_LIMITS.max_bytes + 1)
    result = receiving.receive(data, transport="file", to=org, actor_name="dòng lệnh (exchange import)")
    if result.refused or result.outcome in ("duplicate", "not_found"):
        session.rollback()
        reasons = "; ".join(result.reasons) or result.message
        raise click.ClickException(f"Không nhập được {file.name}: {reasons}")
    session.commit()
    for line in result.warnings:
        click.echo(f"lưu ý: {line}")
    for doc in result.documents:
        click.echo(doc.id)


@exchange_cli.command("export", help="Ghi gói tin edXML của một văn bản đã phát hành (mã số văn bản đi) ra tệp.")
@click.argument("document_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Tệp .edxml sẽ ghi.")
def export_package(document_id: int, out_file: Path) -> None:
    from portal.errors import NotFound, ValidationFailed
    from portal.exchange import export

    try:
        data = export.export(document_id)
    except NotFound as exc:
        raise click.ClickException(f"Không có văn bản đi mã số {document_id}.") from exc
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(exc.errors.values())) from exc
    finally:
        session.rollback()  # nothing is written to the database
    tmp = out_file.with_name(out_file.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out_file)
    click.echo(f"Đã ghi {out_file} ({len(data):,} byte).".replace(",", "."))


@exchange_cli.command("agencies-sync", help="Nhập danh sách cơ quan từ trục liên thông (getAgenciesList).")
def agencies_sync() -> None:
    from portal.exchange import tasks

    try:
        report = tasks.sync_agencies()
    except Exception as exc:
        session.rollback()
        raise click.ClickException(f"Không lấy được danh sách cơ quan từ trục: {exc}") from exc
    session.commit()
    click.echo(report)
