"""A real RFC 3161 time-stamp authority for the tests of ``portal/signing/timestamps.py``.

OpenSSL's ``openssl ts -reply`` answers each request, behind a small ``http.server`` handler on a random
loopback port (a thread). Everything lives in a throwaway directory: a test CA of its own (not the dev PKI's
root, so trusting one never trusts the other), a timestamping certificate issued by it with the critical
extendedKeyUsage timeStamping that RFC 3161 §2.3 requires, the ``ts`` section of an ``openssl.cnf`` and the
serial file ``openssl ts`` insists on. ``openssl ts`` reads and rewrites that serial file, so requests are
answered one at a time (a lock), however many arrive together.

Paths besides ``/tsa`` misbehave on purpose: ``/hong`` answers 200 with a web page, ``/loi`` answers 500.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from portal.signing import pki

CA_NAME = "CA dấu thời gian thử nghiệm (không dùng thật)"
TSA_NAME = "Máy chủ cấp dấu thời gian thử nghiệm"
POLICY = "1.3.6.1.4.1.99999.1.1"  # a private-arc test policy
MAX_REQUEST = 64 * 1024

CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.cert.pem
certs = $dir/tsa-chain.pem
signer_key = $dir/tsa.key.pem
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _tsa_certificate(ca_key, ca_cert: x509.Certificate) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """The TSA's own certificate: digitalSignature, extendedKeyUsage timeStamping only and critical."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(TSA_NAME)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=365 * 5))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Tsa:
    directory: Path
    root: x509.Certificate  # the TSA's CA: what a verifier must trust
    certificate: x509.Certificate
    port: int
    requests: int = 0  # answered by openssl (granted or not)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsa"

    @property
    def root_path(self) -> Path:
        return self.directory / "ca.cert.pem"

    def path_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        if self.path == "/hong":
            return self._send(200, "text/html; charset=utf-8", "<html>Trang bảo trì</html>".encode())
        if self.path != "/tsa":
            return self._send(500, "text/plain", b"internal error")
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_REQUEST or self.headers.get("Content-Type") != "application/timestamp-query":
            return self._send(400, "text/plain", b"bad request")
        reply = self.server.reply(self.rfile.read(length))
        if reply is None:
            return self._send(500, "text/plain", b"openssl ts failed")
        return self._send(200, "application/timestamp-reply", reply)

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass  # quiet test output


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tsa: Tsa):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tsa = tsa
        self.lock = threading.Lock()  # openssl ts rewrites the serial file: one reply at a time

    def reply(self, query: bytes) -> bytes | None:
        with self.lock, tempfile.TemporaryDirectory(dir=self.tsa.directory) as work:
            query_file, reply_file = Path(work) / "q.tsq", Path(work) / "r.tsr"
            query_file.write_bytes(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.tsa.directory / "openssl.cnf"), "-section",
                 "tsa_config", "-queryfile", str(query_file), "-out", str(reply_file)],
                capture_output=True, check=False, timeout=30)
            self.tsa.requests += 1
            if done.returncode != 0 or not reply_file.exists():
                return None
            return reply_file.read_bytes()


def make_tsa(directory: Path) -> Tsa:
    """The CA, the TSA certificate and key (unencrypted: openssl reads it), the config and the serial file."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca = pki.make_ca(_name(CA_NAME))
    key, cert = _tsa_certificate(ca_key, ca)
    (directory / "ca.cert.pem").write_bytes(_pem(ca))
    (directory / "tsa.cert.pem").write_bytes(_pem(cert))
    (directory / "tsa-chain.pem").write_bytes(_pem(ca))
    key_file = directory / "tsa.key.pem"
    key_file.touch(mode=0o600)
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    (directory / "tsaserial").write_text("01\n")
    (directory / "openssl.cnf").write_text(CONFIG.format(dir=directory, policy=POLICY))
    return Tsa(directory, ca, cert, port=0)


@contextlib.contextmanager
def running(directory: Path) -> Iterator[Tsa]:
    tsa = make_tsa(directory)
    server = _Server(tsa)
    tsa.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name="test-tsa", daemon=True)
    thread.start()
    try:
        yield tsa
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session", name="tsa")
def fixture_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tsa]:
    """A running TSA on 127.0.0.1 for the whole session; import as ``from tests.tsa import fixture_tsa``."""
    with running(tmp_path_factory.mktemp("tsa")) as tsa:
        yield tsa
