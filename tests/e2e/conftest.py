"""A real server for the browser: migrations and demo data in a fresh SQLite file, then gunicorn
on a free loopback port, exactly as `make run` serves it (production settings, no test config).

Only loopback network: Chromium is Debian's own (/usr/bin/chromium), never a downloaded one.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.ldap_fixtures import environment_for
from tests.ldap_server import DirectoryServer
from tests.smtp_server import MailServer, serving

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STARTUP_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(tmp: Path) -> dict[str, str]:
    """The caller's environment without its PORTAL_* settings, plus a throwaway production config.
    argon2 is cheapened so that seeding the demo accounts takes seconds, not minutes."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update({
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(32),
        "PORTAL_AUDIT_KEY": secrets.token_urlsafe(32),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp / 'portal.db'}",
        "PORTAL_STORAGE_DIR": str(tmp / "storage"),
        "PORTAL_ARGON2_MEMORY_KIB": "8192",
        "PORTAL_ARGON2_TIME_COST": "1",
        "PORTAL_ARGON2_PARALLELISM": "1",
        "PORTAL_RATELIMIT_LOGIN": "1000 per minute",  # every browser signs in from 127.0.0.1
        "PORTAL_SIGNING_DEV_PKI": "true",
        "PORTAL_PKI_DIR": str(tmp / "pki"),
        "PORTAL_PKI_PASSPHRASE": secrets.token_urlsafe(16),
    })
    return env


def _portal_command(env: dict[str, str], *args: str) -> None:
    portal_command(env, *args)


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn dừng với mã {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:  # noqa: S310 (loopback http)
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"/healthz không trả lời 200 sau {STARTUP_TIMEOUT:.0f} giây:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailServer]:
    """The portal's SMTP server (aiosmtpd on loopback, STARTTLS and AUTH): what the outbox sent is read back."""
    yield from serving(tmp_path_factory)


@pytest.fixture(scope="session")
def live_env(tmp_path_factory: pytest.TempPathFactory, slapd: DirectoryServer,
             mail_server: MailServer) -> dict[str, str]:
    """The server's environment, for `portal …` commands run beside it (the job consumer's work)."""
    env = _server_env(tmp_path_factory.mktemp("e2e"))
    env.update(environment_for(slapd))
    env.update({f"PORTAL_{key}": value if isinstance(value, str) else json.dumps(value)
                for key, value in mail_server.settings().items()})
    return env


def portal_command(env: dict[str, str], *args: str) -> str:
    """`flask portal …` against the live server's database; its output."""
    result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "portal", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"`portal {' '.join(args)}` thất bại:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def live_server(live_env: dict[str, str]) -> Iterator[str]:
    """Base URL of a gunicorn serving `wsgi:app` over a migrated, demo-seeded SQLite database,
    signing directory people in against the suite's real slapd, sending mail to the suite's SMTP server."""
    env = live_env
    tmp = Path(env["PORTAL_STORAGE_DIR"]).parent
    _portal_command(env, "db-upgrade")
    _portal_command(env, "seed-demo")
    _portal_command(env, "pki", "init-demo")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / "gunicorn.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--access-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Không có {CHROMIUM}: chạy `make system-deps` (gói Debian chromium).")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
