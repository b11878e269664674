"""A real SMTP server on loopback for the outbox tests: aiosmtpd with STARTTLS required, AUTH
required (only after TLS), and a throwaway certificate for 127.0.0.1 made here with cryptography.
Messages it accepts are kept as parsed e-mails; it can be stopped and started again on the same
port (the "server was down" case)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

USER, PASSWORD = "qlvb-portal", "mật-khẩu-thư-2026"
SENDER = "Cổng QLVB&ĐH <qlvb@ninhbinh.gov.vn>"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate valid for IP:127.0.0.1 and DNS:localhost; it is its own CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Máy chủ thư thử nghiệm")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.pem", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any) -> str:
        if address.startswith("khong-ton-tai@"):
            return "550 5.1.1 Hộp thư không tồn tại"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
        mail = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.server.received.append((envelope.mail_from, list(envelope.rcpt_tos), mail, bool(session.ssl)))
        return "250 OK"


def _authenticator(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    return AuthResult(success=ok)


class MailServer:
    def __init__(self, workdir: Path) -> None:
        self.cert, self.key = make_certificate(workdir)
        self.port = free_port()
        self.received: list[tuple[str, list[str], EmailMessage, bool]] = []
        self.controller: Controller | None = None

    def start(self) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, tls_context=context,
                                     require_starttls=True, auth_required=True, authenticator=_authenticator)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self) -> dict[str, Any]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_STARTTLS": True,
                "SMTP_CA_FILE": str(self.cert), "SMTP_USER": USER, "SMTP_PASSWORD": PASSWORD,
                "SMTP_SENDER": SENDER, "SMTP_TIMEOUT": 5}


def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailServer]:
    """A started server in a folder of its own, stopped when the fixture that yields from this ends."""
    server = MailServer(tmp_path_factory.mktemp("smtp"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailServer]:
    """A real SMTP server on loopback (STARTTLS, AUTH) for one test module (tests/conftest.py offers it)."""
    yield from serving(tmp_path_factory)


def sends_to(app: Flask, server: MailServer, monkeypatch: pytest.MonkeyPatch) -> MailServer:
    """The application sends its mail to ``server``, started again if a test stopped it, with nothing received."""
    for key, value in server.settings().items():
        monkeypatch.setitem(app.config, key, value)
    if server.controller is None:
        server.start()
    server.received.clear()
    return server


@pytest.fixture
def mailer(app: Flask, smtp: MailServer, monkeypatch: pytest.MonkeyPatch) -> MailServer:
    """``smtp`` with the test's application sending to it."""
    return sends_to(app, smtp, monkeypatch)
