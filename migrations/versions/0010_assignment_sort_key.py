"""A copy of the document's sort key on incoming_assignments, and per-person indexes by it.

A participant's list (officers, unit heads) walks the assignment indexes newest first and stops
after one page, instead of walking the whole organisation and checking each document.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21 10:00:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incoming_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_key', sa.String(length=40), server_default='', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE incoming_assignments a SET sort_key = d.sort_key FROM incoming_documents d "
                   "WHERE d.id = a.document_id")
    else:
        op.execute("UPDATE incoming_assignments SET sort_key = (SELECT d.sort_key FROM incoming_documents d "
                   "WHERE d.id = incoming_assignments.document_id)")
    with op.batch_alter_table('incoming_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_assignments_assigned_by_id')
        batch_op.create_index('ix_incoming_assignments_user_sort', ['assignee_user_id', 'sort_key'], unique=False)
        batch_op.create_index('ix_incoming_assignments_unit_sort', ['assignee_unit_id', 'sort_key'], unique=False)
        batch_op.create_index('ix_incoming_assignments_by_sort', ['assigned_by_id', 'sort_key'], unique=False)
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_documents_presented_to')
        batch_op.drop_index('ix_incoming_documents_registered_by')
        batch_op.create_index('ix_incoming_documents_presented_sort', ['presented_to_id', 'sort_key'], unique=False)
        batch_op.create_index('ix_incoming_documents_registered_sort', ['registered_by_id', 'sort_key'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incoming_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_documents_registered_sort')
        batch_op.drop_index('ix_incoming_documents_presented_sort')
        batch_op.create_index('ix_incoming_documents_registered_by', ['registered_by_id'], unique=False)
        batch_op.create_index('ix_incoming_documents_presented_to', ['presented_to_id'], unique=False)
    with op.batch_alter_table('incoming_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_incoming_assignments_by_sort')
        batch_op.drop_index('ix_incoming_assignments_unit_sort')
        batch_op.drop_index('ix_incoming_assignments_user_sort')
        batch_op.create_index('ix_incoming_assignments_assigned_by_id', ['assigned_by_id'], unique=False)
        batch_op.drop_column('sort_key')
