"""Working days and legal time limits (issue 18 item 4): the days IT adds to the calendar, extension requests
(gia hạn) of an assignment's deadline, and when an arrival must be registered and a signed draft issued.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 20:00:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'workday_overrides',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.Enum('nghi', 'lam_bu', name='overridekind', native_enum=False, length=8),
                  nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('day'),
    )
    op.create_table(
        'incoming_extensions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', portal.db.UTCDateTime(), nullable=False),
        sa.Column('reason', sa.String(length=1000), nullable=False),
        sa.Column('old_deadline', sa.Date(), nullable=False),
        sa.Column('proposed_deadline', sa.Date(), nullable=False),
        sa.Column('state', sa.Enum('cho_y_kien', 'dong_y', 'tu_choi', name='extensionstate', native_enum=False,
                                   length=12), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', portal.db.UTCDateTime(), nullable=True),
        sa.Column('decision_note', sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(['assignment_id'], ['incoming_assignments.id']),
        sa.ForeignKeyConstraint(['document_id'], ['incoming_documents.id']),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_incoming_extensions_assignment_id', 'incoming_extensions', ['assignment_id', 'id'])
    with op.batch_alter_table('incoming_documents') as batch:
        batch.add_column(sa.Column('register_due_at', portal.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table('drafts') as batch:
        batch.add_column(sa.Column('issue_due_at', portal.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('drafts') as batch:
        batch.drop_column('issue_due_at')
    with op.batch_alter_table('incoming_documents') as batch:
        batch.drop_column('register_due_at')
    op.drop_index('ix_incoming_extensions_assignment_id', table_name='incoming_extensions')
    op.drop_table('incoming_extensions')
    op.drop_table('workday_overrides')
