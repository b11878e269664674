"""Development PKI: a throwaway root CA, personal certificates and organisation seal certificates.

Never used in production (SPEC §7.3 "Test PKI"): the root's name says so, and real certificates come from
NEAC / the Ban Cơ yếu specialised CA on the signer's own token. Everything here is plain files:

    <directory>/root.key.pem       PKCS#8, encrypted with the passphrase
    <directory>/root.cert.pem
    <directory>/<key_name>.key.pem / <key_name>.cert.pem   one pair per person and per organisation seal

``init_demo`` is idempotent: a pair already on disk is reused, so re-running it never changes a
registered certificate (registration stores issuer + serial + SPKI SHA-256, see ``cert_fingerprint``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_NAME = "CA thử nghiệm QLVB tỉnh (không dùng thật)"
ROOT_KEY = "root"
CA_YEARS = 10
LEAF_YEARS = 3


@dataclass(frozen=True)
class PersonSpec:
    """A person who signs: ``key_name`` names the files (ASCII), ``full_name`` goes into the CN."""

    key_name: str
    full_name: str
    organisation: str
    email: str | None = None


@dataclass(frozen=True)
class OrgSpec:
    """An organisation whose clerk applies the seal (chữ ký số của cơ quan, tổ chức)."""

    key_name: str
    name: str


@dataclass(frozen=True)
class CertId:
    """How a certificate is registered and recognised: never by its names (SPEC §7.3)."""

    issuer: str  # RFC 4514 form of the issuer name, for display and as half of issuer+serial
    serial: int
    spki_sha256: str  # hex SHA-256 of the DER SubjectPublicKeyInfo

    def to_dict(self) -> dict:
        return {"issuer": self.issuer, "serial": format(self.serial, "X"), "spki_sha256": self.spki_sha256}


@dataclass
class DemoPki:
    directory: Path
    root: x509.Certificate
    certs: dict[str, x509.Certificate] = field(default_factory=dict)  # key_name → certificate

    def cert_path(self, key_name: str) -> Path:
        return cert_path(self.directory, key_name)

    def key_path(self, key_name: str) -> Path:
        return key_path(self.directory, key_name)


def slug(text: str) -> str:
    """An ASCII file name for a person or organisation ("Trương Quốc Hùng" → "truong-quoc-hung")."""
    text = text.replace("Đ", "D").replace("đ", "d")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def key_path(directory: Path, key_name: str) -> Path:
    return Path(directory) / f"{key_name}.key.pem"


def cert_path(directory: Path, key_name: str) -> Path:
    return Path(directory) / f"{key_name}.cert.pem"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, organisation: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _write_key(path: Path, key, passphrase: bytes) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(passphrase))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_bytes(pem)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def load_key(path: Path, passphrase: bytes):
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=passphrase)


def make_ca(subject: x509.Name, *, not_before: dt.datetime | None = None,
            years: int = CA_YEARS) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A self-signed root. Also used for the negative fixture: a rogue CA with the dev root's exact name."""
    key = _new_key()
    start = not_before or _now() - dt.timedelta(days=1)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_cert(ca_key, ca_cert: x509.Certificate, subject: x509.Name, *, not_before: dt.datetime | None = None,
               days: int = 365 * LEAF_YEARS, signing_usage: bool = True, email: str | None = None,
               public_key=None) -> tuple[rsa.RSAPrivateKey | None, x509.Certificate]:
    """An end-entity certificate. ``signing_usage=False`` gives key encipherment only (a negative fixture).
    ``public_key``: certify a key that lives elsewhere (in a token); no private key is then returned."""
    key = None if public_key is not None else _new_key()
    public = public_key if public_key is not None else key.public_key()  # type: ignore[union-attr]
    start = not_before or _now() - dt.timedelta(hours=1)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=signing_usage, content_commitment=signing_usage,
                                     key_encipherment=not signing_usage, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
    )
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def save_pair(directory: Path, key_name: str, key, cert: x509.Certificate, passphrase: bytes) -> None:
    _write_key(key_path(directory, key_name), key, passphrase)
    _write_cert(cert_path(directory, key_name), cert)


def _existing(directory: Path, key_name: str) -> x509.Certificate | None:
    if key_path(directory, key_name).is_file() and cert_path(directory, key_name).is_file():
        return load_cert(cert_path(directory, key_name))
    return None


def init_demo(directory: Path, passphrase: bytes, people: list[PersonSpec],
              organisations: list[OrgSpec]) -> DemoPki:
    """Create (or reuse) the dev root, one certificate per person and one seal certificate per organisation."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    root = _existing(directory, ROOT_KEY)
    if root is None:
        root_key, root = make_ca(_name(ROOT_NAME))
        save_pair(directory, ROOT_KEY, root_key, root, passphrase)
    else:
        root_key = load_key(key_path(directory, ROOT_KEY), passphrase)  # also checks the passphrase
    pki = DemoPki(directory=directory, root=root)
    wanted = [(p.key_name, _name(p.full_name, p.organisation), p.email) for p in people]
    wanted += [(o.key_name, _name(o.name, o.name), None) for o in organisations]
    for key_name, subject, email in wanted:
        if key_name == ROOT_KEY:
            raise ValueError("Tên khoá 'root' dành cho CA gốc.")
        cert = _existing(directory, key_name)
        if cert is None:
            key, cert = issue_cert(root_key, root, subject, email=email)
            save_pair(directory, key_name, key, cert, passphrase)
        pki.certs[key_name] = cert
    return pki


def make_rogue(directory: Path, passphrase: bytes, *, impersonate: x509.Certificate,
               key_name: str = "rogue") -> tuple[x509.Certificate, x509.Certificate]:
    """Negative fixture: a CA whose subject equals the dev root's, issuing a certificate with the same subject as
    ``impersonate``. Saved as ``<key_name>-root`` and ``<key_name>``. Returns (rogue root, rogue leaf)."""
    root_key, root = make_ca(impersonate.issuer)
    save_pair(directory, f"{key_name}-root", root_key, root, passphrase)
    key, cert = issue_cert(root_key, root, impersonate.subject)
    save_pair(directory, key_name, key, cert, passphrase)
    return root, cert


def load_signer(directory: Path, key_name: str, passphrase: bytes):
    """A pyHanko ``SimpleSigner`` for a key pair of the dev PKI; the chain up to the certificate's issuer is
    embedded (the root is looked up as ``root`` or ``<key_name>-root``)."""
    from pyhanko.sign import signers

    directory = Path(directory)
    chain = [str(p) for p in (cert_path(directory, f"{key_name}-root"), cert_path(directory, ROOT_KEY))
             if p.is_file()][:1]
    signer = signers.SimpleSigner.load(str(key_path(directory, key_name)), str(cert_path(directory, key_name)),
                                       ca_chain_files=chain, key_passphrase=passphrase)
    if signer is None:
        raise ValueError(f"Không nạp được khoá ký {key_name!r}.")
    return signer


def cert_fingerprint(cert) -> CertId:
    """Issuer + serial + SPKI SHA-256 of a ``cryptography`` or ``asn1crypto`` certificate."""
    if not isinstance(cert, x509.Certificate):
        cert = x509.load_der_x509_certificate(cert.dump())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return CertId(issuer=cert.issuer.rfc4514_string(), serial=cert.serial_number,
                  spki_sha256=hashlib.sha256(spki).hexdigest())


def to_asn1(cert: x509.Certificate):
    """The asn1crypto form pyHanko's ValidationContext wants."""
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
