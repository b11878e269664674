"""Fixtures shared by the whole suite.

The suite runs once per database: ``PORTAL_TEST_DATABASE=sqlite`` (default) or ``postgresql``.
For PostgreSQL a throwaway database is created on the server named by
``PORTAL_TEST_POSTGRES_URL`` (default: postgres on 127.0.0.1:5432) and dropped afterwards; if no
server answers, every test is reported as skipped, never passed. The schema always comes from the
Alembic migrations, so the tests exercise what production runs.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal import create_app, migrate
from portal.auth import accounts
from portal.auth.models import Role, User
from portal.db import session as db_session
from portal.orgs import services as orgs
from portal.orgs.models import Organisation, OrgKind
from tests.incoming_fixtures import office  # noqa: F401  (an office to walk documents through)
from tests.ldap_fixtures import ldap_settings, slapd  # noqa: F401  (a real OpenLDAP for every test that asks)
from tests.smtp_server import mailer, smtp  # noqa: F401  (a real SMTP server on loopback for every test that asks)

DATABASE = os.environ.get("PORTAL_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "Kiểm-Thử@2026xyz"

# fast hashes in tests; production uses SPEC §13.2's m = 64 MiB, t = 3, p = 4
TEST_SETTINGS = {"TESTING": True, "SECRET_KEY": "test-secret", "AUDIT_KEY": "test-audit-key",
                 "WTF_CSRF_ENABLED": False, "ARGON2_MEMORY_KIB": 1024, "ARGON2_TIME_COST": 1,
                 "ARGON2_PARALLELISM": 1, "RATELIMIT_ENABLED": False}


def pytest_report_header(config: pytest.Config) -> str:
    return f"cơ sở dữ liệu kiểm thử: {DATABASE}"


def _postgres_admin_url() -> str:
    return POSTGRES_URL


def postgres_available() -> str | None:
    """None if reachable, else the reason."""
    try:
        engine = create_engine(_postgres_admin_url(), connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except OperationalError as exc:
        return f"PostgreSQL không kết nối được tại {make_url(POSTGRES_URL).render_as_string(hide_password=True)}: " \
               f"{exc.orig!s}".splitlines()[0]
    return None


def create_postgres_database() -> str:
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """A factory of empty databases of the kind under test, dropped at the end of the session."""
    created: list[str] = []

    def make() -> str:
        if DATABASE == "postgresql":
            reason = postgres_available()
            if reason:
                pytest.skip(reason)
            url = create_postgres_database()
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"
        created.append(url)
        return url

    yield make
    for url in created:
        if url.startswith("postgresql"):
            drop_postgres_database(url)


@pytest.fixture(scope="session")
def database_url(fresh_database_url: Callable[[], str]) -> str:
    url = fresh_database_url()
    migrate.upgrade(url)
    return url


class FreshRequestClient(FlaskClient):
    """Tests keep one app context open (the ``db`` fixture), and Flask reuses it for every request,
    so ``g`` would carry the signed-in person from one client's request into another's. In
    production each request has its own app context; clearing flask-login's cache gives tests the
    same."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if has_app_context():
            for name in ("_login_user", "inbox_counts", "province_name"):  # per-request values
                g.pop(name, None)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    storage_dir = tmp_path_factory.mktemp("storage")
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "STORAGE_DIR": str(storage_dir)})
    app.test_client_class = FreshRequestClient
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """One outer transaction per test, rolled back at the end; commits inside only release a
    savepoint. Requests end with rollback() instead of remove(), so test objects stay attached."""
    with app.app_context():
        conn = app.extensions["engine"].connect()
        outer = conn.begin()
        db_session.remove()
        db_session.configure(bind=conn, join_transaction_mode="create_savepoint")
        original_remove = db_session.remove
        db_session.remove = db_session.rollback  # type: ignore[method-assign]
        try:
            yield db_session()
        finally:
            db_session.remove = original_remove  # type: ignore[method-assign]
            db_session.remove()
            outer.rollback()
            conn.close()
            db_session.configure(bind=app.extensions["engine"])


@pytest.fixture
def client(app: Flask, db: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def storage_dir(app: Flask) -> Path:
    return Path(app.config["STORAGE_DIR"])


class Factory:
    """Organisations and people for tests, built through the same services the portal uses."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.seq = itertools.count(1)
        self._province: Organisation | None = None

    def province(self) -> Organisation:
        if self._province is None:
            root = self.db.query(Organisation).filter(Organisation.parent_id.is_(None),
                                                      Organisation.kind != OrgKind.EXTERNAL).first()
            self._province = root or orgs.create(None, orgs.OrgData(
                name="Ủy ban nhân dân tỉnh Thử Nghiệm", short_name="UBND", kind=OrgKind.PEOPLE_COMMITTEE,
                is_issuing=True, organ_id=f"H9{next(self.seq)}"))
        return self._province

    def organisation(self, name: str | None = None, short_name: str | None = None, **kw: object) -> Organisation:
        n = next(self.seq)
        return orgs.create(None, orgs.OrgData(
            name=name or f"Sở Thử Nghiệm số {n}", short_name=short_name or f"ST{n}", kind=OrgKind.DEPARTMENT,
            is_issuing=True, parent_id=self.province().id, organ_id=f"{self.province().organ_id}.{n:02d}", **kw))

    def unit(self, organisation: Organisation, name: str | None = None) -> Organisation:
        n = next(self.seq)
        return orgs.create(None, orgs.OrgData(
            name=name or f"Phòng Nghiệp vụ {n}", short_name=f"P{n}", kind=OrgKind.INTERNAL_UNIT,
            is_issuing=False, parent_id=organisation.id))

    def person(self, *roles: Role, organisation: Organisation | None = None, unit: Organisation | None = None,
               username: str | None = None, full_name: str | None = None, password: str = PASSWORD,
               title: str = "Chuyên viên") -> User:
        n = next(self.seq)
        organisation = organisation or self.organisation()
        return accounts.create_person(None, accounts.PersonData(
            username=username or f"nguoidung{n}", full_name=full_name or f"Nguyễn Văn {_word(n)}",
            positions=[accounts.PositionData(organisation_id=organisation.id, unit_id=unit.id if unit else None,
                                             title=title, roles=list(roles or (Role.OFFICER,)))]),
            password=password)


def _word(n: int) -> str:
    """Names are letters only; turn a counter into a pronounceable Vietnamese-looking word."""
    syllables = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lâm", "Minh", "Ngọc"]
    return "".join(syllables[int(d)] if i == 0 else syllables[int(d)].lower() for i, d in enumerate(str(n)))


@pytest.fixture
def factory(db: Session) -> Factory:
    return Factory(db)


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., FlaskClient]:
    """Sign a person in through the real form; returns the client."""

    def _login(user: User, password: str = PASSWORD, c: FlaskClient | None = None) -> FlaskClient:
        c = c or client
        resp = c.post("/auth/login", data={"username": user.username, "password": password})
        assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
        return c

    return _login
