"""The files of a backup set, written and read as streams of chunks.

Every part is hashed as it lies on disk (SHA-256 of the stored bytes, ciphertext when encrypted), so
a restore can check the whole set against the manifest before it touches anything, and without the
key. With ``BACKUP_KEY`` each part is encrypted on its own with AES-256-GCM in chunks of ``CHUNK``
bytes: memory stays flat for a multi-gigabyte dump, and each chunk is authenticated. A chunk's nonce
is the part's random prefix and the chunk's index, and the "last chunk" flag is authenticated too, so
chunks cannot be reordered, dropped or the part cut short without the decryption failing.

Layout of an encrypted part: ``MAGIC`` (8 bytes), nonce prefix (8 bytes), then records of
flag (1 byte: 1 = last) ‖ length (4 bytes, big-endian) ‖ ciphertext with its 16-byte tag.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CHUNK = 1024 * 1024
MAGIC = b"QLVBBK01"
ALGORITHM = "AES-256-GCM, từng khối 1 MiB"
# A part's name comes from the manifest, which a restore must not trust to stay inside the set.
NAME_RE = re.compile(r"(database\.(pgdump|sqlite3)|objects/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64})(\.enc)?")
_RECORD = struct.Struct(">BI")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is Vietnamese and says why."""


@dataclass(frozen=True)
class Key:
    """The AES key and its public id, both derived from ``PORTAL_BACKUP_KEY`` (any long random
    text); the id names the key in the manifest without revealing it."""

    aes: bytes
    key_id: str

    @classmethod
    def from_setting(cls, secret: str) -> Key:
        def derive(info: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())

        return cls(derive(b"qlvb-backup aes-256-gcm"), derive(b"qlvb-backup key id")[:8].hex())


@dataclass(frozen=True)
class Part:
    name: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


def _lookahead(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """(chunk, is_last); an empty stream is one empty last chunk."""
    iterator = iter(chunks)
    current = next(iterator, b"")
    for following in iterator:
        yield current, False
        current = following
    yield current, True


def rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= CHUNK:
            yield bytes(buffer[:CHUNK])
            del buffer[:CHUNK]
    if buffer:
        yield bytes(buffer)


def _encrypt(key: Key, chunks: Iterable[bytes]) -> Iterator[bytes]:
    prefix = os.urandom(8)
    header = MAGIC + prefix
    yield header
    aead = AESGCM(key.aes)
    for index, (chunk, last) in enumerate(_lookahead(rechunk(chunks))):
        flag = 1 if last else 0
        sealed = aead.encrypt(prefix + struct.pack(">I", index), chunk, header + bytes([flag]))
        yield _RECORD.pack(flag, len(sealed)) + sealed


def _read_exact(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise BackupError("Tệp sao lưu bị cắt cụt.")
    return data


def _decrypt(key: Key, handle: BinaryIO, name: str) -> Iterator[bytes]:
    header = handle.read(len(MAGIC) + 8)
    if not header.startswith(MAGIC) or len(header) != len(MAGIC) + 8:
        raise BackupError(f"Phần “{name}” không phải tệp sao lưu được mã hóa.")
    aead = AESGCM(key.aes)
    index = 0
    while True:
        flag, length = _RECORD.unpack(_read_exact(handle, _RECORD.size))
        if length > CHUNK + 16:
            raise BackupError(f"Phần “{name}” bị hỏng.")
        try:
            yield aead.decrypt(header[len(MAGIC):] + struct.pack(">I", index), _read_exact(handle, length),
                               header + bytes([flag]))
        except InvalidTag:
            raise BackupError(f"Không giải mã được phần “{name}”: sai khóa sao lưu hoặc tệp đã bị sửa.") from None
        if flag == 1:
            if handle.read(1):
                raise BackupError(f"Phần “{name}” có dữ liệu thừa sau khối cuối.")
            return
        index += 1


class PartWriter:
    """Writes parts into a new backup directory, encrypting when a key is given."""

    def __init__(self, root: Path, key: Key | None) -> None:
        self.root = root
        self.key = key
        self.parts: list[Part] = []

    def write(self, base_name: str, chunks: Iterable[bytes]) -> Part:
        name = base_name + (".enc" if self.key else "")
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        stream = _encrypt(self.key, chunks) if self.key else chunks
        with path.open("xb") as out:
            for block in stream:
                digest.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        part = Part(name, digest.hexdigest(), size)
        self.parts.append(part)
        return part


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def check(root: Path, part: Part) -> None:
    """The stored bytes hash to what the manifest says: before anything is restored."""
    if not NAME_RE.fullmatch(part.name):
        raise BackupError(f"Tên phần “{part.name}” trong manifest không hợp lệ; không khôi phục.")
    path = root / part.name
    if not path.is_file():
        raise BackupError(f"Thiếu phần “{part.name}” của bản sao lưu; không khôi phục.")
    digest = hashlib.sha256()
    size = 0
    for chunk in file_chunks(path):
        digest.update(chunk)
        size += len(chunk)
    if digest.hexdigest() != part.sha256 or size != part.size:
        raise BackupError(f"Phần “{part.name}” không khớp mã băm SHA-256 ghi trong manifest (đã bị sửa hoặc hỏng); "
                          "không khôi phục.")


def read(root: Path, part: Part, key: Key | None) -> Iterator[bytes]:
    """The part's plain bytes, in chunks (decrypted when the set is encrypted)."""
    path = root / part.name
    if key is None:
        yield from file_chunks(path)
        return
    with path.open("rb") as handle:
        yield from _decrypt(key, handle, part.name)
