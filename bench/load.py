"""Load benchmark: the portal under gunicorn, driven by locust with a fixed number of connections.

    .venv/bin/python bench/load.py --url DATABASE_URL --storage STORAGE_DIR
        [--workers 4] [--worker-class sync|gthread] [--threads 1] [--users 32] [--duration 60]
        [--ceiling-duration 20] [--list-duration 30]

The database must have been filled by ``flask --app wsgi portal bench-seed`` (its accounts and
their common password are used) with ``STORAGE_DIR`` = ``--storage``. Three phases, each with
``--users`` concurrent virtual users (one keep-alive connection each, no think time):

1. *ceiling*: ``bench/ceiling_app.py`` (one route, no session, no database) under the same
   gunicorn settings: what any Flask app can do on this machine with this load generator;
2. *list*: only the incoming list, for the list/ceiling throughput ratio;
3. *mix*: signed-in clerks, officers, unit heads and agency leaders of the biggest organisations
   open the incoming and outgoing lists with filters, search without diacritics, open document
   pages, download files, open the week's schedule (if ``/lich-cong-tac/`` exists) and clerks
   register scanned paper documents.

Prints, per page, throughput and median/p95/p99 latency (ms, as locust measures them on the
client: queueing included), errors, the ratio of the list's throughput to the ceiling's, peak
RSS per gunicorn worker (sampled every 0.5 s), the load average, then one JSON line. locust runs
in this process (gevent) and needs CPU too: on a 2-core machine it shares the cores with
gunicorn and PostgreSQL, as a real client on the same host would.
"""

from __future__ import annotations

# isort: off
from locust import FastHttpUser, task  # first: locust monkey-patches the standard library (gevent)
# isort: on

import argparse
import itertools
import json
import os
import random
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

import gevent
import psutil
import requests
from locust.env import Environment
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.benchseed import PASSWORD, sample_pdf  # noqa: E402  (after the path is set)

ROLES = ("clerk", "officer", "unit_head", "clerk", "agency_leader", "officer", "unit_head", "clerk")
SEARCHES = ["cong tac van thu", "chuyen doi so", "cai cach hanh chinh", "phong chong thien tai", "quyet dinh ve",
            "ke hoach kiem tra", "bao cao ket qua", "ngan sach nha nuoc", "tet nguyen dan", "dat dai",
            "an toan thong tin", "nong thon moi", "thi dua khen thuong", "dich vu cong truc tuyen"]
ORGANS = ["Ủy ban nhân dân tỉnh Ninh Bình", "Bộ Nội vụ", "Sở Tài chính tỉnh Ninh Bình", "Văn phòng Chính phủ"]
NAMES = {  # request name per page, in the order printed
    "list_in": "danh sách đến", "list_out": "danh sách đi", "search_in": "tìm không dấu (đến)",
    "search_out": "tìm không dấu (đi)", "document": "trang văn bản đến", "download": "tải tệp",
    "schedule": "lịch công tác tuần", "register": "vào sổ văn bản giấy", "ceiling": "trần (Flask tối giản)",
}
DOC_LINK = re.compile(r'href="/van-ban-den/(\d+)"')
FILE_LINK = re.compile(r'/van-ban-den/(\d+)/tep/(\d+)/tai-ve')


# --- servers ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, app: str, args: argparse.Namespace, env: dict[str, str], ready: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "gunicorn", app, "--chdir", str(ROOT), "-b", f"127.0.0.1:{self.port}",
               "-w", str(args.workers), "-k", args.worker_class, "--threads", str(args.threads),
               "--backlog", "2048", "--timeout", "120", "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.base + ready, timeout=2).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"LỖI: gunicorn {app} không khởi động được")
            time.sleep(0.3)

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class MemoryWatch:
    """Peak RSS of each worker, sampled every half second while the load runs."""

    def __init__(self, server: Gunicorn) -> None:
        self.server = server
        self.peaks: dict[int, int] = {}
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            self.sample()
            gevent.sleep(0.5)

    def sample(self) -> None:
        for worker in self.server.workers():
            try:
                rss = worker.memory_info().rss
            except psutil.Error:
                continue
            self.peaks[worker.pid] = max(self.peaks.get(worker.pid, 0), rss)

    def stop(self) -> list[float]:
        self.sample()
        self.greenlet.kill()
        return sorted(round(v / 2**20, 1) for v in self.peaks.values())


# --- who signs in ------------------------------------------------------------------------------------

