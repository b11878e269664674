"""What an attachment really is (SPEC §13.6), and the files inside a compressed one.

Attachments are inert bytes: nothing here executes, converts or writes them anywhere. ``sniff`` names the content
from its first bytes; ``examine`` compares that with the declared name and ContentType and, for a ZIP or gzip,
unpacks it in memory (recursively, within ``Limits``) so that each file inside is what the clerk sees.
Mismatches are flagged, not refused (an incoming document is evidence; the clerk decides). Unpacking that would
pass the limits (a zip bomb) is refused: ``Unpacking.refused`` says why and the package fails validation.

The axis SDK wraps every file in a ZIP of one entry named ``<uuid>.<ext>`` and keeps the declared name and type
of the file ("QD.pdf", application/pdf): such a wrapper is recognised and the inner file takes the declared name.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from portal.exchange.edxml.model import AttachedFile
from portal.exchange.edxml.safexml import MB, Limits

# SPEC §3.7 (Đắk Lắk Điều 4.3)
ALLOWED_EXTENSIONS = frozenset({".txt", ".rtf", ".doc", ".docx", ".odt", ".csv", ".xls", ".xlsx", ".ods", ".pdf",
                                ".jpeg", ".jpg", ".png"})
COMPRESSED = frozenset({"zip", "gzip"})

LABELS = {
    "pdf": "PDF", "doc": "Word (.doc)", "xls": "Excel (.xls)", "ppt": "PowerPoint (.ppt)",
    "ole": "tài liệu Office cũ (OLE2)", "docx": "Word (.docx)", "xlsx": "Excel (.xlsx)",
    "pptx": "PowerPoint (.pptx)", "odt": "OpenDocument văn bản", "ods": "OpenDocument bảng tính",
    "zip": "gói nén ZIP", "gzip": "gói nén gzip", "rar": "gói nén RAR", "7z": "gói nén 7z", "xml": "XML",
    "edxml": "gói edXML", "html": "trang HTML", "png": "ảnh PNG", "jpeg": "ảnh JPEG", "gif": "ảnh GIF",
    "tiff": "ảnh TIFF", "rtf": "RTF", "text": "văn bản thuần", "exe": "chương trình chạy được (EXE)",
    "elf": "chương trình chạy được (ELF)", "empty": "tệp rỗng", "unknown": "dữ liệu không nhận ra",
}

EXTENSION_KINDS = {
    ".pdf": {"pdf"}, ".doc": {"doc", "ole", "rtf"}, ".docx": {"docx"}, ".xls": {"xls", "ole"}, ".xlsx": {"xlsx"},
    ".ppt": {"ppt", "ole"}, ".pptx": {"pptx"}, ".odt": {"odt"}, ".ods": {"ods"}, ".rtf": {"rtf"},
    ".txt": {"text"}, ".csv": {"text"}, ".xml": {"xml", "edxml"}, ".edxml": {"edxml", "xml"}, ".zip": {"zip"},
    ".gz": {"gzip"}, ".rar": {"rar"}, ".7z": {"7z"}, ".png": {"png"}, ".jpg": {"jpeg"}, ".jpeg": {"jpeg"},
    ".gif": {"gif"}, ".tif": {"tiff"}, ".tiff": {"tiff"}, ".html": {"html"}, ".htm": {"html"}, ".exe": {"exe"},
}

_OOXML = "application/vnd.openxmlformats-officedocument."
MIME_KINDS = {
    "application/pdf": {"pdf"}, "application/msword": {"doc", "ole", "rtf"},
    "application/vnd.ms-excel": {"xls", "ole"}, "application/vnd.ms-powerpoint": {"ppt", "ole"},
    _OOXML + "wordprocessingml.document": {"docx"}, _OOXML + "spreadsheetml.sheet": {"xlsx"},
    _OOXML + "presentationml.presentation": {"pptx"}, "application/vnd.oasis.opendocument.text": {"odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {"ods"}, "application/rtf": {"rtf"}, "text/rtf": {"rtf"},
    "text/plain": {"text"}, "text/csv": {"text"}, "application/xml": {"xml", "edxml"},
    "text/xml": {"xml", "edxml"}, "application/zip": {"zip"}, "application/x-zip-compressed": {"zip"},
    "application/gzip": {"gzip"}, "application/x-gzip": {"gzip"}, "image/png": {"png"}, "image/jpeg": {"jpeg"},
    "image/jpg": {"jpeg"}, "image/gif": {"gif"}, "image/tiff": {"tiff"}, "text/html": {"html"},
}

_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"{\\rtf", "rtf"), (b"\x1f\x8b", "gzip"),
    (b"Rar!\x1a\x07", "rar"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"MZ", "exe"), (b"\x7fELF", "elf"),
]
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def label(kind: str) -> str:
    return LABELS.get(kind, kind)


def sniff(data: bytes) -> str:
    """The kind of ``data`` from its content alone (a key of LABELS)."""
    if not data:
        return "empty"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(_OLE):
        return _ole_kind(data)
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _zip_kind(data)
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if b"%PDF-" in data[:1024]:  # readers accept up to 1 KB of junk before the header
        return "pdf"
    return _text_kind(data[:4096])


def _ole_kind(data: bytes) -> str:
    for stream, kind in (("WordDocument", "doc"), ("Workbook", "xls"), ("PowerPoint Document", "ppt")):
        if stream.encode("utf-16-le") in data:
            return kind
    return "ole"


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
                    if any(n.startswith(prefix) for n in names):
                        return kind
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                mimetype = archive.read("mimetype")
                for suffix, kind in ((b".text", "odt"), (b".spreadsheet", "ods")):
                    if mimetype.startswith(b"application/vnd.oasis.opendocument") and mimetype.endswith(suffix):
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        pass
    return "zip"


def _text_kind(head: bytes) -> str:
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if body.startswith(b"<"):
        if b"QCVN_102_2016" in head or b"edXMLEnvelope" in head:
            return "edxml"
        lowered = body[:200].lower()
        return "html" if lowered.startswith((b"<!doctype html", b"<html")) else "xml"
    try:
        text = head.decode("utf-8") if len(head) < 4096 else head[:-4].decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return "unknown"
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    return "text" if controls == 0 else "unknown"


def mismatches(name: str, content_type: str, kind: str) -> list[str]:
    """Why the content does not match its name or declared type (empty when it does)."""
    flags = []
    extension = PurePosixPath(name).suffix.lower()
    expected = EXTENSION_KINDS.get(extension)
    if kind == "empty":
        flags.append("tệp rỗng")
    elif expected is not None and kind not in expected:
        flags.append(f"nội dung là {label(kind)}, không khớp đuôi {extension}")
    elif expected is None and kind not in ("text", "unknown"):
        flags.append(f"nội dung là {label(kind)}, tên tệp không có đuôi tương ứng")
    declared = MIME_KINDS.get(content_type.split(";")[0].strip().lower())
    if declared is not None and kind not in declared and kind != "empty":
        flags.append(f"nội dung là {label(kind)}, không khớp loại khai báo {content_type}")
    return flags


def not_allowed(name: str) -> str | None:
    extension = PurePosixPath(name).suffix.lower()
    if extension in ALLOWED_EXTENSIONS:
        return None
    return f"đuôi {extension or '(không có)'} không thuộc các loại tệp được nhận (SPEC §3.7)"


class Refused(Exception):
    """Unpacking stopped at a limit; ``str()`` says which, in Vietnamese."""


@dataclass
class Budget:
    """What unpacking may still spend for one package (shared by its attachments)."""

    limits: Limits
    bytes_left: int = -1
    files_left: int = -1

    def __post_init__(self) -> None:
        self.bytes_left = self.limits.max_unpacked_bytes
        self.files_left = self.limits.max_unpacked_files

    def take_file(self) -> None:
        self.files_left -= 1
        if self.files_left < 0:
            raise Refused(f"gói nén chứa quá nhiều tệp (tối đa {self.limits.max_unpacked_files} tệp mỗi gói "
                          "edXML): có thể là bom nén, không giải nén")

    def take_bytes(self, count: int) -> None:
        self.bytes_left -= count
        if self.bytes_left < 0:
            raise Refused(f"tổng dung lượng giải nén vượt {self.limits.max_unpacked_bytes // MB} MB: có thể là "
                          "bom nén, không giải nén")


@dataclass
class Unpacking:
    """``files`` is what the clerk sees; ``flags`` concern the attachment as received; ``refused`` is set when
    unpacking hit a limit (the package is then refused)."""

    kind: str
    files: list[AttachedFile] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    refused: str | None = None


def examine(name: str, content_type: str, data: bytes, budget: Budget) -> Unpacking:
    kind = sniff(data)
    if kind not in COMPRESSED:
        flags = mismatches(name, content_type, kind) + _allowed(name)
        return Unpacking(kind, [AttachedFile(name, data, kind, name, flags)])
    try:
        inner = _unpack(name, data, kind, budget, depth=1)
    except Refused as exc:
        return Unpacking(kind, refused=f"Tệp đính kèm '{name}': {exc}")
    if _is_wrapper(name, content_type, inner):
        inner[0].name, inner[0].flags = name, _allowed(name)
        return Unpacking(kind, inner)
    return Unpacking(kind, inner, mismatches(name, content_type, kind))


def _is_wrapper(name: str, content_type: str, inner: list[AttachedFile]) -> bool:
    """One file inside, of the kind the declared name says (the declared type being that kind or a ZIP)."""
    by_name = EXTENSION_KINDS.get(PurePosixPath(name).suffix.lower(), set())
    by_type = MIME_KINDS.get(content_type.split(";")[0].strip().lower())
    return (len(inner) == 1 and not by_name & COMPRESSED and inner[0].kind in by_name
            and (by_type is None or inner[0].kind in by_type or bool(by_type & COMPRESSED)))


def _allowed(name: str) -> list[str]:
    problem = not_allowed(name)
    return [problem] if problem else []


def _unpack(path: str, data: bytes, kind: str, budget: Budget, depth: int) -> list[AttachedFile]:
    try:
        entries = _zip_entries(data, budget) if kind == "zip" else _gzip_entries(path, data, budget)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError) as exc:
        name = PurePosixPath(path.rpartition("!/")[2]).name
        return [AttachedFile(name, data, kind, path, [f"{label(kind)} hỏng hoặc không giải nén được ({exc})"])]
    files = []
    for entry_name, content in entries:
        inner_path = f"{path}!/{entry_name}"
        inner_kind = sniff(content)
        if inner_kind in COMPRESSED and depth < budget.limits.max_archive_depth:
            files.extend(_unpack(inner_path, content, inner_kind, budget, depth + 1))
            continue
        display = PurePosixPath(entry_name).name
        flags = mismatches(display, "", inner_kind) + _allowed(display)
        if inner_kind in COMPRESSED:
            flags.append(f"gói nén lồng quá {budget.limits.max_archive_depth} lớp: không giải nén tiếp")
        files.append(AttachedFile(display, content, inner_kind, inner_path, flags))
    return files


def _entry_name(info: zipfile.ZipInfo) -> str:
    """Names without the UTF-8 flag were decoded as CP437; Vietnamese tools write UTF-8 anyway."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("utf-8")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or "(không tên)"


