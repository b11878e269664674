"""Build static/icons/sprite.svg from the Lucide icons the templates use, and nothing else.

    cd /tmp && npm pack lucide-static && tar xzf lucide-static-*.tgz
    .venv/bin/python scripts/build_icons.py /tmp/package

Every ``icon("name")`` in templates/ becomes one ``<symbol id="name">``; Lucide's LICENSE (ISC, with
the MIT notice for the icons derived from Feather) is copied beside the sprite. tests/test_icons.py
fails when a template names an icon the sprite lacks, so run this after using a new one.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
OUT = ROOT / "static" / "icons"
SVG_NS = "http://www.w3.org/2000/svg"
USE = re.compile(r"""\bicon\(\s*["']([a-z0-9-]+)["']""")
# icons picked from a table in a template: {% set nav_icons = {"incoming": "inbox", ...} %}
TABLE = re.compile(r"""_icons\s*=\s*\{([^}]*)\}""")
TABLE_VALUE = re.compile(r""":\s*["']([a-z0-9-]+)["']""")


def used_icons(templates: Path = TEMPLATES) -> set[str]:
    names: set[str] = set()
    for path in templates.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        names.update(USE.findall(text))
        for table in TABLE.findall(text):
            names.update(TABLE_VALUE.findall(table))
    return names


def symbol(name: str, source: Path) -> str:
    """Lucide's files are one <svg> of plain shapes; its stroke settings come from `.icon` in portal.css,
    inherited through <use>, so the symbol keeps only the viewBox and the shapes."""
    text = source.read_text(encoding="utf-8")
    svg = re.search(r"<svg\b[^>]*>(.*)</svg>", text, re.S)
    view_box = re.search(r'viewBox="([^"]+)"', text)
    if not svg or not view_box:
        sys.exit(f"{source}: not an SVG icon")
    body = "".join(line.strip() for line in svg.group(1).splitlines())
    return f'<symbol id="{name}" viewBox="{view_box.group(1)}">{body}</symbol>'


def main(package: Path) -> None:
    icons = package / "icons"
    names = sorted(used_icons())
    missing = [n for n in names if not (icons / f"{n}.svg").exists()]
    if missing:
        sys.exit(f"Lucide has no icon named: {', '.join(missing)}")
    version = re.search(r'"version":\s*"([^"]+)"', (package / "package.json").read_text(encoding="utf-8"))
    OUT.mkdir(parents=True, exist_ok=True)
    symbols = "\n".join(symbol(n, icons / f"{n}.svg") for n in names)
    (OUT / "sprite.svg").write_text(
        f'<svg xmlns="{SVG_NS}">\n<!-- Lucide {version.group(1) if version else ""} (ISC), see LICENSE;'
        f" built by scripts/build_icons.py -->\n{symbols}\n</svg>\n", encoding="utf-8")
    shutil.copyfile(package / "LICENSE", OUT / "LICENSE")
    print(f"{len(names)} icons → {OUT / 'sprite.svg'}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
