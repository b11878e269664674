"""Text at the boundary: NFC for everything stored, and a folded copy for searching without
diacritics (SPEC §3.8, §14)."""

from __future__ import annotations

import unicodedata

from portal.errors import ValidationFailed


def nfc(value: str | None) -> str | None:
    """Strip and normalise to NFC; an input typed with combining marks (NFD, as some Mac and
    old Windows keyboards send) must compare equal to the precomposed form."""
    if value is None:
        return None
    return unicodedata.normalize("NFC", value).strip()


def fold(value: str | None) -> str:
    """"Quyết định" → "quyet dinh": NFD, combining marks dropped, đ/Đ mapped by hand (đ has no
    decomposition), lower case, whitespace collapsed."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return " ".join(stripped.lower().split())


def limited(value: str | None, limit: int, field: str, label: str) -> str:
    """What was typed, NFC and stripped, if it fits its column; else ValidationFailed naming the
    field (PostgreSQL refuses an overlong VARCHAR(n) with an error, SQLite keeps it: neither cuts)."""
    text = nfc(value) or ""
    if len(text) > limit:
        raise ValidationFailed({field: f"{label} tối đa {limit:,} ký tự (đang có {len(text):,}).".replace(",", ".")})
    return text