def _read_capped(stream, budget: Budget, declared: int, packed: int, name: str) -> bytes:
    limits = budget.limits
    if declared > limits.max_file_bytes:
        raise Refused(f"tệp '{name}' trong gói nén khai báo {declared // MB} MB, vượt {limits.max_file_bytes // MB}"
                      " MB: có thể là bom nén, không giải nén")
    out = bytearray()
    while chunk := stream.read(MB):
        out += chunk
        budget.take_bytes(len(chunk))
        if len(out) > limits.max_file_bytes:
            raise Refused(f"tệp '{name}' trong gói nén vượt {limits.max_file_bytes // MB} MB khi giải nén: có thể "
                          "là bom nén, không giải nén")
        if len(out) > MB and len(out) > max(packed, 1) * limits.max_ratio:
            raise Refused(f"tệp '{name}' trong gói nén có tỉ lệ nén bất thường (hơn {limits.max_ratio} lần): "
                          "có thể là bom nén, không giải nén")
    return bytes(out)


def _zip_entries(data: bytes, budget: Budget) -> list[tuple[str, bytes]]:
    entries = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.filename.startswith("__MACOSX/"):
                continue
            budget.take_file()
            name = _entry_name(info)
            if info.flag_bits & 0x1:
                raise NotImplementedError(f"tệp '{name}' được mã hoá")
            with archive.open(info) as stream:
                entries.append((name, _read_capped(stream, budget, info.file_size, info.compress_size, name)))
    return entries


def _gzip_entries(path: str, data: bytes, budget: Budget) -> list[tuple[str, bytes]]:
    budget.take_file()
    outer = PurePosixPath(path.rpartition("!/")[2]).name
    name = _gzip_name(data) or (outer[:-3] if outer.lower().endswith(".gz") else outer)
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
        return [(name, _read_capped(stream, budget, 0, len(data), name))]


def _gzip_name(data: bytes) -> str | None:
    """FNAME from the gzip header (RFC 1952), if the header carries one."""
    flags, at = data[3] if len(data) > 3 else 0, 10
    if flags & 0x04 and len(data) >= at + 2:
        at += 2 + int.from_bytes(data[at:at + 2], "little")
    if not flags & 0x08:
        return None
    end = data.find(b"\x00", at, at + 1024)
    return PurePosixPath(data[at:end].decode("latin-1")).name or None if end > at else None
