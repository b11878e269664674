"""Keep requirements.lock in step with pyproject.toml.

``stamp`` writes the fingerprint of pyproject.toml's dependency declarations into the lock's header
(``make lock`` runs it right after ``uv pip compile``); ``check`` fails when the declarations changed
since the lock was made (``make test`` runs it first), so a dependency added to pyproject.toml without
``make lock`` is caught before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
MARK = "# pyproject-dependencies-sha256: "


def fingerprint(pyproject: Path = PYPROJECT) -> str:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    declared = {
        "requires-python": project.get("requires-python", ""),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {k: sorted(v) for k, v in sorted(project.get("optional-dependencies", {}).items())},
    }
    return hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()


def stamp(pyproject: Path = PYPROJECT, lock: Path = LOCK) -> int:
    lines = [line for line in lock.read_text(encoding="utf-8").splitlines() if not line.startswith(MARK)]
    lines.insert(0, MARK + fingerprint(pyproject))
    lock.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


def check(pyproject: Path = PYPROJECT, lock: Path = LOCK) -> int:
    if not lock.exists():
        print("Thiếu requirements.lock: chạy `make lock`.", file=sys.stderr)
        return 1
    recorded = next((ln[len(MARK):].strip() for ln in lock.read_text(encoding="utf-8").splitlines()
                     if ln.startswith(MARK)), None)
    if recorded != fingerprint(pyproject):
        print("requirements.lock đã cũ so với pyproject.toml: chạy `make lock` rồi commit cả hai tệp.",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    commands = {"stamp": stamp, "check": check}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print("usage: lockfile.py stamp|check", file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
