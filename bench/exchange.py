"""Exchange throughput (issue 17): edXML packages built, seal-signed and sent to the axis per second, and
received packages fetched from the axis and processed into the database per second.

    .venv/bin/python bench/exchange.py                          # 1,000 packages, a 1 MB PDF each, SQLite
    .venv/bin/python bench/exchange.py --count 100              # a quick run
    .venv/bin/python bench/exchange.py --database postgresql    # a throwaway PostgreSQL database
    PORTAL_DATABASE_URL=postgresql+psycopg://…/empty_db .venv/bin/python bench/exchange.py   # that database

Prints a table and one JSON line. The axis simulator runs as a process of its own
(``python -m portal.exchange.simulator_cli``: HTTP on a loopback port, queues on disk, every package parsed and
validated as it arrives), with two systems: "tinh-a" serving the sending Sở, "tinh-b" the receiving one.

1. Built and sent: for each package a distinct PDF of ``--pdf-mb`` MB (a valid one-page PDF holding a noise
   image, so storage cannot de-duplicate it and compression cannot shrink it) goes into
   ``portal.exchange.delivery.document_package`` — the function issuance calls: the edXML package built
   (``edxml.build_document``) and XML-signed by the Sở's seal key through ``certificates.xml_signer`` (the
   development PKI's encrypted key file, read for every package as the portal does) — and is sent with
   ``HttpTransport.send_edoc`` (one sender, one package at a time). PDF generation is not timed.
2. Received and processed: the same packages, now waiting for "tinh-b", are listed, fetched
   (``HttpTransport.fetch``), processed by ``portal.exchange.receiving.receive`` (parse, validate, files checked,
   package and PDF stored, an incoming document at 01 with the PDF's signature check, its 01 status package
   queued, audit rows), committed, then acknowledged — ``exchange.tasks.poll``'s loop, timed step by step.

The database is a throwaway SQLite file (default) or PostgreSQL database (``--database postgresql``, created on
127.0.0.1:5432 or PORTAL_TEST_POSTGRES_URL and dropped), or the empty database PORTAL_DATABASE_URL names
(migrated, kept). Storage and the simulator's queues live in a temporary directory (about 4 GB at 1,000 × 1 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import throwaway
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from portal import create_app, migrate
from portal.db import session
from portal.documents import identifiers
from portal.documents.models import OutgoingDocument
from portal.exchange import delivery, edxml, receiving
from portal.exchange.models import ExchangePackage
from portal.exchange.transport.http import HttpTransport
from portal.orgs import services as orgs
from portal.orgs.models import OrgKind
from portal.signatures import certificates
from portal.signatures import service as signatures

ROOT = Path(__file__).resolve().parent.parent
SENDER = ("000.00.12.H41", "Sở Nội vụ tỉnh Thử A", "SNVA")
RECEIVER = ("000.00.05.H14", "Sở Tài chính tỉnh Thử B", "STCB")
SYSTEMS = {"tinh-a": {"secret": "khóa bí mật của tỉnh A", "organs": [SENDER[0]]},
           "tinh-b": {"secret": "khóa bí mật của tỉnh B", "organs": [RECEIVER[0]]}}
MB = 1024 * 1024


def database(kind: str, directory: Path) -> tuple[str, Callable[[], None], str]:
    """(url, drop, what): PORTAL_DATABASE_URL when set (kept), else a throwaway database of ``kind``."""
    given = os.environ.get("PORTAL_DATABASE_URL")
    if given:
        return given, lambda: None, make_url(given).get_backend_name() + " (PORTAL_DATABASE_URL, giữ lại)"
    url, drop = throwaway.database(kind, directory)
    return url, drop, kind


def noise_pdf(size: int, seed: int) -> bytes:
    """A valid one-page PDF of about ``size`` bytes: a grey noise image (incompressible, distinct per seed)."""
    side = max(int((size - 1024) ** 0.5), 8)
    pixels = random.Random(seed).randbytes(side * side)
    content = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> "
               b"/Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
               b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
               b"/Length %d >>\nstream\n%s\nendstream" % (side, side, len(pixels), pixels)]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class Timers:
    """Seconds spent per named step; ``wrap`` times a module's function wherever it is called from."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start

        setattr(module, name, timed)

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[label] += time.perf_counter() - start

    def per_package_ms(self, count: int) -> dict[str, float]:
        return {label: round(seconds / count * 1000, 2) for label, seconds in self.seconds.items()}


