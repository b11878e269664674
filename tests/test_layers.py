"""The shape of the code (issue 14, STYLE §6): views ask services, never decide who may act or talk to
the database; no module in portal/ passes 500 lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"
VIEWS = sorted(p for p in PORTAL.rglob("*.py") if p.name == "views.py" or p.name.endswith("_views.py"))
MODULES = sorted(PORTAL.rglob("*.py"))

# a permission rule is a role test; a database call is a query, an add or a commit
RULES = re.compile(r"\.has_role\(|\bRole\.[A-Z_]+")
DATABASE = re.compile(r"\bsession\.(add|delete|commit|execute|scalars?|query)\(|\bselect\(")


def test_there_are_views_to_check():
    assert len(VIEWS) >= 10


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: str(p.relative_to(PORTAL)))
def test_views_contain_no_permission_rules_and_no_queries(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    code = [(n, ln) for n, ln in enumerate(lines, 1) if not ln.lstrip().startswith(("#", "from ", "import "))]
    rules = [f"{n}: {ln.strip()}" for n, ln in code if RULES.search(ln)]
    queries = [f"{n}: {ln.strip()}" for n, ln in code if DATABASE.search(ln)]
    assert rules == [], "permission rules belong to the services (workflow tables, can_… predicates)"
    assert queries == [], "views call services; services talk to the database"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PORTAL)))
def test_no_module_is_over_500_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500
