"""Alembic driven from the app's own configuration, so the CLI, the tests and ``make run`` all
migrate the database the app will use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alembic import command
from alembic.config import Config

from portal.config import ROOT

# Indexes only PostgreSQL has (trigram GIN for diacritics-free substring search), created by raw
# SQL in the migrations: autogenerate must not offer to drop them.
POSTGRESQL_ONLY_INDEXES = frozenset({"ix_incoming_documents_subject_trgm", "ix_incoming_documents_organ_trgm",
                                     "ix_incoming_documents_org_subject_trgm", "ix_incoming_documents_org_organ_trgm",
                                     "ix_outgoing_documents_org_subject_trgm"})


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "index" and reflected and name in POSTGRESQL_ONLY_INDEXES)


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migration_url(config: Mapping[str, Any]) -> str:
    """Migrations run as the tables' owner when ``PORTAL_MIGRATE_DATABASE_URL`` names it; the portal
    itself runs as ``PORTAL_DATABASE_URL``'s role, which need not be able to alter anything."""
    return str(config.get("MIGRATE_DATABASE_URL") or config["DATABASE_URL"])


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
