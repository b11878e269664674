"""``axis-simulator``: the axis simulator from the command line, until Ctrl+C or SIGTERM.

    flask --app wsgi portal axis-simulator --config axis.json --port 8090 --dir instance/axis-simulator
    python -m portal.exchange.simulator_cli --config axis.json      # the same, without the portal's settings

Each portal then sets PORTAL_AXIS_URL to the printed address and PORTAL_AXIS_SYSTEM_ID / PORTAL_AXIS_SECRET
to one system of the configuration file (docs/EXCHANGE.md, "The axis simulator").
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from portal.exchange.transport.simulator import read_config, serve


@click.command("axis-simulator")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp JSON: {\"systems\": {SystemId: {\"secret\", \"organs\"}}, \"agencies\": [...]}.")
@click.option("--dir", "directory", default=Path("instance") / "axis-simulator", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Thư mục hàng đợi (giữ lại khi khởi động lại).")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(0, 65535), help="0 = cổng trống bất kỳ.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe.")
def axis_simulator(config_path: Path, directory: Path, port: int, host: str) -> None:
    """Chạy trục liên thông mô phỏng (sendEdoc, getReceivedEdocList, getEdoc, updateStatus, getSentEdocList,
    getAgenciesList) cho kiểm thử và trình diễn."""
    try:
        systems, agencies = read_config(config_path)
        running = serve(directory, systems, host, port, agencies=agencies)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        click.echo(f"Trục liên thông mô phỏng đang chạy tại {running.url} (thư mục {directory}; hệ thống: "
                   f"{', '.join(s.system_id for s in systems)}). Ctrl+C để dừng.")
        while not stop.wait(0.5):
            pass
    finally:
        running.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("Đã dừng trục liên thông mô phỏng.")


if __name__ == "__main__":
    axis_simulator(prog_name="axis-simulator")
