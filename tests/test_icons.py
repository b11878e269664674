"""The icons: one vendored sprite (Lucide, ISC) holding every icon a template names, drawn by one macro
as decorative inline SVG, so a link or button keeps the name its text gives it."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, render_template_string

from scripts.build_icons import OUT, used_icons

SPRITE = OUT / "sprite.svg"


def sprite_ids() -> set[str]:
    return set(re.findall(r'<symbol id="([a-z0-9-]+)"', SPRITE.read_text(encoding="utf-8")))


def test_every_icon_a_template_names_is_in_the_sprite() -> None:
    used = used_icons()
    assert {"bell", "inbox", "log-out"} <= used  # the collector sees the bell, the menu's table and the header
    missing = used - sprite_ids()
    assert not missing, f"run scripts/build_icons.py: the sprite lacks {sorted(missing)}"


def test_the_sprite_carries_only_used_icons_and_its_licence() -> None:
    assert sprite_ids() == used_icons()
    licence = (OUT / "LICENSE").read_text(encoding="utf-8")
    assert "ISC License" in licence
    assert "Lucide" in licence


def test_the_macro_draws_a_hidden_svg_from_the_sprite(app: Flask) -> None:
    with app.test_request_context():
        html = render_template_string('{% from "macros/icons.html" import icon %}<a>{{ icon("bell", "big") }}Xem</a>')
    assert html == ('<a><svg class="icon big" aria-hidden="true" focusable="false">'
                    '<use href="/static/icons/sprite.svg#bell"></use></svg>Xem</a>')


def test_the_collector_reads_calls_and_tables(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text('{{ icon("plus") }} {{ icon(\'x\', "c") }}', encoding="utf-8")
    (tmp_path / "b.html").write_text('{% set nav_icons = {"main": "house", "admin": "settings"} %}', encoding="utf-8")
    assert used_icons(tmp_path) == {"plus", "x", "house", "settings"}
