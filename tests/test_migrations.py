"""Migrations: up, all the way down, up again; the models match them; files are named and titled."""

from __future__ import annotations

import ast
import re

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from portal import migrate
from portal.config import ROOT
from portal.db import make_engine
from portal.models import Base

VERSIONS = ROOT / "migrations" / "versions"
FILE_NAME = re.compile(r"^(?P<rev>\d{4})_(?P<slug>[a-z0-9_]+)\.py$")


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _differences(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": migrate.include_object})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


@pytest.fixture
def migrated(fresh_database_url) -> str:
    url = fresh_database_url()
    migrate.upgrade(url)
    return url


def test_upgrade_downgrade_upgrade(migrated):
    assert set(Base.metadata.tables) <= _tables(migrated)
    migrate.downgrade(migrated, "base")
    assert _tables(migrated) == {"alembic_version"}
    migrate.upgrade(migrated)
    assert set(Base.metadata.tables) <= _tables(migrated)


def test_models_match_the_migrations(migrated):
    assert _differences(migrated) == []


def test_alembic_check_finds_nothing_to_generate(migrated):
    command.check(migrate.alembic_config(migrated))


def test_models_match_after_a_round_trip(migrated):
    migrate.downgrade(migrated, "base")
    migrate.upgrade(migrated)
    assert _differences(migrated) == []


def test_audit_log_is_append_only_after_upgrade(migrated):
    """The triggers come from the migration, so they must survive a round trip too."""
    migrate.downgrade(migrated, "base")
    migrate.upgrade(migrated)
    engine = make_engine(migrated)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO audit_log (seq, occurred_at, action, details, prev_hash, hash) "
                "VALUES (1, CURRENT_TIMESTAMP, 'test', '{}', 'x', 'y')"))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET action = 'sua' WHERE seq = 1"))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
    finally:
        engine.dispose()


def _migration_files() -> list:
    return sorted(p for p in VERSIONS.glob("*.py") if p.name != "__init__.py")


def test_there_are_migrations():
    assert _migration_files()


@pytest.mark.parametrize("path", _migration_files(), ids=lambda p: p.name)
def test_migration_file_is_named_titled_and_reversible(path):
    match = FILE_NAME.match(path.name)
    assert match, f"{path.name} does not follow <rev>_<slug>.py (rev = four digits)"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring, f"{path.name} has no docstring"
    title = docstring.splitlines()[0].strip()
    assert title, f"{path.name}: the docstring's first line is its title"
    assert not title.startswith("empty message"), f"{path.name}: the title says what the migration does"
    revision = next(node.value.value for node in tree.body
                    if isinstance(node, ast.AnnAssign | ast.Assign)
                    and getattr(node.target if isinstance(node, ast.AnnAssign) else node.targets[0], "id", "")
                    == "revision")
    assert match["rev"] == revision
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    for name in ("upgrade", "downgrade"):
        assert name in functions, f"{path.name} has no {name}()"
        statements = [n for n in functions[name].body
                      if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]  # docstrings
        assert statements, f"{path.name}: {name}() does nothing"
        assert not all(isinstance(n, ast.Pass) for n in statements), f"{path.name}: {name}() is only pass"


def test_one_head_and_a_linear_history():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert len(revisions) == len(_migration_files())
    assert revisions[-1].down_revision is None


def test_file_names_sort_in_revision_order():
    """Listing the folder reads the history in the order it is applied (0010 never sorts before 0001)."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    applied = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert [FILE_NAME.match(p.name)["rev"] for p in _migration_files()] == applied
