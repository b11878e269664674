"""The document beside the actions (issue 18 item 3): pages of a stored PDF as PNG images rendered on the server
by poppler's ``pdftoppm`` and cached on disk next to the stored files, so every browser shows them without a
PDF plug-in or a script. Rendering runs in a child process with a time and memory limit: a hostile PDF can slow
one preview, never the portal.

No Flask and no feature here: features check who may see a file, then ask for its pages by hash.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from portal import storage

WIDTHS = (600, 900, 1200)  # CSS pixels the page may be asked at; anything else is refused
DEFAULT_WIDTH = 900
MAX_PAGES = 60  # shown on a page; a longer document says so and offers the download
RENDER_SECONDS = 20
RENDER_MEMORY = 768 * 1024 * 1024
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class PreviewUnavailable(Exception):
    """``str(exc)`` says in Vietnamese why there is no preview (not a PDF, unreadable, no renderer)."""


@dataclass(frozen=True)
class Box:
    """A rectangle on a page in PDF points (origin bottom-left) with its label: where the number, the date or
    the seal will be placed."""

    page: int  # 0-based
    x1: float
    y1: float
    x2: float
    y2: float
    label: str


def available() -> bool:
    return shutil.which("pdftoppm") is not None


def is_pdf(filename: str) -> bool:
    return filename.lower().endswith(".pdf")


@lru_cache(maxsize=2048)
def page_count(sha256: str) -> int:
    """Pages of a stored PDF (cached by hash: the content never changes)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(storage.object_path(sha256)), strict=False)
        if reader.is_encrypted:
            raise PreviewUnavailable("Tệp PDF được mã hoá: không xem trước được, hãy tải về.")
        return len(reader.pages)
    except (PdfReadError, OSError, ValueError, KeyError) as exc:
        raise PreviewUnavailable("Không đọc được tệp PDF để xem trước; hãy tải về.") from exc


def page_size(sha256: str, page: int) -> tuple[float, float]:
    """(width, height) of a page in points (its MediaBox)."""
    from pypdf import PdfReader

    box = PdfReader(str(storage.object_path(sha256)), strict=False).pages[page].mediabox
    return float(box.width), float(box.height)


def _cache_path(sha256: str, page: int, width: int) -> Path:
    return storage.root() / "cache" / "pages" / sha256[:2] / sha256 / f"{page + 1}-{width}.png"


def _limits() -> None:  # in the child, before exec
    resource.setrlimit(resource.RLIMIT_CPU, (RENDER_SECONDS, RENDER_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (RENDER_MEMORY, RENDER_MEMORY))


def _render(sha256: str, page: int, width: int, out: Path) -> None:
    if not available():
        raise PreviewUnavailable("Máy chủ chưa cài poppler-utils (pdftoppm): không xem trước được, hãy tải về.")
    source = storage.object_path(sha256)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        prefix = Path(work) / "trang"
        try:
            command = [shutil.which("pdftoppm") or "pdftoppm", "-png", "-f", str(page + 1), "-l", str(page + 1),
                       "-scale-to-x", str(width), "-scale-to-y", "-1", "-singlefile", "-aa", "yes", "-aaVector", "yes",
                       str(source), str(prefix)]  # a stored file's path and numbers: nothing a user typed
            subprocess.run(command, check=True, capture_output=True, timeout=RENDER_SECONDS + 5,  # noqa: S603
                           preexec_fn=_limits)
        except subprocess.TimeoutExpired as exc:
            raise PreviewUnavailable("Trang này quá phức tạp để xem trước; hãy tải tệp về.") from exc
        except subprocess.CalledProcessError as exc:
            raise PreviewUnavailable("Không hiển thị được trang này; hãy tải tệp về.") from exc
        produced = prefix.with_suffix(".png")
        if not produced.is_file():
            raise PreviewUnavailable("Không hiển thị được trang này; hãy tải tệp về.")
        os.replace(produced, out)  # atomic: a reader sees a whole image or none


def page_png(sha256: str, page: int, width: int = DEFAULT_WIDTH) -> bytes:
    """The PNG of one page (0-based), rendered once and cached; ``PreviewUnavailable`` with the reason."""
    if width not in WIDTHS:
        width = DEFAULT_WIDTH
    if not 0 <= page < page_count(sha256):
        raise PreviewUnavailable("Không có trang này.")
    path = _cache_path(sha256, page, width)
    if not path.is_file():
        with _locks_guard:
            lock = _locks.setdefault(f"{sha256}:{page}:{width}", threading.Lock())
        with lock:  # two viewers of a new page: one rendering
            if not path.is_file():
                _render(sha256, page, width, path)
    return path.read_bytes()


def with_boxes(png: bytes, page_size_points: tuple[float, float], boxes: list[Box]) -> bytes:
    """The page image with dashed rectangles and labels where the number, date and seal will go (the signer's
    preview before signing)."""
    from PIL import Image, ImageDraw

    from portal.pdf_fonts import FONT_DIR, SANS

    image = Image.open(io.BytesIO(png)).convert("RGB")
    scale = image.width / page_size_points[0]
    draw = ImageDraw.Draw(image)
    try:
        from PIL import ImageFont

        font = ImageFont.truetype(str(FONT_DIR / f"{SANS}.ttf"), max(12, int(11 * scale)))
    except (OSError, ImportError):
        font = None
    height = image.height
    for box in boxes:
        left, right = box.x1 * scale, box.x2 * scale
        top, bottom = height - box.y2 * scale, height - box.y1 * scale
        for i in range(int(left), int(right), 10):  # dashed: visible on any page content
            draw.line([(i, top), (min(i + 5, right), top)], fill=(200, 30, 30), width=2)
            draw.line([(i, bottom), (min(i + 5, right), bottom)], fill=(200, 30, 30), width=2)
        for j in range(int(top), int(bottom), 10):
            draw.line([(left, j), (left, min(j + 5, bottom))], fill=(200, 30, 30), width=2)
            draw.line([(right, j), (right, min(j + 5, bottom))], fill=(200, 30, 30), width=2)
        draw.text((left + 3, top + 2), box.label, fill=(200, 30, 30), font=font)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
