"""The axis simulator: a small real HTTP server speaking ``wire.Wire`` (the protocol ``http.HttpTransport``
speaks), over an ``axis.Axis`` whose queues live in a directory (``queues.DiskQueues``), so it survives a
restart. Two portals — two databases, two processes, two provinces — exchange through it in tests and demos.

    running = serve(directory, {"tinh-a": {"secret": "…", "organs": ["000.00.00.H41"]}, …})
    running.url          # http://127.0.0.1:<port>, what PORTAL_AXIS_URL is set to
    running.stop()

From the command line: ``flask --app wsgi portal axis-simulator --config axis.json`` (``simulator_cli``);
the configuration file is ``{"systems": {…}, "agencies": [{"organ_id", "name", "parent", "email"}, …]}``.

It listens on 127.0.0.1 unless told otherwise, and is a test and demonstration tool: it keeps the secrets of
every system in its configuration file, and is no axis to put on a network.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from portal.exchange.transport.axis import Axis, System, agencies_from, systems_from
from portal.exchange.transport.base import Agency, Refused
from portal.exchange.transport.queues import DiskQueues
from portal.exchange.transport.wire import Wire

log = logging.getLogger(__name__)
REQUEST_TIMEOUT = 60  # seconds a connection may stay silent before the server drops it


def read_config(path: Path | str) -> tuple[list[System], list[Agency] | None]:
    """The systems and agencies of a configuration file; ``ValueError`` saying what is wrong with it."""
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"Không đọc được tệp cấu hình {path}: {exc.strerror or exc}.") from exc
    except ValueError as exc:
        raise ValueError(f"Tệp cấu hình {path} không phải JSON hợp lệ: {exc}.") from exc
    if not isinstance(config, dict) or not isinstance(config.get("systems"), dict) or not config["systems"]:
        raise ValueError(f"Tệp cấu hình {path} cần đối tượng \"systems\": {{SystemId: {{\"secret\", \"organs\"}}}}.")
    agencies = config.get("agencies")
    if agencies is not None and (not isinstance(agencies, list) or not all(isinstance(a, dict) for a in agencies)):
        raise ValueError(f"Tệp cấu hình {path}: \"agencies\" phải là danh sách đối tượng (organ_id, name, parent).")
    return systems_from(config["systems"]), agencies_from(agencies) if agencies is not None else None


class Simulator:
    """Answers one HTTP request: (status, JSON body)."""

    def __init__(self, axis: Axis, wire: Wire | None = None) -> None:
        self.axis = axis
        self.wire = wire or Wire()

    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        wire = self.wire
        try:
            operation = wire.operation(path)
            signed = wire.read_call(headers)
            system = self.axis.system(signed.system_id, signed.proof)
            params = signed.params
            if operation == "send":
                wire.check_body(params, body)
                sender = params.get("from", system.system_id)
                if sender != system.system_id and sender not in system.organs:
                    raise Refused(f"Trục liên thông từ chối: 'from' = {sender} không phải hệ thống gọi.", status=403)
                return 200, wire.answer(DocId=self.axis.send(system, body, wire.kind(params)))
            if operation == "received":
                waiting = self.axis.received(system, wire.kind(params))
                return 200, wire.answer(data=[wire.waiting_item(w) for w in waiting])
            if operation == "fetch":
                return 200, wire.answer(data=wire.encode_package(self.axis.fetch(system, wire.transport_id_of(params))))
            if operation == "acknowledge":
                ok, reason = wire.outcome(params)
                self.axis.acknowledge(system, wire.transport_id_of(params), ok=ok, reason=reason)
                return 200, wire.answer()
            if operation == "sent":
                return 200, wire.answer(data=[wire.sent_item(s) for s in self.axis.sent(system)])
            return 200, wire.answer(data=[wire.agency_item(a) for a in self.axis.agencies()])
        except Refused as exc:
            return wire.refusal(exc)
        except Exception:
            log.exception("Trục mô phỏng: lỗi khi xử lý %s", path)
            return 500, json.dumps({"status": "FAIL", "ErrorCode": "500",
                                    "ErrorDesc": "Trục mô phỏng gặp lỗi nội bộ."}, ensure_ascii=False).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "AxisSimulator/1.0"
    timeout = REQUEST_TIMEOUT

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= self.server.max_body:
            status, body = self.server.simulator.wire.refusal(
                Refused(f"Trục mô phỏng từ chối: Content-Length {self.headers.get('Content-Length')!r} không hợp lệ "
                        f"hoặc quá {self.server.max_body:,} byte.".replace(",", "."), status=413))
            self.close_connection = True
        else:
            status, body = self.server.simulator.handle(self.path, self.headers, self.rfile.read(length))
        self._reply(status, body)

    def do_GET(self) -> None:
        self._reply(*self.server.simulator.wire.refusal(
            Refused("Trục liên thông chỉ nhận POST (sendEdoc, getReceivedEdocList, getEdoc, updateStatus, "
                    "getSentEdocList, getAgenciesList).", status=405)))

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    # request threads are joined when the server closes: stop() leaves no thread behind
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self.max_body = simulator.axis.limits.max_bytes + 1024 * 1024
        super().__init__(address, _Handler)


class RunningAxis:
    """A simulator serving on a thread; ``stop()`` (or leaving a ``with`` block) shuts it and its sockets."""

    def __init__(self, server: _Server, axis: Axis) -> None:
        self.server = server
        self.axis = axis
        host, port = server.server_address[:2]
        self.host, self.port = str(host), int(port)
        self._thread = threading.Thread(target=server.serve_forever, name=f"axis-simulator-{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join()
        self.server.server_close()

    def __enter__(self) -> RunningAxis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(directory: Path | str, systems: Iterable[System] | Mapping[str, Mapping[str, Any]],
          host: str = "127.0.0.1", port: int = 0, *, agencies: Iterable[Agency | Mapping[str, Any]] | None = None,
          wire: Wire | None = None) -> RunningAxis:
    """Start the simulator over the queues in ``directory`` (created if missing, resumed if not); port 0 = any
    free port (``.url`` says which)."""
    axis = Axis(systems, agencies, DiskQueues(directory))
    return RunningAxis(_Server((host, port), Simulator(axis, wire)), axis)
