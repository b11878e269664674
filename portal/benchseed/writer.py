"""Writing the streamed tables: PostgreSQL ``COPY`` (one connection per table, the secondary
indexes dropped and rebuilt from their definitions), any other database Core ``executemany``
in chunks."""

from __future__ import annotations

from typing import Any

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Engine, Table, insert, text

from portal.benchseed.content import CHUNK
from portal.db import Base

COLUMNS: dict[str, list[str]] = {
    "incoming_documents": [
        "id", "organisation_id", "status", "channel", "book_id", "year", "arrival_number", "arrived_at",
        "registered_at", "registered_by_id", "has_paper", "document_type_id", "organ_name_folded", "code_key",
        "arrival_date", "presented_to_id", "presented_at", "completed_at", "sort_key", "type_name", "code_number",
        "code_notation", "issued_date", "organ_name", "subject", "subject_folded", "language", "page_amount",
        "signer_position", "signer_name", "urgency", "secrecy", "due_date", "created_at", "main_file_sha256",
        "signature_verdict", "result_text"],
    "incoming_assignments": [
        "id", "document_id", "parent_id", "level", "assignee_user_id", "assignee_unit_id", "role", "deadline",
        "directive", "assigned_by_id", "assigned_at", "state", "finished_at", "sort_key"],
    "incoming_files": [
        "id", "document_id", "sha256", "filename", "size", "role", "uploaded_by_id", "uploaded_at", "view_count",
        "download_count", "signature_verdict"],
    "incoming_events": [
        "id", "document_id", "at", "actor_id", "actor_name", "action", "status", "status_changed", "text",
        "assignment_id"],
    "outgoing_documents": [
        "id", "organisation_id", "unit_id", "status", "book_id", "year", "number", "document_type_id", "issued_at",
        "issued_by_id", "document_id", "identifier", "issued_amount", "recipients_text", "file_sha256", "type_name",
        "code_number", "code_notation", "issued_date", "organ_name", "subject", "subject_folded", "language",
        "page_amount", "signer_position", "signer_name", "urgency", "secrecy", "due_date", "main_file_sha256",
        "created_at"],
    "drafts": [
        "id", "organisation_id", "unit_id", "drafter_id", "status", "holder_id", "document_type_id", "type_name",
        "subject", "subject_folded", "urgency", "secrecy", "signer_id", "authority", "signer_title", "due_date",
        "current_version", "frozen_sha256", "signed_sha256", "signed_at", "signed_by_id", "outgoing_id",
        "created_at", "updated_at"],
    "draft_versions": ["id", "draft_id", "number", "sha256", "filename", "size", "note", "uploaded_by_id",
                       "uploaded_at"],
    "draft_events": ["id", "draft_id", "at", "actor_id", "actor_name", "action", "status", "version_number", "text"],
}
STREAMED = tuple(COLUMNS)  # in foreign-key order
ID_TABLES = ("organisations", "users", "positions", "position_roles", "document_types", "register_books",
             *STREAMED)


class _InsertSink:
    """SQLite (and any other database): Core executemany in chunks, tables in foreign-key order."""

    def __init__(self, engine: Engine) -> None:
        self.conn = engine.connect()
        self.trans = self.conn.begin()
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in STREAMED}
        self.pending = 0

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        self.buffers[table].append(row)
        self.pending += 1
        if self.pending >= 4 * CHUNK:
            self.flush()

    def flush(self) -> None:
        for table in STREAMED:
            rows = self.buffers[table]
            if rows:
                columns = COLUMNS[table]
                self.conn.execute(insert(_table(table)), [dict(zip(columns, r, strict=True)) for r in rows])
                rows.clear()
        self.pending = 0

    def close(self) -> None:
        self.flush()
        self.trans.commit()
        self.conn.close()

    def abort(self) -> None:
        self.trans.rollback()
        self.conn.close()


class _CopySink:
    """PostgreSQL: one COPY per table, each on its own connection so they stream side by side;
    foreign-key triggers off (``session_replication_role``: a superuser, as on the bench
    servers) since the rows are consistent by construction."""

    def __init__(self, engine: Engine) -> None:
        self.connections: list[Any] = []
        self.contexts: list[Any] = []  # cursor.copy() is a generator context: keep it referenced
        self.copies: dict[str, Any] = {}
        try:
            for table in STREAMED:
                raw = engine.raw_connection()
                self.connections.append(raw)
                cur = raw.cursor()
                cur.execute("SET session_replication_role = replica")
                # the queued writer sends from a thread: the generator goes on while the server parses
                context = cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN",
                                   writer=QueuedLibpqWriter(cur))
                self.contexts.append(context)
                self.copies[table] = context.__enter__()
        except BaseException:
            self.abort()
            raise

    def write(self, table: str, row: tuple[Any, ...]) -> None:
        self.copies[table].write_row(row)

    def close(self) -> None:
        try:
            for context in self.contexts:
                context.__exit__(None, None, None)
            self.contexts, self.copies = [], {}
            for raw in self.connections:
                raw.commit()
        finally:
            self.abort()

    def abort(self) -> None:
        """Closing a connection in the middle of COPY rolls its transaction back."""
        for raw in self.connections:
            raw.close()
        self.connections, self.contexts, self.copies = [], [], {}


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _secondary_indexes(engine: Engine) -> list[tuple[str, str]]:
    """The streamed tables' indexes that are not constraints, with their definitions."""
    query = text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                 "AND tablename = ANY(:tables) AND indexname NOT IN (SELECT conname FROM pg_constraint)")
    with engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(query, {"tables": list(STREAMED)}).all()]


def _rebuild_indexes(engine: Engine, indexes: list[tuple[str, str]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cur.execute(definition)
        raw.commit()
    finally:
        raw.close()

