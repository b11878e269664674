"""Keys in HSMs and tokens the server can reach (issue 16.1): the province's HSM holding each
organisation's seal, and personal keys held centrally for remote signing. Through python-pkcs11 and
pyHanko's ``PKCS11Signer``; bytes in, bytes out like the rest of ``portal.signing``.

A token is chosen by **label**, never by slot number (slots move when tokens are added: SoftHSM puts a
new token in a random slot); the key by its label. The certificate is the one IT registered (it may
also live in the token, under the key's label). The PIN comes from the caller: configuration for a
seal, the person for remote signing.

A session is opened when the signer is first asked for (``pyhanko_signer``) and closed by ``close``
(or leaving the ``with`` block); errors come out as ``Pkcs11Error`` with a Vietnamese message.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

# python-pkcs11 loads one module per process and keeps it: opening and closing sessions is cheap, and
# a lock keeps two threads from initialising it at once
_lock = threading.Lock()


class Pkcs11Error(Exception):
    """``str(exc)`` is the Vietnamese reason (no PIN, wrong PIN, no token or key, module missing)."""


def read_pin_file(path: str | Path) -> dict[str, str]:
    """``token label = PIN`` lines (blank lines and ``#`` comments ignored)."""
    pins: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        label, pin = line.split("=", 1)
        pins[label.strip()] = pin.strip()
    return pins


def _library(module: str) -> Any:
    import pkcs11

    if not module:
        raise Pkcs11Error("Chưa cấu hình thư viện PKCS#11 (PORTAL_PKCS11_MODULE) của HSM/thiết bị ký.")
    if not Path(module).is_file():
        raise Pkcs11Error(f"Không tìm thấy thư viện PKCS#11 {module}.")
    with _lock:
        try:
            return pkcs11.lib(module)
        except Exception as exc:  # AlreadyInitialized with another module, or a broken library
            raise Pkcs11Error(f"Không nạp được thư viện PKCS#11 {module}: {exc}") from exc


def find_token(module: str, token_label: str) -> Any:
    import pkcs11

    lib = _library(module)
    try:
        return lib.get_token(token_label=token_label)
    except pkcs11.NoSuchToken as exc:
        raise Pkcs11Error(f"Không tìm thấy thiết bị ký (token) có nhãn «{token_label}».") from exc
    except pkcs11.MultipleTokensReturned as exc:
        raise Pkcs11Error(f"Có nhiều thiết bị ký cùng nhãn «{token_label}»; hãy đặt nhãn riêng cho từng thiết bị.") \
            from exc
    except pkcs11.PKCS11Error as exc:
        raise Pkcs11Error(f"Lỗi khi tìm thiết bị ký «{token_label}»: {type(exc).__name__}.") from exc


def open_session(module: str, token_label: str, pin: str | None) -> Any:
    import pkcs11

    if not pin:
        raise Pkcs11Error(f"Chưa có mã PIN của thiết bị ký «{token_label}».")
    token = find_token(module, token_label)
    try:
        return token.open(user_pin=pin)
    except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as exc:
        raise Pkcs11Error(f"Mã PIN của thiết bị ký «{token_label}» không đúng.") from exc
    except pkcs11.PinLocked as exc:
        raise Pkcs11Error(f"Thiết bị ký «{token_label}» đã bị khóa PIN; liên hệ bộ phận quản lý chứng thư số.") \
            from exc
    except pkcs11.PKCS11Error as exc:
        raise Pkcs11Error(f"Không mở được phiên làm việc với thiết bị ký «{token_label}»: {type(exc).__name__}.") \
            from exc


def _private_key(session: Any, token_label: str, key_label: str) -> Any:
    import pkcs11
    from pkcs11 import ObjectClass

    try:
        return session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=key_label)
    except pkcs11.NoSuchKey as exc:
        raise Pkcs11Error(f"Thiết bị ký «{token_label}» không có khóa nhãn «{key_label}».") from exc
    except pkcs11.MultipleObjectsReturned as exc:
        raise Pkcs11Error(f"Thiết bị ký «{token_label}» có nhiều khóa cùng nhãn «{key_label}».") from exc