@dataclass
class Identity:
    username: str
    role: str
    organisation_id: int
    headers: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    documents: list[int] = field(default_factory=list)
    files: list[tuple[int, int]] = field(default_factory=list)


def accounts(url: str, users: int) -> tuple[list[Identity], dict[str, Any]]:
    """Clerks, officers, unit heads and agency leaders of the biggest organisations, in the mix of
    ROLES; one account per virtual user where the organisation has enough of them."""
    engine = create_engine(url)
    with engine.connect() as conn:
        orgs = [r[0] for r in conn.execute(text(
            "SELECT organisation_id FROM incoming_documents GROUP BY organisation_id "
            "ORDER BY count(*) DESC LIMIT 4"))]
        rows = conn.execute(text(
            "SELECT u.username, r.role, p.organisation_id FROM users u JOIN positions p ON p.user_id = u.id "
            "JOIN position_roles r ON r.position_id = p.id WHERE u.status = 'active' ORDER BY u.id")).all()
        documents = conn.execute(text("SELECT count(*) FROM incoming_documents")).scalar_one()
        outgoing = conn.execute(text("SELECT count(*) FROM outgoing_documents")).scalar_one()
    engine.dispose()
    pools = {(org, role): itertools.cycle([r[0] for r in rows if r[2] == org and r[1] == role])
             for org in orgs for role in set(ROLES)}
    chosen = []
    for k in range(users):
        org, role = orgs[(k // len(ROLES)) % len(orgs)], ROLES[k % len(ROLES)]
        chosen.append(Identity(next(pools[(org, role)]), role, org))
    return chosen, {"incoming_documents": documents, "outgoing_documents": outgoing, "organisations": orgs}


def sign_in(base: str, who: Identity) -> None:
    """The login form (its CSRF token), the post, then the token of the signed-in session."""
    s = requests.Session()
    page = s.get(base + "/auth/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page)
    resp = s.post(base + "/auth/login", data={"username": who.username, "password": PASSWORD,
                                              "csrf_token": token.group(1) if token else ""},
                  allow_redirects=False, timeout=60)
    if resp.status_code != 303:
        raise SystemExit(f"LỖI: {who.username} không đăng nhập được ({resp.status_code})")
    home = s.get(base + "/van-ban-den/", timeout=60).text
    found = re.search(r'"X-CSRFToken": "([^"]+)"', home)
    who.csrf = found.group(1) if found else ""
    who.headers = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in s.cookies), "X-CSRFToken": who.csrf}
    who.documents = [int(d) for d in DOC_LINK.findall(home)]


# --- the virtual users --------------------------------------------------------------------------------

class Shared:
    """What the phases hand the virtual users (locust creates them without arguments)."""

    identities: ClassVar[Iterator[Identity]] = iter(())
    schedule: ClassVar[bool] = False
    last_year: ClassVar[int] = date.today().year - 1  # noqa: DTZ011  (a calendar year for the filter)
    scan: ClassVar[bytes] = b""
    errors: ClassVar[list[str]] = []


def _check(resp: Any, expected: int = 200) -> None:
    if resp.status_code != expected:
        if len(Shared.errors) < 10:
            Shared.errors.append(f"{resp.request_meta['name'] if hasattr(resp, 'request_meta') else ''} "
                                 f"{resp.status_code} {resp.url}")
        resp.failure(f"HTTP {resp.status_code}")


class CeilingUser(FastHttpUser):
    @task
    def ceiling(self) -> None:
        with self.client.get("/", name=NAMES["ceiling"], catch_response=True) as resp:
            _check(resp)


class PortalUser(FastHttpUser):
    abstract = True

    def on_start(self) -> None:
        self.who: Identity = next(Shared.identities)

    def _get(self, kind: str, path: str, params: dict[str, str] | None = None) -> str:
        url = path + ("?" + urlencode(params) if params else "")
        with self.client.get(url, name=NAMES[kind], headers=self.who.headers, catch_response=True) as resp:
            _check(resp)
            return resp.text or "" if resp.status_code == 200 else ""

    def list_in(self) -> None:
        params = random.choice([{"ds": "tat-ca"}, {}, {"ds": "tat-ca", "khan": "1"}, {"ds": "dang-xu-ly"},
                                {"ds": "tat-ca", "tu": f"01/01/{Shared.last_year}", "den": f"31/12/{Shared.last_year}"},
                                {"ds": "qua-han"}])
        body = self._get("list_in", "/van-ban-den/", params)
        found = DOC_LINK.findall(body)
        if found:
            self.who.documents = [int(d) for d in found][:50]


class ListUser(PortalUser):
    @task
    def only_list(self) -> None:
        self._get("list_in", "/van-ban-den/", {"ds": "tat-ca"})


class MixUser(PortalUser):
    @task(25)
    def incoming_list(self) -> None:
        self.list_in()

    @task(10)
    def outgoing_list(self) -> None:
        params = random.choice([{"ds": "da-phat-hanh"}, {"ds": "da-phat-hanh", "khan": "1"}, {"ds": "tat-ca"},
                                {"ds": "da-phat-hanh", "tu": f"01/01/{Shared.last_year}",
                                 "den": f"31/12/{Shared.last_year}"}])
        self._get("list_out", "/du-thao/", params)

    @task(12)
    def search_in(self) -> None:
        self._get("search_in", "/van-ban-den/", {"ds": "tat-ca", "q": random.choice(SEARCHES)})

    @task(4)
    def search_out(self) -> None:
        self._get("search_out", "/du-thao/", {"ds": "da-phat-hanh", "q": random.choice(SEARCHES)})

    @task(20)
    def document(self) -> None:
        if not self.who.documents:
            return self.list_in()
        doc = random.choice(self.who.documents)
        body = self._get("document", f"/van-ban-den/{doc}")
        self.who.files = ([(int(d), int(f)) for d, f in FILE_LINK.findall(body)] + self.who.files)[:20]

    @task(6)
    def download(self) -> None:
        if not self.who.files:
            return self.document()
        doc, file_id = random.choice(self.who.files)
        self._get("download", f"/van-ban-den/{doc}/tep/{file_id}/tai-ve")

    @task(4)
    def schedule(self) -> None:
        if Shared.schedule:
            self._get("schedule", "/lich-cong-tac/")

    @task(3)
    def register(self) -> None:
        if self.who.role != "clerk":
            return self.list_in()
        number = str(random.randint(1, 9999))
        fields = {"csrf_token": self.who.csrf, "type_name": "Công văn", "code_number": number,
                  "code_notation": f"UBND-VP{random.randint(1, 99)}", "issued_date": date.today().strftime("%d/%m/%Y"),  # noqa: DTZ011
                  "organ_name": random.choice(ORGANS), "subject": f"Về việc {random.choice(SEARCHES)} (đo tải)",
                  "urgency": "0", "secrecy": "0", "page_amount": "2", "language": "Tiếng Việt"}
        scan = Shared.scan + f"\n% {uuid.uuid4().hex}\n".encode()
        body, content_type = multipart(fields, {"scan": ("ban-quet.pdf", scan, "application/pdf")})
        with self.client.post("/van-ban-den/moi", data=body, name=NAMES["register"], catch_response=True,
                              allow_redirects=False,
                              headers={**self.who.headers, "Content-Type": content_type}) as resp:
            _check(resp, 303)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in
             fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
              f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n" for k, (name, data, kind) in files.items()]
    return b"".join([*parts, f"--{boundary}--\r\n".encode()]), f"multipart/form-data; boundary={boundary}"


# --- phases ----------------------------------------------------------------------------------------------

def run_phase(user: type, base: str, users: int, seconds: float, server: Gunicorn) -> dict[str, Any]:
    env = Environment(user_classes=[user], host=base)
    runner = env.create_local_runner()
    watch = MemoryWatch(server)
    runner.start(users, spawn_rate=users)
    started = time.perf_counter()
    gevent.sleep(seconds)
    runner.quit()
    elapsed = time.perf_counter() - started
    memory = watch.stop()
    pages = {}
    for (name, _method), entry in sorted(env.stats.entries.items()):
        if not entry.num_requests:
            continue
        pages[name] = {"requests": entry.num_requests, "rps": round(entry.num_requests / elapsed, 1),
                       "median_ms": entry.median_response_time,
                       "p95_ms": entry.get_response_time_percentile(0.95),
                       "p99_ms": entry.get_response_time_percentile(0.99), "errors": entry.num_failures}
    total = env.stats.total
    return {"seconds": round(elapsed, 1), "rps": round(total.num_requests / elapsed, 1), "errors": total.num_failures,
            "pages": pages, "worker_peak_rss_mb": memory}


def print_phase(title: str, phase: dict[str, Any]) -> None:
    print(f"\n{title}: {phase['rps']} yêu cầu/giây trong {phase['seconds']} s, lỗi {phase['errors']}, "
          f"RSS đỉnh mỗi worker (MB) {phase['worker_peak_rss_mb']}")
    print(f"{'trang':<26}{'yêu cầu':>9}{'req/s':>9}{'trung vị':>10}{'p95':>8}{'p99':>8}{'lỗi':>6}")
    order = {name: k for k, name in enumerate(NAMES.values())}
    for name, p in sorted(phase["pages"].items(), key=lambda item: order.get(item[0], 99)):
        print(f"{name:<26}{p['requests']:>9}{p['rps']:>9}{p['median_ms']:>10}{p['p95_ms']:>8}{p['p99_ms']:>8}"
              f"{p['errors']:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a database filled by `flask portal bench-seed`")
    parser.add_argument("--storage", required=True, help="the STORAGE_DIR used when it was filled")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--users", type=int, default=32, help="concurrent virtual users = connections")
    parser.add_argument("--duration", type=float, default=60, help="seconds of the mixed load")
    parser.add_argument("--list-duration", type=float, default=30, help="seconds of list-only load")
    parser.add_argument("--ceiling-duration", type=float, default=20, help="seconds against the bare Flask app")
    args = parser.parse_args()
    database = make_url(args.url).get_backend_name()
    load_before = os.getloadavg()
    identities, about = accounts(args.url, args.users)
    Shared.scan = sample_pdf(1)
    figures: dict[str, Any] = {"bench": "load", "database": database, **about, "workers": args.workers,
                               "worker_class": args.worker_class, "threads": args.threads, "users": args.users}

    ceiling = Gunicorn("bench.ceiling_app:app", args, {}, "/")
    try:
        figures["ceiling"] = run_phase(CeilingUser, ceiling.base, args.users, args.ceiling_duration, ceiling)
    finally:
        ceiling.stop()

    env = {"PORTAL_ENV": "production", "PORTAL_DATABASE_URL": args.url, "PORTAL_STORAGE_DIR": args.storage,
           "PORTAL_SECRET_KEY": uuid.uuid4().hex, "PORTAL_AUDIT_KEY": "bench-audit-key",
           "PORTAL_RATELIMIT_ENABLED": "false"}  # 32 sign-ins from one address would hit the login limit
    portal = Gunicorn("wsgi:app", args, env, "/healthz")
    try:
        started = time.perf_counter()
        for who in identities:
            sign_in(portal.base, who)
        figures["sign_in_s"] = round(time.perf_counter() - started, 1)
        probe = requests.get(portal.base + "/lich-cong-tac/", headers=identities[0].headers, timeout=30)
        Shared.schedule = probe.status_code == 200
        figures["schedule"] = "đo" if Shared.schedule else f"bỏ qua: /lich-cong-tac/ trả về {probe.status_code}"
        Shared.identities = itertools.cycle(identities)
        figures["list"] = run_phase(ListUser, portal.base, args.users, args.list_duration, portal)
        Shared.identities = itertools.cycle(identities)
        figures["mix"] = run_phase(MixUser, portal.base, args.users, args.duration, portal)
    finally:
        portal.stop()
    list_rps = figures["list"]["pages"].get(NAMES["list_in"], {}).get("rps", 0)
    figures["list_to_ceiling"] = round(list_rps / figures["ceiling"]["rps"], 3) if figures["ceiling"]["rps"] else 0
    figures["worker_peak_rss_mb"] = max(figures["list"]["worker_peak_rss_mb"] + figures["mix"]["worker_peak_rss_mb"])
    figures["load_average"] = {"before": [round(x, 2) for x in load_before],
                               "after": [round(x, 2) for x in os.getloadavg()]}
    figures["first_errors"] = Shared.errors

    print(f"Cơ sở dữ liệu {database}: {about['incoming_documents']:,} văn bản đến, "
          f"{about['outgoing_documents']:,} văn bản đi".replace(",", "."))
    print(f"gunicorn: {args.workers} worker {args.worker_class}, {args.threads} luồng; {args.users} người dùng ảo "
          f"(locust FastHttpUser); đăng nhập {figures['sign_in_s']} s; lịch tuần: {figures['schedule']}")
    print_phase("Trần (bench/ceiling_app.py)", figures["ceiling"])
    print_phase("Chỉ danh sách đến", figures["list"])
    print_phase("Hỗn hợp", figures["mix"])
    print(f"\nTỉ lệ thông lượng danh sách / trần: {figures['list_to_ceiling']:.1%}; RSS đỉnh một worker "
          f"{figures['worker_peak_rss_mb']} MB; tải trung bình trước {figures['load_average']['before']}, "
          f"sau {figures['load_average']['after']}")
    if Shared.errors:
        print("Lỗi đầu tiên:", *Shared.errors, sep="\n  ")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
