"""Local password hashes: argon2id with the costs of SPEC §13.2 (m = 64 MiB, t = 3, p = 4)."""

from __future__ import annotations

import unicodedata
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app


@cache
def _hasher(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return _hasher(int(cfg["ARGON2_MEMORY_KIB"]), int(cfg["ARGON2_TIME_COST"]), int(cfg["ARGON2_PARALLELISM"]))


def normalise(password: str) -> str:
    """NFKC, so the same password typed on two keyboards (composed or decomposed ư) matches."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return hasher().hash(normalise(password))


def verify(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists: with no hash we still verify against a
    dummy one, so an unknown user cannot be told apart by timing (SPEC §13.3)."""
    try:
        return hasher().verify(stored_hash or _dummy_hash(), normalise(password)) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    cfg = current_app.config
    key = (int(cfg["ARGON2_MEMORY_KIB"]), int(cfg["ARGON2_TIME_COST"]), int(cfg["ARGON2_PARALLELISM"]))
    if key not in _DUMMY:
        _DUMMY[key] = hasher().hash("không-có-tài-khoản-này")
    return _DUMMY[key]