def public_key_der(module: str, token_label: str, key_label: str, pin: str | None) -> bytes | None:
    """The SubjectPublicKeyInfo (DER) of the key's public half in the token, if the token keeps one; raises
    ``Pkcs11Error`` when the private key itself is missing. Used when IT registers a certificate: the
    certificate must be for the key that will sign."""
    import pkcs11
    from pkcs11 import KeyType, ObjectClass
    from pkcs11.util.rsa import encode_rsa_public_key

    if pin:
        session = open_session(module, token_label, pin)
    else:  # no PIN here (a person's token): the public objects only
        token = find_token(module, token_label)
        try:
            session = token.open()
        except pkcs11.PKCS11Error as exc:
            raise Pkcs11Error(f"Không mở được phiên làm việc với thiết bị ký «{token_label}»: "
                              f"{type(exc).__name__}.") from exc
    try:
        if pin:
            _private_key(session, token_label, key_label)
        try:
            public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=key_label)
        except pkcs11.NoSuchKey as exc:
            if pin:
                return None  # the private key is there; the token keeps no public half
            raise Pkcs11Error(f"Thiết bị ký «{token_label}» không có khóa nhãn «{key_label}».") from exc
        except pkcs11.MultipleObjectsReturned:
            return None
        if public.key_type != KeyType.RSA:
            return None  # EC keys: the post-sign verification is the check
        rsa_der = encode_rsa_public_key(public)
        key = serialization.load_der_public_key(_spki_from_rsa(rsa_der))
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    finally:
        session.close()


def _spki_from_rsa(rsa_public_key_der: bytes) -> bytes:
    """PKCS#1 RSAPublicKey → SubjectPublicKeyInfo."""
    from asn1crypto import keys

    return keys.PublicKeyInfo({"algorithm": {"algorithm": "rsa"},
                               "public_key": keys.RSAPublicKey.load(rsa_public_key_der)}).dump()


@dataclass
class Pkcs11Signer:
    """A key in a token or HSM (``portal.signing.Signer``): module path, token label, key label, PIN, and the
    registered certificate (DER) with any intermediates. Use as a context manager, or call ``close``."""

    module: str
    token_label: str
    key_label: str
    pin: str | None
    certificate_der: bytes | None = None
    chain_der: tuple[bytes, ...] = ()
    _session: Any = field(default=None, init=False, repr=False)
    _signer: Any = field(default=None, init=False, repr=False)

    def pyhanko_signer(self) -> Any:
        if self._signer is not None:
            return self._signer
        from asn1crypto import x509 as asn1_x509
        from pyhanko.sign.pkcs11 import PKCS11Signer

        session = open_session(self.module, self.token_label, self.pin)
        try:
            _private_key(session, self.token_label, self.key_label)
            cert = asn1_x509.Certificate.load(self.certificate_der) if self.certificate_der else None
            chain = [asn1_x509.Certificate.load(der) for der in self.chain_der]
            signer = PKCS11Signer(session, key_label=self.key_label, signing_cert=cert, ca_chain=chain,
                                  cert_label=None if cert is not None else self.key_label)
            signer.signing_cert  # noqa: B018  (without a registered certificate, read it from the token now)
        except Pkcs11Error:
            session.close()
            raise
        except Exception as exc:
            session.close()
            raise Pkcs11Error(f"Không dùng được khóa «{self.key_label}» trên thiết bị ký «{self.token_label}»: "
                              f"{exc}") from exc
        self._session, self._signer = session, signer
        return signer

    def certificate(self) -> x509.Certificate:
        cert = self.pyhanko_signer().signing_cert
        return x509.load_der_x509_certificate(cert.dump())

    def close(self) -> None:
        session, self._session, self._signer = self._session, None, None
        if session is not None:
            with contextlib.suppress(Exception):  # a token pulled out mid-way: nothing left to close
                session.close()

    def __enter__(self) -> Pkcs11Signer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sign_bytes(module: str, token_label: str, key_label: str, pin: str | None, data: bytes) -> bytes:
    """RSA PKCS#1 v1.5 with SHA-256 over ``data`` by a key in the token (for XML signatures of edXML packages)."""
    import pkcs11
    from pkcs11 import Mechanism

    session = open_session(module, token_label, pin)
    try:
        key = _private_key(session, token_label, key_label)
        return bytes(key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
    except pkcs11.PKCS11Error as exc:
        raise Pkcs11Error(f"Thiết bị ký «{token_label}» không ký được: {type(exc).__name__}.") from exc
    finally:
        session.close()
