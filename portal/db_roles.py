"""PostgreSQL roles that keep the audit log append-only even against the portal itself.

The triggers that refuse UPDATE, DELETE and TRUNCATE on ``audit_log`` bind only roles that do not
own the table: an owner (or a superuser) may ``ALTER TABLE … DISABLE TRIGGER`` and then shorten the
log. So two roles: the *owner* owns the schema and every table and runs the migrations
(``PORTAL_MIGRATE_DATABASE_URL``); the *app* role, which the portal runs as, may read and write
ordinary tables but on ``audit_log`` only SELECT and INSERT, and on ``audit_head`` only move the
head forward: ``record`` locks and updates that one row, so the app keeps UPDATE of its two columns
and the ``audit_head_forward_only`` trigger refuses any change but ``last_seq + 1``. Not owning the
tables, the app role cannot drop or disable that trigger either.

SQLite has no roles: whoever can write the file can do anything; the anchors
(portal/audit_anchors.py) are the protection there.
"""

from __future__ import annotations

import re
from logging import Logger

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
AUDIT_TABLES = ("audit_log", "audit_head")
ADVICE = "Chạy `flask --app wsgi portal db-roles --owner … --app …` và cho cổng kết nối bằng vai trò ứng dụng (README)."

HEAD_GUARD = """
CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> OLD.id OR NEW.last_seq <> OLD.last_seq + 1 THEN
        RAISE EXCEPTION 'đầu chuỗi nhật ký chỉ được tiến từng bản ghi một (% → %)', OLD.last_seq, NEW.last_seq;
    END IF;
    RETURN NEW;
END $$"""


class RolesRefused(RuntimeError):
    """The pair cannot be set up as asked; the message is Vietnamese."""


def _q(name: str) -> str:
    if not NAME.fullmatch(name):
        raise RolesRefused(f"Tên vai trò không hợp lệ: {name!r} (chữ thường không dấu, số, dấu gạch dưới; tối đa 63).")
    return f'"{name}"'


def _ensure_role(conn: Connection, name: str) -> str:
    if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
        return f"Vai trò {name} đã có."
    conn.execute(text(f"CREATE ROLE {_q(name)} LOGIN"))
    return f"Đã tạo vai trò {name} (LOGIN, chưa có mật khẩu: đặt bằng ALTER ROLE … PASSWORD)."


def _give_everything_to(conn: Connection, owner: str) -> int:
    """Tables, views and free sequences of the schema, and the audit trigger functions, move to the
    owner (sequences of a serial column follow their table)."""
    moved = 0
    for kind, statement in (("rvmp", "TABLE"), ("S", "SEQUENCE")):
        rows = conn.execute(text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND strpos(:kinds, c.relkind::text) > 0 AND pg_get_userbyid(c.relowner) <> :o"),
            {"kinds": kind, "o": owner}).scalars().all()
        for relname in rows:
            conn.execute(text(f'ALTER {statement} public."{relname}" OWNER TO {_q(owner)}'))
        moved += len(rows)
    for function in ("audit_log_append_only()", "audit_head_forward_only()"):
        conn.execute(text(f"ALTER FUNCTION public.{function} OWNER TO {_q(owner)}"))
    return moved


def _grant(conn: Connection, owner: str, app: str) -> None:
    o, a = _q(owner), _q(app)
    for statement in (
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {a}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {a}",
        f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {a}",
        f"GRANT USAGE ON SCHEMA public TO {a}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {a}",
        f"REVOKE UPDATE, DELETE ON audit_log, audit_head FROM {a}",
        f"REVOKE INSERT ON audit_head FROM {a}",
        f"GRANT UPDATE (last_seq, last_hash) ON audit_head TO {a}",  # record() moves the head; the trigger: +1 only
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {a}",
        # tables the owner's future migrations create are the app's to use (audit tables: run db-roles again)
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {a}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {a}",
    ):
        conn.execute(text(statement))


