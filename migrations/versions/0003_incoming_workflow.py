"""Incoming workflow: files, assignments, history, reminders; list sort key and search indexes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:20:49.432499+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('incoming_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('assignee_user_id', sa.Integer(), nullable=True),
    sa.Column('assignee_unit_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.Enum('chu_tri', 'phoi_hop', 'de_biet', name='assignmentrole', native_enum=False, length=10), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('directive', sa.String(length=2000), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.Enum('moi', 'da_xem', 'dang_xu_ly', 'hoan_thanh', name='assignmentstate', native_enum=False, length=12), nullable=False),
    sa.Column('finished_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_incoming_assignments_assigned_by_id_users')),
    sa.ForeignKeyConstraint(['assignee_unit_id'], ['organisations.id'], name=op.f('fk_incoming_assignments_assignee_unit_id_organisations')),
    sa.ForeignKeyConstraint(['assignee_user_id'], ['users.id'], name=op.f('fk_incoming_assignments_assignee_user_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_incoming_assignments_document_id_incoming_documents')),
    sa.ForeignKeyConstraint(['parent_id'], ['incoming_assignments.id'], name=op.f('fk_incoming_assignments_parent_id_incoming_assignments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_assignments'))
    )
    with op.batch_alter_table('incoming_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_incoming_assignments_deadline', ['deadline'], unique=False)
        batch_op.create_index('ix_incoming_assignments_document_id', ['document_id'], unique=False)
        batch_op.create_index('ix_incoming_assignments_unit', ['assignee_unit_id', 'state'], unique=False)
        batch_op.create_index('ix_incoming_assignments_user', ['assignee_user_id', 'state'], unique=False)

    op.create_table('incoming_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('main', 'attachment', 'result', name='filerole', native_enum=False, length=12), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('view_count', sa.Integer(), nullable=False),
    sa.Column('download_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_incoming_files_document_id_incoming_documents')),
    sa.ForeignKeyConstraint(['sha256'], ['stored_files.sha256'], name=op.f('fk_incoming_files_sha256_stored_files')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_incoming_files_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_files'))
    )
    with op.batch_alter_table('incoming_files', schema=None) as batch_op:
        batch_op.create_index('ix_incoming_files_document_id', ['document_id'], unique=False)

    op.create_table('incoming_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=3), nullable=False),
    sa.Column('status_changed', sa.Boolean(), nullable=False),
    sa.Column('text', sa.String(length=2000), nullable=True),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_incoming_events_actor_id_users')),
    sa.ForeignKeyConstraint(['assignment_id'], ['incoming_assignments.id'], name=op.f('fk_incoming_events_assignment_id_incoming_assignments')),
    sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id'], name=op.f('fk_incoming_events_document_id_incoming_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_events'))
    )
    with op.batch_alter_table('incoming_events', schema=None) as batch_op:
        batch_op.create_index('ix_incoming_events_document_id', ['document_id', 'id'], unique=False)

    op.create_table('incoming_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('nhac_nho', 'phe_binh', 'kiem_diem', 'sap_den_han', 'qua_han', name='reminderkind', native_enum=False, length=12), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=True),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('for_date', sa.Date(), nullable=True),
    sa.Column('seen_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['incoming_assignments.id'], name=op.f('fk_incoming_reminders_assignment_id_incoming_assignments')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_incoming_reminders_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incoming_reminders')),
    sa.UniqueConstraint('assignment_id', 'kind', 'for_date', name=op.f('uq_incoming_reminders_assignment_id_kind_for_date'))
    )
    with op.batch_alter_table('incoming_reminders', schema=None) as batch_op:
        batch_op.create_index('ix_incoming_reminders_assignment_id', ['assignment_id'], unique=False)

    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_type_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('organ_name_folded', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('code_key', sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column('arrival_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('presented_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('presented_at', portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('return_category', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('return_reason', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('completed_at', portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('result_text', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('answer_outgoing_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recall_requested_at', portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('recall_reason', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('recalled_at', portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('recalled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sort_key', sa.String(length=40), nullable=False, server_default=''))
        batch_op.create_index('ix_incoming_documents_code_key', ['organisation_id', 'code_key'], unique=False)
        batch_op.create_index('ix_incoming_documents_org_sort', ['organisation_id', 'sort_key'], unique=False)
        batch_op.create_index('ix_incoming_documents_presented_to', ['presented_to_id'], unique=False)
        batch_op.create_index('ix_incoming_documents_sender', ['sender_organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_incoming_documents_answer_outgoing_id_outgoing_documents'), 'outgoing_documents', ['answer_outgoing_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_incoming_documents_recalled_by_id_users'), 'users', ['recalled_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_incoming_documents_document_type_id_document_types'), 'document_types', ['document_type_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_incoming_documents_presented_to_id_users'), 'users', ['presented_to_id'], ['id'])
    if op.get_bind().dialect.name == "postgresql":
        # diacritics-free substring search on trích yếu and issuing organisation (SPEC §14)
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_incoming_documents_subject_trgm ON incoming_documents "
                   "USING gin (subject_folded gin_trgm_ops)")
        op.execute("CREATE INDEX ix_incoming_documents_organ_trgm ON incoming_documents "
                   "USING gin (organ_name_folded gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_incoming_documents_organ_trgm")
        op.execute("DROP INDEX IF EXISTS ix_incoming_documents_subject_trgm")
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incoming_documents_presented_to_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_incoming_documents_document_type_id_document_types'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_incoming_documents_recalled_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_incoming_documents_answer_outgoing_id_outgoing_documents'), type_='foreignkey')
        batch_op.drop_index('ix_incoming_documents_sender')
        batch_op.drop_index('ix_incoming_documents_presented_to')
        batch_op.drop_index('ix_incoming_documents_org_sort')
        batch_op.drop_index('ix_incoming_documents_code_key')
        batch_op.drop_column('sort_key')
        batch_op.drop_column('recalled_by_id')
        batch_op.drop_column('recalled_at')
        batch_op.drop_column('recall_reason')
        batch_op.drop_column('recall_requested_at')
        batch_op.drop_column('answer_outgoing_id')
        batch_op.drop_column('result_text')
        batch_op.drop_column('completed_at')
        batch_op.drop_column('return_reason')
        batch_op.drop_column('return_category')
        batch_op.drop_column('presented_at')
        batch_op.drop_column('presented_to_id')
        batch_op.drop_column('arrival_date')
        batch_op.drop_column('code_key')
        batch_op.drop_column('organ_name_folded')
        batch_op.drop_column('document_type_id')

    with op.batch_alter_table('incoming_reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_reminders_assignment_id')

    op.drop_table('incoming_reminders')
    with op.batch_alter_table('incoming_events', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_events_document_id')

    op.drop_table('incoming_events')
    with op.batch_alter_table('incoming_files', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_files_document_id')

    op.drop_table('incoming_files')
    with op.batch_alter_table('incoming_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_assignments_user')
        batch_op.drop_index('ix_incoming_assignments_unit')
        batch_op.drop_index('ix_incoming_assignments_document_id')
        batch_op.drop_index('ix_incoming_assignments_deadline')

    op.drop_table('incoming_assignments')
