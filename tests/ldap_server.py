"""A real OpenLDAP ``slapd`` for the tests of ``portal/auth/directory.py``.

The server lives in a throwaway directory: a ``slapd.conf`` (schemas core, cosine, inetorgperson, nis;
back_mdb; the ppolicy overlay), a throwaway CA and a server certificate for 127.0.0.1 made with the
``openssl`` command, and ``tests/data/directory.ldif`` loaded with ``slapadd`` before the first start.
It listens on two free loopback ports, ``ldap://`` (StartTLS available) and ``ldaps://``, and can be
stopped and started again on the same ports with the same data.

Access, as a provincial directory would grant it: anyone may bind (``auth``) against
``userPassword``, a person may write their own password, and the read-only service account
``cn=portal-svc,ou=services`` reads every entry except passwords.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
MODULE_PATH = Path("/usr/lib/ldap")
SCHEMA_DIR = Path("/etc/ldap/schema")
LDIF = Path(__file__).resolve().parent / "data" / "directory.ldif"

BASE_DN = "dc=hanam,dc=gov,dc=vn"
PEOPLE_DN = f"ou=people,{BASE_DN}"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PASSWORD = "Quan-Tri@2026adm"
SERVICE_DN = f"cn=portal-svc,ou=services,{BASE_DN}"
SERVICE_PASSWORD = "Dich-Vu@2026svc"

# Every person in directory.ldif signs in with PASSWORD, except thao.pt (a non-ASCII password).
PASSWORD = "Danh-Ba@2026hn"
THAO_PASSWORD = "Mật-Khẩu@2026hn"
PASSWORDS = {
    "huong.nt": PASSWORD,
    "dung.lv": PASSWORD,
    "thao.pt": THAO_PASSWORD,
    "quan.tv": PASSWORD,
    "anh.nv": PASSWORD,
    "anh.nv2": PASSWORD,
    "hai.dt": PASSWORD,  # reserved for password-change tests
    "trung.nv": PASSWORD,  # two entries with this uid: ambiguous
}
AMBIGUOUS_UID = "trung.nv"
PASSWORD_CHANGE_UID = "hai.dt"

START_TIMEOUT = 10.0  # seconds; a healthy slapd answers in well under one


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LDAPNOINIT": "1"}  # ignore /etc/ldap/ldap.conf and ~/.ldaprc
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False, timeout=30)


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        raise RuntimeError(f"{what} thất bại (mã {result.returncode}):\n{result.stdout}\n{result.stderr}")


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    """A throwaway certificate authority (EC P-256, valid two days): (certificate, key)."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    _check(_run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/O=Kiem thu/CN={name}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-addext", "subjectKeyIdentifier=hash"]), f"openssl: tạo CA {name}")
    return cert, key


