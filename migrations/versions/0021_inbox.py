"""The inbox "Việc của tôi" (issue 18 item 1): every work item waiting for people, and its counts per owner,
queue and due day, kept in the transaction that moves the work. Existing work is filled by
``portal inbox rebuild`` (``db-upgrade`` runs it after upgrading).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 23:00:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'work_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('owner_kind', sa.String(length=8), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('queue', sa.String(length=40), nullable=False),
        sa.Column('due_day', sa.Date(), nullable=True),
        sa.Column('due_at', portal.db.UTCDateTime(), nullable=True),
        sa.Column('urgency', sa.SmallInteger(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('reference', sa.String(length=120), nullable=False),
        sa.Column('since', portal.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_work_items')),
        sa.UniqueConstraint('source', 'subject_id', 'owner_kind', 'owner_id', 'queue', name='uq_work_items_key'),
    )
    op.create_index('ix_work_items_owner', 'work_items', ['owner_kind', 'owner_id', 'due_day', 'id'])
    op.create_table(
        'work_counts',
        sa.Column('owner_kind', sa.String(length=8), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('queue', sa.String(length=40), nullable=False),
        sa.Column('due_day', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('owner_kind', 'owner_id', 'queue', 'due_day', name=op.f('pk_work_counts')),
    )


def downgrade() -> None:
    op.drop_table('work_counts')
    op.drop_index('ix_work_items_owner', table_name='work_items')
    op.drop_table('work_items')
