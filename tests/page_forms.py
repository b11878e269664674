"""The forms of a rendered page as a browser would send them: where each posts (``action`` or an
``hx-post`` on the form or one of its buttons) and its fields with the values the page shows, so a test
can post a page's own form back with one field made hostile (tests/test_hostile_routes.py)."""

from __future__ import annotations

from html.parser import HTMLParser

NOT_SENT = {"submit", "button", "reset", "image", "file"}


class PageForms(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[set[str], dict[str, list[str]]]] = []  # (actions, fields)
        self._actions: set[str] | None = None
        self._fields: dict[str, list[str]] = {}
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, selected
        self._textarea: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._actions, self._fields = set(), {}
        if self._actions is None:
            return
        self._actions |= {a[key].split("?")[0] for key in ("action", "hx-post") if a.get(key)}
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind not in NOT_SENT and (kind not in ("checkbox", "radio") or "checked" in a):
                self._fields.setdefault(name, []).append(a.get("value", "on"))
        elif tag == "select" and name:
            self._select = (name, [], [])
        elif tag == "option" and self._select is not None:
            self._select[1].append(a.get("value", ""))
            if "selected" in a:
                self._select[2].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._fields[name] = [""]

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._fields[self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, options, selected = self._select
            self._fields.setdefault(name, []).extend(selected or options[:1])  # what a browser sends
            self._select = None
        elif tag == "form" and self._actions is not None:
            self.forms.append((self._actions, self._fields))
            self._actions = None
