"""The sign-in history of a person's page: user agents shortened for the table."""

from __future__ import annotations

import re

BROWSERS = ((re.compile(r"coc_coc_browser/(\d+)"), "Cốc Cốc"), (re.compile(r"Edg(?:e|A|iOS)?/(\d+)"), "Edge"),
            (re.compile(r"OPR/(\d+)"), "Opera"), (re.compile(r"Firefox/(\d+)"), "Firefox"),
            (re.compile(r"Chrome/(\d+)"), "Chrome"), (re.compile(r"Version/(\d+)[^ ]* .*Safari/"), "Safari"))
SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
           ("Mac OS X", "macOS"), ("Linux", "Linux"))


def short_browser(user_agent: str | None) -> str:
    """"Chrome 126 · Windows" instead of 130 characters of user agent; unknown ones cut short."""
    if not user_agent:
        return ""
    browser = next((f"{name} {m.group(1)}" for pattern, name in BROWSERS if (m := pattern.search(user_agent))), None)
    system = next((name for token, name in SYSTEMS if token in user_agent), None)
    if browser is None:
        return user_agent if len(user_agent) <= 40 else user_agent[:39] + "…"
    return f"{browser} · {system}" if system else browser
