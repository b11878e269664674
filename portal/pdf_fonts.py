"""The DejaVu fonts every generated PDF uses (phiếu giải quyết, sổ đăng ký).

ReportLab's built-in Helvetica and Times know only Latin-1: "ế", "ộ", "ữ" would come out as
black boxes, and a PDF that relies on the reader's fonts renders differently on every machine.
DejaVu covers Vietnamese and its licence allows embedding, so we register the TrueType files
shipped in ``static/fonts`` and ReportLab embeds the glyphs used (a subset) in each document.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

ROOT = Path(__file__).resolve().parent.parent  # the repository (as portal.config.ROOT; no import of the app's settings)

FONT_DIR = ROOT / "static" / "fonts"

SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
SERIF = "DejaVuSerif"
SERIF_BOLD = "DejaVuSerif-Bold"

# family → (regular, bold); italics fall back to the upright face, which DejaVu ships for both
FAMILIES = {SANS: (SANS, SANS_BOLD), SERIF: (SERIF, SERIF_BOLD)}

_lock = threading.Lock()
_registered = False


def register_fonts() -> None:
    """Register once per process; safe to call from every PDF builder and from several threads.
    ``<b>`` in a Paragraph finds the bold face through the family mapping."""
    global _registered  # one process-wide flag: ReportLab's font registry is global too
    if _registered:
        return
    with _lock:
        if _registered:
            return
        for family, (regular, bold) in FAMILIES.items():
            for name in (regular, bold):
                path = FONT_DIR / f"{name}.ttf"
                if not path.is_file():
                    raise FileNotFoundError(f"Thiếu phông chữ {path}; cần cho các tệp PDF tiếng Việt.")
                pdfmetrics.registerFont(TTFont(name, str(path)))
            addMapping(family, 0, 0, regular)
            addMapping(family, 1, 0, bold)
            addMapping(family, 0, 1, regular)
            addMapping(family, 1, 1, bold)
        _registered = True
