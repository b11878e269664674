"""PostgreSQL roles (issue 15, item 4): the portal runs as a role that does not own the tables, so it
can neither shorten the audit log nor switch its triggers off; the owner runs the migrations.

Roles are server-wide: each run names its own pair and drops it at the end (after its database).
On SQLite there are no roles; ``db-roles`` says so and points at the anchors.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from portal import audit, create_app, migrate
from portal.auth.models import Role
from portal.db import session as db_session
from portal.documents.models import Urgency
from portal.incoming import services as incoming
from portal.timeutil import local_today
from tests.concurrency import bound_to, live_app
from tests.conftest import DATABASE, PASSWORD, TEST_SETTINGS, Factory, drop_postgres_database
from tests.incoming_fixtures import PDF, act

postgres_only = pytest.mark.skipif(DATABASE != "postgresql", reason="vai trò chỉ có trên PostgreSQL")


@dataclass
class Pair:
    url: str  # the superuser's
    owner: str
    app_role: str
    storage: Path

    def url_as(self, role: str) -> str:
        return make_url(self.url).set(username=role).render_as_string(hide_password=False)

    def engine_as(self, role: str) -> Engine:
        return create_engine(self.url_as(role))


def _cli(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    with app.app_context():
        return app.test_cli_runner().invoke(args=["portal", *args])


@pytest.fixture(scope="module")
def pair(fresh_database_url, tmp_path_factory) -> Iterator[Pair]:
    if DATABASE != "postgresql":
        pytest.skip("vai trò chỉ có trên PostgreSQL")
    url = fresh_database_url()
    suffix = uuid.uuid4().hex[:10]
    made = Pair(url, f"qlvb_owner_{suffix}", f"qlvb_app_{suffix}", tmp_path_factory.mktemp("storage"))
    apps = live_app(url, made.storage)  # migrated as the superuser, as an existing install was
    admin = next(apps)
    try:
        result = _cli(admin, "db-roles", "--owner", made.owner, "--app", made.app_role)
        assert result.exit_code == 0, result.output
        again = _cli(admin, "db-roles", "--owner", made.owner, "--app", made.app_role)  # idempotent
        assert again.exit_code == 0, again.output
        yield made
    finally:
        next(apps, None)
        drop_postgres_database(url)
        admin_engine = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            for role in (made.app_role, made.owner):
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin_engine.dispose()


@pytest.fixture(scope="module")
def as_app(pair: Pair) -> Iterator[Flask]:
    """The portal as it runs in production: connected as the app role."""
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": pair.url_as(pair.app_role), "STORAGE_DIR": str(pair.storage),
                      "MIGRATE_DATABASE_URL": pair.url_as(pair.owner),
                      "AUDIT_ANCHOR_FILE": str(pair.storage.parent / "moc.log")})
    with bound_to(app):
        yield app
    app.extensions["engine"].dispose()


@postgres_only
def test_normal_work_runs_as_the_app_role(as_app):
    """A sign-in, an account and a registered document (số đến from the locked counter), each audited,
    the chain whole; /readyz has no role warning."""
    with as_app.app_context():
        factory = Factory(db_session())
        org = factory.organisation()
        clerk = act(factory.person(Role.CLERK, organisation=org, title="Văn thư"))
        db_session.commit()
        resp = as_app.test_client().post("/auth/login", data={"username": clerk.username, "password": PASSWORD})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
        doc = incoming.digitise(act(clerk), incoming.Metadata(
            type_name="Công văn", code_number="7", code_notation="UBND-VP",
            issued_date=local_today() - timedelta(days=1), organ_name="Ủy ban nhân dân tỉnh Hà Nam",
            subject="Về việc phân quyền cơ sở dữ liệu",
            urgency=Urgency.NORMAL), incoming.Upload("ban-quet.pdf", PDF))
        db_session.commit()
        assert doc.arrival_number == 1
        result = audit.verify(db_session(), TEST_SETTINGS["AUDIT_KEY"])
        assert result.ok
        assert result.checked >= 4
        db_session.remove()
        ready = as_app.test_client().get("/readyz").get_json()
    assert not [w for w in ready["warnings"] if "không được bảo vệ" in w]


@postgres_only
@pytest.mark.parametrize(("statement", "refusal"), [
    ("DELETE FROM audit_log", "permission denied"),
    ("UPDATE audit_log SET details = '{}'", "permission denied"),
    ("TRUNCATE audit_log", "permission denied"),
    ("ALTER TABLE audit_log DISABLE TRIGGER USER", "must be owner"),
    ("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update", "must be owner"),
    ("DROP TRIGGER audit_log_no_update ON audit_log", "must be owner"),
    ("DROP TABLE audit_log", "must be owner"),
    ("SET session_replication_role = replica", "permission denied"),
    ("DELETE FROM audit_head", "permission denied"),
    ("TRUNCATE audit_head", "permission denied"),
    ("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (2, 0, 'x')", "permission denied"),
    ("UPDATE audit_head SET last_seq = last_seq - 1", "chỉ được tiến từng bản ghi một"),
    ("UPDATE audit_head SET last_seq = 0, last_hash = repeat('0', 64)", "chỉ được tiến từng bản ghi một"),
    ("ALTER TABLE audit_head DISABLE TRIGGER audit_head_forward_only", "must be owner"),
    ("UPDATE audit_head SET id = 2, last_seq = last_seq + 1", "permission denied"),
])
def test_the_app_role_cannot_shorten_or_unguard_the_log(pair, statement, refusal):
    engine = pair.engine_as(pair.app_role)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() >= 0  # it may read
            with pytest.raises(DBAPIError, match=refusal):
                conn.execute(text(statement))
    finally:
        engine.dispose()


@postgres_only
def test_the_head_still_moves_forward_one_step(pair):
    """What ``record`` does, the only change of the head the app role may make."""
    engine = pair.engine_as(pair.app_role)
    try:
        with engine.connect() as conn:
            before = conn.execute(text("SELECT last_seq FROM audit_head WHERE id = 1 FOR UPDATE")).scalar_one()
            conn.execute(text("UPDATE audit_head SET last_seq = last_seq + 1, last_hash = repeat('1', 64)"))
            assert conn.execute(text("SELECT last_seq FROM audit_head")).scalar_one() == before + 1
            conn.rollback()
    finally:
        engine.dispose()


@postgres_only
def test_the_owner_migrates_and_the_app_role_may_use_what_it_creates(pair, as_app, monkeypatch):
    with as_app.app_context():
        used = []
        monkeypatch.setattr(migrate, "upgrade", used.append)
        assert _cli(as_app, "db-upgrade").exit_code == 0
        assert used == [pair.url_as(pair.owner)]
    owner, app_role = pair.engine_as(pair.owner), pair.engine_as(pair.app_role)
    try:
        with owner.begin() as conn:  # what a later migration does
            conn.execute(text("CREATE TABLE later_feature (id serial PRIMARY KEY, note text)"))
        with app_role.begin() as conn:
            conn.execute(text("INSERT INTO later_feature (note) VALUES ('được dùng')"))
            owners = conn.execute(text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"))
            assert owners.scalars().all() == [pair.owner]
        with app_role.connect() as conn, pytest.raises(DBAPIError, match="permission denied"):
            conn.execute(text("CREATE TABLE intruder (id int)"))
    finally:
        owner.dispose()
        app_role.dispose()


@postgres_only
def test_readyz_and_the_start_up_log_warn_when_the_role_owns_the_tables(pair, caplog):
    from portal import db_roles

    engine = pair.engine_as(pair.owner)
    try:
        with engine.connect() as conn:
            reason = db_roles.unprotected_reason(conn)
        assert reason is not None
        assert "sở hữu các bảng nhật ký" in reason
        db_roles.warn_at_start(engine, logging.getLogger("portal.test_db_roles"))
        assert "Nhật ký kiểm tra không được bảo vệ" in caplog.text
    finally:
        engine.dispose()
    app_engine = pair.engine_as(pair.app_role)
    try:
        with app_engine.connect() as conn:
            assert db_roles.unprotected_reason(conn) is None
    finally:
        app_engine.dispose()


def test_roles_do_not_apply_to_sqlite(app, db):
    if DATABASE != "sqlite":
        pytest.skip("SQLite only")
    result = _cli(app, "db-roles", "--owner", "qlvb_owner", "--app", "qlvb_app")
    assert result.exit_code == 1
    assert "chỉ áp dụng cho PostgreSQL" in result.output
    assert "PORTAL_AUDIT_ANCHOR_FILE" in result.output
