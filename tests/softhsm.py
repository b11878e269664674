"""A real PKCS#11 token for the suite (issue 16.1): Debian's SoftHSM2 in a throwaway SOFTHSM2_CONF, a token
initialised by label, RSA keys generated *in the token* (``pkcs11-tool --keypairgen``) and certificates for
them issued by a test CA. SOFTHSM2_CONF is set before the PKCS#11 module is first loaded in this process
(python-pkcs11 loads it once) and stays set for the session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from portal.signing import pki

MODULE = "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"
TOKEN = "portal-hsm-test"
PIN = "2468"
SO_PIN = "13579"


def available() -> bool:
    return Path(MODULE).is_file() and shutil.which("softhsm2-util") is not None and shutil.which("pkcs11-tool")


@dataclass
class Token:
    directory: Path
    module: str = MODULE
    label: str = TOKEN
    pin: str = PIN
    keys: dict[str, bytes] = field(default_factory=dict)  # key label → SubjectPublicKeyInfo DER

    def generate(self, key_label: str, key_id: str) -> bytes:
        """An RSA-2048 key pair made inside the token; returns its public key (SPKI DER)."""
        if key_label in self.keys:
            return self.keys[key_label]
        subprocess.run(["pkcs11-tool", "--module", self.module, "--token-label", self.label, "--login",
                        "--pin", self.pin, "--keypairgen", "--key-type", "rsa:2048", "--label", key_label,
                        "--id", key_id], check=True, capture_output=True, env=os.environ)
        out = self.directory / f"{key_label}.pub.der"
        subprocess.run(["pkcs11-tool", "--module", self.module, "--token-label", self.label, "--read-object",
                        "--type", "pubkey", "--label", key_label, "--output-file", str(out)],
                       check=True, capture_output=True, env=os.environ)
        self.keys[key_label] = out.read_bytes()
        return self.keys[key_label]


def init_tokens(directory: Path, *labels: str) -> dict[str, Token]:
    """One SoftHSM token per label in a throwaway token directory (SOFTHSM2_CONF set for this process)."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens = directory / "tokens"
    tokens.mkdir(exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    out = {}
    for label in labels or (TOKEN,):
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", SO_PIN,
                        "--pin", PIN], check=True, capture_output=True, env=os.environ)
        out[label] = Token(directory, label=label)
    return out


def certificate_for(public_der: bytes, ca_key, ca_cert: x509.Certificate, common_name: str, *,
                    not_before: dt.datetime | None = None, days: int = 365,
                    signing_usage: bool = True) -> x509.Certificate:
    """A certificate from the test CA for a public key that lives in the token."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name)])
    return pki.issue_cert(ca_key, ca_cert, subject, not_before=not_before, days=days, signing_usage=signing_usage,
                          public_key=serialization.load_der_public_key(public_der))[1]
