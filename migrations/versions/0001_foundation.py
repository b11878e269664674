"""Foundation: organisations, people, sessions, audit chain, stored files, documents and books.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:47:09.823263+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('document_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('abbreviation', sa.String(length=10), nullable=True),
    sa.Column('is_normative', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_types')),
    sa.UniqueConstraint('name', name=op.f('uq_document_types_name'))
    )
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('people_committee', 'people_council', 'department', 'commune', 'public_service_unit', 'internal_unit', 'advisory_body', 'external', name='orgkind', native_enum=False, length=30), nullable=False),
    sa.Column('is_issuing', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_folded', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=30), nullable=False),
    sa.Column('organ_id', sa.String(length=35), nullable=True),
    sa.Column('legacy_organ_id', sa.String(length=13), nullable=True),
    sa.Column('address', sa.String(length=250), nullable=True),
    sa.Column('email', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('fax', sa.String(length=20), nullable=True),
    sa.Column('website', sa.String(length=100), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['organisations.id'], name=op.f('fk_organisations_owner_id_organisations')),
    sa.ForeignKeyConstraint(['parent_id'], ['organisations.id'], name=op.f('fk_organisations_parent_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('legacy_organ_id', name=op.f('uq_organisations_legacy_organ_id')),
    sa.UniqueConstraint('organ_id', name=op.f('uq_organisations_organ_id'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index('ix_organisations_owner_id', ['owner_id'], unique=False)
        batch_op.create_index('ix_organisations_parent_id', ['parent_id'], unique=False)
        batch_op.create_index('ix_organisations_path', ['path'], unique=False)

    op.create_table('stored_files',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('extension', sa.String(length=5), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_stored_files'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('full_name_folded', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=100), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.Enum('active', 'locked', 'disabled', name='userstatus', native_enum=False, length=20), nullable=False),
    sa.Column('source', sa.Enum('local', 'directory', name='usersource', native_enum=False, length=20), nullable=False),
    sa.Column('directory_id', sa.String(length=64), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('password_changed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('directory_id', name=op.f('uq_users_directory_id')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_full_name_folded', ['full_name_folded'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('occurred_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_audit_log_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_log_seq'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_actor_id', ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_log_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_audit_log_occurred_at', ['occurred_at'], unique=False)

    op.create_table('positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_positions_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_positions_unit_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_positions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_positions'))
    )
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.create_index('ix_positions_organisation_id', ['organisation_id'], unique=False)
        batch_op.create_index('ix_positions_unit_id', ['unit_id'], unique=False)
        batch_op.create_index('ix_positions_user_id', ['user_id'], unique=False)

    op.create_table('register_books',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('in', 'out', name='direction', native_enum=False), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('is_secret', sa.Boolean(), nullable=False),
    sa.Column('notation_template', sa.String(length=60), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_register_books_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_books'))
    )
    with op.batch_alter_table('register_books', schema=None) as batch_op:
        batch_op.create_index('ix_register_books_organisation_id', ['organisation_id'], unique=False)

    op.create_table('auth_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('ended_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=30), nullable=True),
    sa.ForeignKeyConstraint(['position_id'], ['positions.id'], name=op.f('fk_auth_sessions_position_id_positions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions'))
    )
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_auth_sessions_user_id', ['user_id'], unique=False)

    op.create_table('outgoing_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('issued', 'recalled', name='outgoingstatus', native_enum=False, length=10), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('document_type_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.String(length=100), nullable=True),
    sa.Column('identifier', sa.String(length=120), nullable=True),
    sa.Column('issued_amount', sa.SmallInteger(), nullable=True),
    sa.Column('recipients_text', sa.String(length=1000), nullable=True),
    sa.Column('type_name', sa.String(length=100), nullable=False),
    sa.Column('code_number', sa.String(length=11), nullable=True),
    sa.Column('code_notation', sa.String(length=30), nullable=True),
    sa.Column('issued_date', sa.Date(), nullable=True),
    sa.Column('organ_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('subject_folded', sa.String(length=500), nullable=False),
    sa.Column('language', sa.String(length=30), nullable=False),
    sa.Column('page_amount', sa.SmallInteger(), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('signer_position', sa.String(length=100), nullable=True),
    sa.Column('signer_name', sa.String(length=50), nullable=True),
    sa.Column('urgency', sa.SmallInteger(), nullable=False),
    sa.Column('secrecy', sa.SmallInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('main_file_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['register_books.id'], name=op.f('fk_outgoing_documents_book_id_register_books')),
    sa.ForeignKeyConstraint(['document_type_id'], ['document_types.id'], name=op.f('fk_outgoing_documents_document_type_id_document_types')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_outgoing_documents_issued_by_id_users')),
    sa.ForeignKeyConstraint(['main_file_sha256'], ['stored_files.sha256'], name=op.f('fk_outgoing_documents_main_file_sha256_stored_files')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_outgoing_documents_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_outgoing_documents_unit_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_documents')),
    sa.UniqueConstraint('book_id', 'year', 'number', name=op.f('uq_outgoing_documents_book_id_year_number')),
    sa.UniqueConstraint('document_id', name=op.f('uq_outgoing_documents_document_id')),
    sa.UniqueConstraint('identifier', name=op.f('uq_outgoing_documents_identifier')),
    sa.UniqueConstraint('organisation_id', 'year', 'code_number', 'code_notation', name=op.f('uq_outgoing_documents_organisation_id_year_code_number_code_notation'))
    )
    with op.batch_alter_table('outgoing_documents', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_documents_list', ['organisation_id', 'status', 'issued_at'], unique=False)
        batch_op.create_index('ix_outgoing_documents_subject_folded', ['subject_folded'], unique=False)

    op.create_table('position_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('clerk', 'officer', 'unit_head', 'agency_leader', 'format_checker', 'archivist', 'schedule_editor', 'org_admin', 'system_admin', 'overview', name='role', native_enum=False, length=20), nullable=False),
    sa.ForeignKeyConstraint(['position_id'], ['positions.id'], name=op.f('fk_position_roles_position_id_positions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_position_roles')),
    sa.UniqueConstraint('position_id', 'role', name=op.f('uq_position_roles_position_id_role'))
    )
    with op.batch_alter_table('position_roles', schema=None) as batch_op:
        batch_op.create_index('ix_position_roles_role', ['role'], unique=False)

    op.create_table('register_counters',
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['register_books.id'], name=op.f('fk_register_counters_book_id_register_books')),
    sa.PrimaryKeyConstraint('book_id', 'year', name=op.f('pk_register_counters'))
    )
    op.create_table('incoming_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('01', '02', '03', '03p', '04', '05', '06', '15', name='incomingstatus', native_enum=False), nullable=False),
    sa.Column('channel', sa.Enum('truc', 'lgsp', 'noi_bo', 'giay', 'email', 'khac', name='channel', native_enum=False, length=10), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('arrival_number', sa.Integer(), nullable=True),
    sa.Column('arrived_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('registered_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('sender_organisation_id', sa.Integer(), nullable=True),
    sa.Column('sender_organ_id', sa.String(length=35), nullable=True),
    sa.Column('source_outgoing_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.String(length=100), nullable=True),
    sa.Column('to_places', sa.String(length=1000), nullable=True),
    sa.Column('has_paper', sa.Boolean(), nullable=False),
    sa.Column('type_name', sa.String(length=100), nullable=False),
    sa.Column('code_number', sa.String(length=11), nullable=True),
    sa.Column('code_notation', sa.String(length=30), nullable=True),
    sa.Column('issued_date', sa.Date(), nullable=True),
    sa.Column('organ_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('subject_folded', sa.String(length=500), nullable=False),
    sa.Column('language', sa.String(length=30), nullable=False),
    sa.Column('page_amount', sa.SmallInteger(), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('signer_position', sa.String(length=100), nullable=True),
    sa.Column('signer_name', sa.String(length=50), nullable=True),
    sa.Column('urgency', sa.SmallInteger(), nullable=False),
    sa.Column('secrecy', sa.SmallInteger(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('main_file_sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['register_books.id'], name=op.f('fk_incoming_documents_book_id_register_books')),
    sa.ForeignKeyConstraint(['main_file_sha256'], ['stored_files.sha256'], name=op.f('fk_incoming_documents_main_file_sha256_stored_files')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_incoming_documents_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_incoming_documents_registered_by_id_users')),
    sa.ForeignKeyConstraint(['sender_organisation_id'], ['organisations.id'], name=op.f('fk_incoming_documents_sender_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['source_outgoing_id'], ['outgoing_documents.id'], name=op.f('fk_incoming_documents_source_outgoing_id_outgoing_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_documents')),
    sa.UniqueConstraint('book_id', 'year', 'arrival_number', name=op.f('uq_incoming_documents_book_id_year_arrival_number'))
    )
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.create_index('ix_incoming_documents_queue', ['organisation_id', 'status', 'urgency', 'arrived_at'], unique=False)
        batch_op.create_index('ix_incoming_documents_subject_folded', ['subject_folded'], unique=False)

    _audit_upgrade()


def downgrade() -> None:
    _audit_downgrade()
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_documents_subject_folded')
        batch_op.drop_index('ix_incoming_documents_queue')

    op.drop_table('incoming_documents')
    op.drop_table('register_counters')
    with op.batch_alter_table('position_roles', schema=None) as batch_op:
        batch_op.drop_index('ix_position_roles_role')

    op.drop_table('position_roles')
    with op.batch_alter_table('outgoing_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_documents_subject_folded')
        batch_op.drop_index('ix_outgoing_documents_list')

    op.drop_table('outgoing_documents')
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_sessions_user_id')

    op.drop_table('auth_sessions')
    with op.batch_alter_table('register_books', schema=None) as batch_op:
        batch_op.drop_index('ix_register_books_organisation_id')

    op.drop_table('register_books')
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_index('ix_positions_user_id')
        batch_op.drop_index('ix_positions_unit_id')
        batch_op.drop_index('ix_positions_organisation_id')

    op.drop_table('positions')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_occurred_at')
        batch_op.drop_index('ix_audit_log_object')
        batch_op.drop_index('ix_audit_log_actor_id')

    op.drop_table('audit_log')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_full_name_folded')

    op.drop_table('users')
    op.drop_table('stored_files')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_path')
        batch_op.drop_index('ix_organisations_parent_id')
        batch_op.drop_index('ix_organisations_owner_id')

    op.drop_table('organisations')
    op.drop_table('document_types')
    op.drop_table('audit_head')


def _audit_upgrade() -> None:
    """The chain's head row, and triggers that refuse UPDATE and DELETE on the log: the
    application only ever appends (SPEC §13.5)."""
    op.execute("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, '" + "0" * 64 + "')")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log chỉ được ghi thêm (append-only)';
            END $$""")
        op.execute("""CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
                      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""")
        op.execute("""CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log
                          BEGIN SELECT RAISE(ABORT, 'audit_log chỉ được ghi thêm (append-only)'); END""")


def _audit_downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
