"""Files a message carries (an issued document sent by e-mail, issue 17 item 6): named in the row as JSON, read
from storage when the message is built, never copied into the outbox table.

- The row keeps ``[{"sha256", "filename", "content_type"}, …]``; the bytes stay in ``portal.storage``
  (content-addressed), so a document sent to twenty addresses is stored once.
- Reading checks the hash: a file changed on disk after it was queued is never sent (a permanent failure, with
  storage's message); a file missing from the disk is retried (a storage volume mounted late comes back).
- Names are encoded by RFC 2231 (``filename*0*=utf-8''…``), split into continuations at character
  boundaries, so "Quyết định số 05.pdf" arrives as written and no header line grows past 78 characters.
- Above :data:`MAX_BYTES` in all, the message is not sent: a permanent failure saying why, in Vietnamese.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from email import encoders
from email.message import Message
from email.mime.base import MIMEBase
from urllib.parse import quote

from portal import storage

MAX_BYTES = 25 * 1024 * 1024  # the files of one message together; most mail servers refuse more
_SHA = re.compile(r"[0-9a-f]{64}")
_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")
_WIDTH = 60  # characters of an encoded name per continuation line


class PermanentFailure(Exception):
    """The message cannot be sent as it is: the server refused it for good (5xx on sender, recipient or
    content), or what it carries is too big or no longer genuine. No retry."""


@dataclass(frozen=True)
class Attachment:
    sha256: str
    filename: str
    content_type: str = "application/octet-stream"


def clean_name(filename: str) -> str:
    """One line, no path, NFC: what the recipient's mail program shows and saves."""
    name = unicodedata.normalize("NFC", filename or "")
    name = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in name)
    name = " ".join(name.replace("/", "-").replace("\\", "-").split()).strip(". ")
    return name[:200] or "tep-dinh-kem"


def checked(items: Iterable[Attachment]) -> list[Attachment]:
    """The caller's bugs (a malformed hash or type) raise ValueError before anything is queued."""
    found = []
    for item in items:
        if not _SHA.fullmatch(item.sha256 or ""):
            raise ValueError(f"Mã băm tệp đính kèm không hợp lệ: {item.sha256!r}")
        content_type = (item.content_type or "application/octet-stream").lower()
        if not _TYPE.fullmatch(content_type):
            raise ValueError(f"Kiểu tệp đính kèm không hợp lệ: {item.content_type!r}")
        found.append(Attachment(item.sha256, clean_name(item.filename), content_type))
    return found


def encode(items: Iterable[Attachment]) -> str | None:
    found = [asdict(item) for item in items]
    return json.dumps(found, ensure_ascii=False) if found else None


BROKEN = Attachment("", "", "")  # what an unreadable list decodes to: the message then fails, never the drain


def decode(text: str | None) -> tuple[Attachment, ...]:
    """Never raises (the drain decodes while it claims the row): a list changed by hand into something
    unreadable becomes :data:`BROKEN`, and building the message fails for good, saying so."""
    if not text:
        return ()
    try:
        return tuple(Attachment(str(item["sha256"]), str(item["filename"]),
                                str(item.get("content_type") or "application/octet-stream"))
                     for item in json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError):
        return (BROKEN,)


def rfc2231(param: str, value: str) -> str:
    """``param*=utf-8''…`` or, when longer than a line, ``param*0*=utf-8''…; param*1*=…`` (RFC 2231 §3-4).
    A character's bytes never straddle two pieces: some mail programs decode each piece alone."""
    pieces, current = [], "utf-8''"
    for char in value:
        token = quote(char, safe="", encoding="utf-8")
        if len(current) + len(token) > _WIDTH and current not in ("", "utf-8''"):
            pieces.append(current)
            current = ""
        current += token
    pieces.append(current)
    if len(pieces) == 1:
        return f"{param}*={pieces[0]}"
    return "; ".join(f"{param}*{i}*={piece}" for i, piece in enumerate(pieces))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",")


def part(data: bytes, item: Attachment) -> MIMEBase:
    maintype, _, subtype = item.content_type.partition("/")
    mime = MIMEBase(maintype, subtype)
    mime.set_payload(data)
    encoders.encode_base64(mime)
    name = clean_name(item.filename)
    mime.replace_header("Content-Type", f"{item.content_type}; {rfc2231('name', name)}")
    mime["Content-Disposition"] = f"attachment; {rfc2231('filename', name)}"
    return mime


def _size(sha256: str) -> int:
    try:
        return storage.object_path(sha256).stat().st_size
    except OSError:
        return 0  # missing: reading it says so


def attach_all(mail: Message, items: Iterable[Attachment]) -> None:
    """Read each file (hash checked) and add it to ``mail`` (a multipart). Raises PermanentFailure above
    :data:`MAX_BYTES` or for a file changed since it was stored; ``storage.IntegrityError`` for a missing one."""
    items = list(items)
    if any(not _SHA.fullmatch(item.sha256) or not _TYPE.fullmatch(item.content_type) for item in items):
        raise PermanentFailure("Danh sách tệp đính kèm của thư không đọc được (đã bị sửa trong cơ sở dữ liệu?): "
                               "thư không được gửi.")
    total = sum(_size(item.sha256) for item in items)
    if total > MAX_BYTES:
        raise PermanentFailure(
            f"Các tệp đính kèm ({len(items)} tệp, {_megabytes(total)} MB) vượt giới hạn "
            f"{MAX_BYTES // (1024 * 1024)} MB của một thư: thư không được gửi. Hãy gửi văn bản bằng cách khác "
            "(liên thông, bưu điện…).")
    for item in items:
        try:
            data = storage.read(item.sha256)
        except storage.IntegrityError as exc:
            if exc.actual is None:
                raise  # missing: perhaps a volume not mounted yet; the drain tries again later
            raise PermanentFailure(str(exc)) from exc
        mail.attach(part(data, item))