def start_simulator(directory: Path) -> tuple[subprocess.Popen, str]:
    config = directory / "axis.json"
    config.write_text(json.dumps({"systems": SYSTEMS}, ensure_ascii=False), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "portal.exchange.simulator_cli", "--config", str(config),
                                "--dir", str(directory / "queues"), "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = process.stdout.readline() if process.stdout else ""
    url = next((word for word in line.split() if word.startswith("http://")), None)
    if url is None:
        process.kill()
        raise SystemExit(f"Trục mô phỏng không chạy: {line!r}")
    return process, url


def organisations() -> tuple[Any, Any]:
    """The sending and the receiving Sở (one database holds both: a portal has one province, so they share
    it here), and the development PKI's seals."""
    root = orgs.create(None, orgs.OrgData(name="Ủy ban nhân dân tỉnh Thử", short_name="UBND",
                                          kind=OrgKind.PEOPLE_COMMITTEE, is_issuing=False))
    made = [orgs.create(None, orgs.OrgData(name=name, short_name=short, kind=OrgKind.DEPARTMENT, is_issuing=True,
                                           parent_id=root.id, organ_id=code))
            for code, name, short in (SENDER, RECEIVER)]
    signatures.init_demo_pki()
    session.commit()
    return made[0], made[1]


def send_all(count: int, pdf_bytes: int, sender_org: Any, transport: HttpTransport) -> dict[str, Any]:
    timers = Timers()
    timers.wrap(edxml, "build_document", "build_document")
    timers.wrap(certificates, "xml_signer", "seal_key_load")
    timers.wrap(edxml, "sign", "xml_sign")
    day = datetime.now(UTC).date() - timedelta(days=1)
    sizes = 0
    elapsed = 0.0
    first = b""
    for i in range(count):
        pdf = noise_pdf(pdf_bytes, i)
        number, notation = f"{i + 1:04d}", f"QĐ-{SENDER[2]}"
        out = OutgoingDocument(  # transient: only what the package reads
            code_number=number, code_notation=notation, issued_date=day, type_name="Quyết định",
            subject=f"Quyết định số {number} về việc thử nghiệm liên thông văn bản", signer_position="Giám đốc",
            signer_name="Nguyễn Văn Thử", urgency=0, due_date=None,
            document_id=identifiers.document_id(SENDER[0], day, i + 1, notation))
        start = time.perf_counter()
        with timers.step("document_package"):
            data = delivery.document_package(out, sender_org, [(RECEIVER[0], RECEIVER[1])],
                                             delivery.File(f"{number}-{notation}.pdf", pdf), [],
                                             now=datetime.now(UTC).replace(microsecond=0))
        with timers.step("send_edoc"):
            transport.send_edoc(data)
        elapsed += time.perf_counter() - start
        sizes += len(data)
        first = first or data
    session.rollback()  # the seals' certificate rows were read: no transaction left open
    measured = timers.per_package_ms(count)
    ms = {"document_package": measured["document_package"], "build_document": measured["build_document"],
          "seal_key_load": measured["seal_key_load"], "xml_sign": measured["xml_sign"],
          "package_other": round(measured["document_package"] - measured["build_document"] - measured["seal_key_load"]
                           - measured["xml_sign"], 2), "send_edoc": measured["send_edoc"]}
    return {"packages": count, "seconds": round(elapsed, 2), "per_s": round(count / elapsed, 2),
            "portal_per_s": round(1000 / ms["document_package"], 2), "package_mb": round(sizes / count / MB, 3),
            "ms_per_package": ms,
            "xml_signature": edxml.verify(first).status}


def receive_all(transport: HttpTransport) -> dict[str, Any]:
    timers = Timers()
    with timers.step("list_received"):
        waiting = transport.list_received("edoc")
    outcomes: Counter[str] = Counter()
    start = time.perf_counter()
    for transport_id in waiting:
        with timers.step("fetch"):
            data = transport.fetch(transport_id)
        with timers.step("receive"):
            received = receiving.receive(data, transport="axis", transport_id=transport_id)
        with timers.step("commit"):
            session.commit()
        outcomes[received.outcome] += 1
        with timers.step("acknowledge"):
            transport.acknowledge(transport_id, ok=not received.refused, reason="; ".join(received.reasons)[:500])
    elapsed = time.perf_counter() - start
    ms = timers.per_package_ms(max(len(waiting), 1))
    return {"packages": len(waiting), "seconds": round(elapsed, 2), "per_s": round(len(waiting) / elapsed, 2),
            "portal_per_s": round(1000 / (ms["receive"] + ms["commit"]), 2), "ms_per_package": ms,
            "outcomes": dict(outcomes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="packages built and sent, then received")
    parser.add_argument("--pdf-mb", type=float, default=1.0, help="size of each package's PDF")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite",
                        help="a throwaway database of this kind (ignored when PORTAL_DATABASE_URL is set)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-exchange-") as tmp_name:
        tmp = Path(tmp_name)
        url, drop, what = database(args.database, tmp)
        simulator, axis_url = start_simulator(tmp)
        try:
            migrate.upgrade(url)
            app = create_app({"TESTING": True, "DATABASE_URL": url, "STORAGE_DIR": str(tmp / "storage"),
                              "AUDIT_KEY": "bench", "SECRET_KEY": "bench", "SIGNING_DEV_PKI": True,
                              "PKI_DIR": str(tmp / "pki"), "PKI_PASSPHRASE": "bench-pki",
                              "AXIS_URL": axis_url, "AXIS_SYSTEM_ID": "tinh-b",
                              "AXIS_SECRET": SYSTEMS["tinh-b"]["secret"]})
            with app.app_context():
                if session.execute(select(func.count()).select_from(ExchangePackage)).scalar_one():
                    raise SystemExit("Cơ sở dữ liệu đã có gói tin liên thông: hãy dùng một cơ sở dữ liệu trống.")
                sender_org, _ = organisations()
                sent = send_all(args.count, int(args.pdf_mb * MB), sender_org,
                                HttpTransport(axis_url, "tinh-a", SYSTEMS["tinh-a"]["secret"], timeout=120))
                received = receive_all(HttpTransport(axis_url, "tinh-b", SYSTEMS["tinh-b"]["secret"], timeout=120))
                session.remove()
            app.extensions["engine"].dispose()
        finally:
            simulator.terminate()
            simulator.wait(timeout=30)
            drop()
    figures = {"bench": "exchange", "database": what, "count": args.count, "pdf_mb": args.pdf_mb,
               "sent": sent, "received": received}
    print(f"Cơ sở dữ liệu                 {what}")
    print(f"Gói tin                       {args.count}, PDF {args.pdf_mb} MB mỗi gói, gói {sent['package_mb']} MB "
          f"(base64), chữ ký XML: {sent['xml_signature']}")
    print(f"Dựng, ký và gửi lên trục      {sent['per_s']:>8} gói/giây ({sent['seconds']} s; không tính trục "
          f"{sent['portal_per_s']} gói/giây)")
    for label, ms in sent["ms_per_package"].items():
        part = label in ("build_document", "seal_key_load", "xml_sign", "package_other")  # of document_package
        print(f"    {'  ' * part}{label:<{26 - 2 * part}}{ms:>8} ms/gói")
    print(f"Nhận, xử lý và ghi CSDL       {received['per_s']:>8} gói/giây ({received['seconds']} s; không tính "
          f"trục {received['portal_per_s']} gói/giây; {received['outcomes']})")
    for label, ms in received["ms_per_package"].items():
        print(f"    {label:<26}{ms:>8} ms/gói")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