def set_up(engine: Engine, owner: str, app: str) -> list[str]:
    """Create or update the pair on the migrated database ``engine`` points at, connected as a
    superuser or as the owner. Idempotent; run it again after migrations that add audit tables."""
    if engine.dialect.name != "postgresql":
        raise RolesRefused("Vai trò cơ sở dữ liệu chỉ áp dụng cho PostgreSQL. Trên SQLite ai ghi được tệp cơ sở dữ "
                           "liệu cũng sửa được nhật ký: hãy neo đầu chuỗi ra ngoài (PORTAL_AUDIT_ANCHOR_FILE, "
                           "`portal audit-anchor`, `portal audit-verify --anchors`).")
    if _q(owner) == _q(app):
        raise RolesRefused("Vai trò chủ sở hữu và vai trò ứng dụng phải khác nhau.")
    done: list[str] = []
    with engine.begin() as conn:
        if conn.execute(text("SELECT to_regclass('public.audit_log')")).scalar() is None:
            raise RolesRefused("Cơ sở dữ liệu chưa có bảng nhật ký: chạy `portal db-upgrade` trước.")
        done += [_ensure_role(conn, owner), _ensure_role(conn, app)]
        if conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :n"), {"n": app}).scalar():
            raise RolesRefused(f"Vai trò {app} là superuser: nó bỏ qua mọi quyền và tắt được trigger. "
                               "Hãy chọn một vai trò ứng dụng khác.")
        if conn.execute(text("SELECT pg_has_role(:a, :o, 'MEMBER')"), {"a": app, "o": owner}).scalar():
            conn.execute(text(f"REVOKE {_q(owner)} FROM {_q(app)}"))
            done.append(f"Vai trò {app} không còn là thành viên của {owner}.")
        database = conn.dialect.identifier_preparer.quote_identifier(
            conn.execute(text("SELECT current_database()")).scalar_one())
        conn.execute(text(f"GRANT CONNECT ON DATABASE {database} TO {_q(owner)}, {_q(app)}"))
        conn.execute(text(HEAD_GUARD))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head"))
        conn.execute(text("CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
                          "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()"))
        if conn.execute(text("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'")
                        ).scalar() != owner:
            conn.execute(text(f"ALTER SCHEMA public OWNER TO {_q(owner)}"))  # a superuser's step
        moved = _give_everything_to(conn, owner)
        _grant(conn, owner, app)
    done.append(f"{owner} sở hữu lược đồ public và mọi bảng ({moved} đối tượng vừa chuyển); chạy chuyển đổi bằng "
                "PORTAL_MIGRATE_DATABASE_URL với vai trò này.")
    done.append(f"{app}: đọc/ghi các bảng thường; nhật ký chỉ SELECT/INSERT, đầu chuỗi chỉ tiến; không TRUNCATE, "
                "không ALTER, không tắt được trigger. Đặt PORTAL_DATABASE_URL với vai trò này.")
    return done


def unprotected_reason(conn: Connection) -> str | None:
    """Why the role this connection runs as could shorten the audit log, or None (SQLite: None,
    roles do not apply there)."""
    if conn.dialect.name != "postgresql":
        return None
    row = conn.execute(text(
        "SELECT current_user, r.rolsuper, pg_has_role(current_user, c.relowner, 'MEMBER'), "
        "has_table_privilege('audit_log', 'UPDATE, DELETE, TRUNCATE') "
        "FROM pg_roles r, pg_class c "
        "WHERE r.rolname = current_user AND c.oid = to_regclass('public.audit_log')")).first()
    if row is None:
        return None  # no audit table yet (before the first migration)
    name, superuser, owns, may_change = row
    if superuser:
        why = "là superuser (tắt được trigger, xóa được bản ghi)"
    elif owns:
        why = "sở hữu các bảng nhật ký (tắt được trigger chỉ-ghi-thêm)"
    elif may_change:
        why = "có quyền UPDATE, DELETE hoặc TRUNCATE trên audit_log"
    else:
        return None
    return (f"Nhật ký kiểm tra không được bảo vệ: cổng kết nối PostgreSQL bằng vai trò {name}, vai trò này {why}. "
            + ADVICE)


def warn_at_start(engine: Engine, logger: Logger) -> None:
    """The start-up log says so when the portal runs as a role that could shorten the log; never
    stops start-up (an unreachable database is /healthz's business)."""
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect() as conn:
            reason = unprotected_reason(conn)
    except SQLAlchemyError:
        return
    if reason:
        logger.warning(reason)