def make_server_certificate(directory: Path, ca: tuple[Path, Path], host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A server certificate for ``host`` (IP address SAN) signed by ``ca``: (certificate, key)."""
    cert, key, csr = directory / "server.pem", directory / "server.key", directory / "server.csr"
    extensions = directory / "server.ext"
    extensions.write_text(
        f"subjectAltName = IP:{host}\n"
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature, keyEncipherment\n"
        "extendedKeyUsage = serverAuth\n"
        "subjectKeyIdentifier = hash\n"
        "authorityKeyIdentifier = keyid, issuer\n",
        encoding="utf-8",
    )
    _check(_run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", str(key), "-out", str(csr), "-subj", f"/O=Kiem thu/CN={host}"]), "openssl: tạo CSR")
    _check(_run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
                 "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(extensions)]),
           "openssl: ký chứng thư máy chủ")
    return cert, key


class DirectoryServer:
    """One slapd process; ``start()`` / ``stop()`` may be called again and again."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.db_dir = workdir / "db"
        self.conf = workdir / "slapd.conf"
        self.log = workdir / "slapd.log"
        self.ca_file = workdir / "ca.pem"
        self.wrong_ca_file = workdir / "other-ca.pem"
        self.port = 0
        self.ldaps_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._prepared = False

    # --- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- life cycle ------------------------------------------------------------------------
    def prepare(self) -> None:
        """Certificates, configuration and data; once."""
        if self._prepared:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_dir.mkdir()
        ca = make_ca(self.workdir, "ca")
        make_ca(self.workdir, "other-ca")  # a CA that signed nothing this server presents
        server_cert, server_key = make_server_certificate(self.workdir, ca)
        admin_hash = _run(["slappasswd", "-s", ADMIN_PASSWORD])
        _check(admin_hash, "slappasswd")
        self.conf.write_text(self._config(server_cert, server_key, admin_hash.stdout.strip()), encoding="utf-8")
        _check(_run([str(SLAPADD), "-q", "-f", str(self.conf), "-l", str(LDIF)]), "slapadd")
        self._prepared = True

    def _config(self, server_cert: Path, server_key: Path, admin_hash: str) -> str:
        names = ("core", "cosine", "inetorgperson", "nis")
        schemas = "\n".join(f"include {SCHEMA_DIR / name}.schema" for name in names)
        return f"""{schemas}
pidfile {self.workdir / "slapd.pid"}
argsfile {self.workdir / "slapd.args"}
modulepath {MODULE_PATH}
moduleload back_mdb
moduleload ppolicy
loglevel none
TLSCACertificateFile {self.ca_file}
TLSCertificateFile {server_cert}
TLSCertificateKeyFile {server_key}
sizelimit 500

database mdb
maxsize 16777216
suffix "{BASE_DN}"
rootdn "{ADMIN_DN}"
rootpw {admin_hash}
directory {self.db_dir}
index objectClass eq
index uid eq,sub
index cn eq,sub

overlay ppolicy
ppolicy_default "cn=default,ou=policies,{BASE_DN}"
ppolicy_hash_cleartext

access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by dn.exact="{SERVICE_DN}" read
    by self read
    by * none
"""

    def start(self) -> None:
        """Start slapd (first time: on two free ports, retried if a port was taken meanwhile)."""
        if self.running:
            return
        self.prepare()
        attempts = 1 if self.port else 3
        for attempt in range(attempts):
            if not self.port or attempt:
                self.port, self.ldaps_port = free_port(), free_port()
            try:
                self._launch()
                atexit.register(self.stop)  # no stray slapd even if the session ends abruptly
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    raise

    def _launch(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(SLAPD), "-f", str(self.conf), "-h", f"{self.url}/ {self.ldaps_url}/", "-d", "0"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env={**os.environ, "LDAPNOINIT": "1"},
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self._answers(self.port) and self._answers(self.ldaps_port):
                return
            time.sleep(0.02)
        self.stop()
        log_text = self.log.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise RuntimeError(f"slapd không khởi động được trên cổng {self.port}/{self.ldaps_port}:\n{log_text}")

    @staticmethod
    def _answers(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        atexit.unregister(self.stop)
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # --- checks through the OpenLDAP command-line tools, independent of ldap3 ------------------
    def dn(self, uid_or_dn: str) -> str:
        if "=" in uid_or_dn:
            return uid_or_dn
        return f"uid={uid_or_dn},{PEOPLE_DN}"

    def ldapwhoami(self, uid_or_dn: str, password: str) -> bool:
        """Does this password really open a session for this person?"""
        result = _run(["ldapwhoami", "-x", "-H", self.url, "-D", self.dn(uid_or_dn), "-w", password])
        return result.returncode == 0

    def entry_uuid(self, uid: str) -> str:
        result = _run(["ldapsearch", "-x", "-LLL", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD,
                       "-b", PEOPLE_DN, f"(uid={uid})", "entryUUID"])
        _check(result, "ldapsearch entryUUID")
        found = re.findall(r"^entryUUID: (\S+)$", result.stdout, flags=re.MULTILINE)
        if len(found) != 1:
            raise LookupError(f"uid={uid}: {len(found)} mục")
        return found[0]

    def set_password(self, uid: str, password: str) -> None:
        """As the directory administrator (no policy applies to the rootdn)."""
        _check(_run(["ldappasswd", "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD,
                     "-s", password, self.dn(uid)]), "ldappasswd")


class HangingServer:
    """A loopback TCP listener that accepts connections and never says a word."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="hanging-ldap", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        """Same listener: a TLS handshake that never completes."""
        return f"ldaps://127.0.0.1:{self.port}"

    @property
    def accepted(self) -> int:
        """Connections accepted so far (0 proves that nobody tried)."""
        return len(self._held)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        self._listener.close()
        for conn in self._held:
            conn.close()


@contextlib.contextmanager
def hanging_server() -> Iterator[HangingServer]:
    """``with hanging_server() as hanging: ... hanging.url``; closed on exit."""
    server = HangingServer()
    try:
        yield server
    finally:
        server.close()


def closed_port_url() -> str:
    """An ``ldap://`` URL on which nobody listens (connection refused at once)."""
    return f"ldap://127.0.0.1:{free_port()}"
