"""The lock is what gets installed (issue 13 item 1): it pins every package with hashes, and a change to
pyproject.toml's dependencies without ``make lock`` is caught before anything is installed."""

from __future__ import annotations

import importlib.util
import re
import shutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("lockfile", ROOT / "scripts" / "lockfile.py")
assert _spec
assert _spec.loader
lockfile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lockfile)


def _pins(text: str) -> dict[str, str]:
    return {m[1].lower().replace("_", "-"): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+) \\", text, re.M)}


def test_the_committed_lock_is_fresh():
    assert lockfile.check() == 0


def test_every_locked_package_is_pinned_with_a_hash():
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 1)[1])
    assert len(entries) > 20
    for entry in entries:
        if entry.strip():
            assert re.match(r"^[A-Za-z0-9_.-]+==\S+ \\\n", entry), entry[:80]
            assert "--hash=sha256:" in entry, entry[:80]


def test_every_declared_dependency_is_in_the_lock():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    pins = _pins((ROOT / "requirements.lock").read_text(encoding="utf-8"))
    for requirement in declared:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is declared but not locked"
    for imported in ("cryptography", "asn1crypto", "pillow"):  # imported by our code directly
        assert any(d.lower().startswith(imported) for d in project["dependencies"]), imported


@pytest.mark.parametrize("edit", [
    ('"icalendar>=6,<8",', '"icalendar>=6,<9",'),
    ('"pytest>=8.3,<10",', '"pytest>=8.3,<10",\n    "hypothesis",'),
], ids=["changed range", "new test dependency"])
def test_a_dependency_change_without_make_lock_is_stale(tmp_path, edit):
    pyproject, lock = tmp_path / "pyproject.toml", tmp_path / "requirements.lock"
    shutil.copy(ROOT / "pyproject.toml", pyproject)
    shutil.copy(ROOT / "requirements.lock", lock)
    assert lockfile.check(pyproject, lock) == 0
    text = pyproject.read_text(encoding="utf-8")
    assert edit[0] in text
    pyproject.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    assert lockfile.check(pyproject, lock) == 1
    lockfile.stamp(pyproject, lock)  # what `make lock` does after resolving
    assert lockfile.check(pyproject, lock) == 0


def test_a_lock_without_its_fingerprint_is_stale(tmp_path):
    lock = tmp_path / "requirements.lock"
    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    lock.write_text("\n".join(ln for ln in lines if not ln.startswith(lockfile.MARK)), encoding="utf-8")
    assert lockfile.check(ROOT / "pyproject.toml", lock) == 1
    assert lockfile.check(ROOT / "pyproject.toml", tmp_path / "missing.lock") == 1
