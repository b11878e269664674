"""Sign-in timing per failing path: does the answer's time tell who exists, or which names are local?

    .venv/bin/python bench/signin_timing.py [--rounds 15] [--database sqlite|postgresql]

Production argon2 costs (m = 64 MiB, t = 3, p = 4), a real OpenLDAP (tests/ldap_server.py, needs
/usr/sbin/slapd) over StartTLS on loopback, the real /auth/login route. Rounds of the paths are
interleaved so drift hits them alike. Prints the median per path and one JSON line.

What "equal" means here: every failing path does one argon2 verification and, with a directory,
one search and one bind on a fresh TLS connection (as the person, or as a decoy DN), so the
spread of the medians is what the directory's answers and the database differ by, not a hash. A
success is not equalised: whoever has the password learns nothing from its time. While the
directory is down every failure also waits for the connection to fail (refused here; up to
PORTAL_LDAP_TIMEOUT for a directory that hangs), local accounts' included.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.audit_chain import database
from portal import create_app, migrate
from portal.auth import accounts
from portal.auth.models import Role, UserSource, UserStatus
from portal.db import session
from portal.orgs import services as orgs
from portal.orgs.models import OrgKind
from tests.ldap_fixtures import settings_for
from tests.ldap_server import PASSWORD as DIRECTORY_PASSWORD
from tests.ldap_server import DirectoryServer, closed_port_url

LOCAL_PASSWORD = "Kiểm-Thử@2026xyz"  # noqa: S105 - a throwaway account in a throwaway database
WRONG = "Sai-Mật-Khẩu1!"


def seed(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        org = orgs.create(None, orgs.OrgData(name="Ủy ban nhân dân tỉnh Đo Thời Gian", short_name="UBND",
                                             kind=OrgKind.PEOPLE_COMMITTEE, is_issuing=True, organ_id="H99"))

        def person(username: str, status: UserStatus = UserStatus.ACTIVE, **kw) -> None:  # type: ignore[no-untyped-def]
            user = accounts.create_person(None, accounts.PersonData(
                username=username, full_name="Người Đo Thời Gian", **kw,
                positions=[accounts.PositionData(organisation_id=org.id, title="Cán bộ", roles=[Role.OFFICER])]),
                password=LOCAL_PASSWORD if not kw else None)
            user.status = status

        person("local.wrong")
        person("local.locked", UserStatus.LOCKED)
        person("local.disabled", UserStatus.DISABLED)
        person("huong.nt", source=UserSource.DIRECTORY, directory_id=app.config["_HUONG_ID"])
        session.commit()


PATHS = {
    "unknown": ("khong.co.ai", WRONG),
    "local_wrong_password": ("local.wrong", WRONG),
    "local_locked": ("local.locked", LOCAL_PASSWORD),
    "local_disabled": ("local.disabled", LOCAL_PASSWORD),
    "directory_wrong_password": ("huong.nt", WRONG),
    "directory_not_provisioned": ("quan.tv", DIRECTORY_PASSWORD),
}
DOWN_PATHS = {"down_unknown": ("khong.co.ai", WRONG), "down_local_wrong_password": ("local.wrong", WRONG),
              "down_directory_user": ("huong.nt", DIRECTORY_PASSWORD)}


def measure(app, paths: dict[str, tuple[str, str]], rounds: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    client = app.test_client()
    times: dict[str, list[float]] = {name: [] for name in paths}
    for n in range(rounds + 1):
        for name, (username, password) in paths.items():
            started = time.perf_counter()
            resp = client.post("/auth/login", data={"username": username, "password": password},
                               environ_base={"REMOTE_ADDR": f"10.0.{n}.{len(times[name])}"})
            elapsed = (time.perf_counter() - started) * 1000
            assert resp.status_code in (403, 422, 503), (name, resp.status_code)
            if n:  # the first round warms caches and connections
                times[name].append(elapsed)
        with app.app_context():  # five failures would lock local.wrong: forget them
            from sqlalchemy import delete

            from portal.auth.models import AuthFailure, User
            session.execute(delete(AuthFailure))
            session.query(User).filter(User.username == "local.wrong").update({"status": UserStatus.ACTIVE,
                                                                               "locked_until": None})
            session.commit()
    return {name: round(statistics.median(values), 1) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    logging.getLogger("portal.auth.directory").setLevel(logging.ERROR)  # the outage is on purpose
    with tempfile.TemporaryDirectory() as tmp:
        slapd = DirectoryServer(Path(tmp) / "slapd")
        slapd.start()
        url, drop = database(args.database, tmp)
        try:
            migrate.upgrade(url)
            ldap = settings_for(slapd)
            app = create_app({"TESTING": True, "DATABASE_URL": url, "STORAGE_DIR": tmp, "AUDIT_KEY": "bench",
                              "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, **ldap,
                              "_HUONG_ID": slapd.entry_uuid("huong.nt")})
            seed(app)
            up = measure(app, PATHS, args.rounds)
            app.config.update({"LDAP_URL": closed_port_url(), "LDAP_START_TLS": False})
            down = measure(app, DOWN_PATHS, args.rounds)
            app.extensions["engine"].dispose()
        finally:
            slapd.stop()
            drop()
    print(f"argon2id m={app.config['ARGON2_MEMORY_KIB']} KiB t={app.config['ARGON2_TIME_COST']} "
          f"p={app.config['ARGON2_PARALLELISM']}, {args.rounds} rounds, {args.database}; median ms per failing path")
    for name, value in {**up, **down}.items():
        print(f"  {name:28} {value:8.1f}")
    spread_up = max(up.values()) - min(up.values())
    spread_down = max(down.values()) - min(down.values())
    print(f"  spread, directory up: {spread_up:.1f} ms; directory down: {spread_down:.1f} ms (aim: ≤ 50)")
    print(json.dumps({"bench": "signin_timing", "database": args.database, "rounds": args.rounds,
                      "median_ms": {**up, **down}, "spread_up_ms": round(spread_up, 1),
                      "spread_down_ms": round(spread_down, 1)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
