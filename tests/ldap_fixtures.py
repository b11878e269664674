"""pytest fixtures for a real OpenLDAP directory (see ``tests/ldap_server.py``).

``slapd`` (session): the running :class:`~tests.ldap_server.DirectoryServer` — ``url``,
``ldaps_url``, ``ca_file``, ``wrong_ca_file``, ``stop()``, ``start()``, ``ldapwhoami()``,
``entry_uuid()``, ``set_password()``. Skipped when ``/usr/sbin/slapd`` is not installed.

``ldap_settings`` (per test): the portal's ``LDAP_*`` settings pointing at it over StartTLS, as a
fresh dict a test may change. It starts the directory again if an earlier test stopped it.
People and passwords: ``tests.ldap_server.PASSWORDS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ldap_server import PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD, SLAPD, DirectoryServer

__all__ = ["ldap_settings", "slapd"]

# The server of this session, shared should the fixture be defined twice (conftest and a module).
_servers: list[DirectoryServer] = []


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DirectoryServer]:
    if not SLAPD.exists():
        pytest.skip(f"OpenLDAP slapd không có tại {SLAPD} (apt-get install slapd ldap-utils)")
    if _servers:
        yield _servers[0]
        return
    server = DirectoryServer(tmp_path_factory.mktemp("slapd"))
    _servers.append(server)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        _servers.remove(server)


def settings_for(slapd: DirectoryServer) -> dict[str, Any]:
    """The portal's LDAP_* settings for this server (StartTLS with the throwaway CA)."""
    return {
        "LDAP_URL": slapd.url,
        "LDAP_START_TLS": True,
        "LDAP_CA_FILE": str(slapd.ca_file),
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LDAP_USER_BASE": PEOPLE_DN,
        "LDAP_USER_FILTER": "(uid={username})",
        "LDAP_ATTR_ID": "entryUUID",
        "LDAP_ATTR_USERNAME": "uid",
        "LDAP_ATTR_NAME": "cn",
        "LDAP_ATTR_EMAIL": "mail",
        "LDAP_ATTR_TITLE": "title",
        "LDAP_ATTR_UNIT": "ou",
        "LDAP_TIMEOUT": 2,
        "LDAP_KIND": "openldap",
    }


def environment_for(slapd: DirectoryServer) -> dict[str, str]:
    """The same, as PORTAL_* environment variables for a portal started as a separate process."""
    return {f"PORTAL_{key}": str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in settings_for(slapd).items()}


@pytest.fixture
def ldap_settings(slapd: DirectoryServer) -> dict[str, Any]:
    slapd.start()  # no-op when running
    return settings_for(slapd)
