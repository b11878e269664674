"""Outbox: messages written with the change that causes them, sent by the job queue.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:00:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbox_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=150), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('state', sa.Enum('queued', 'sending', 'sent', 'failed', name='messagestate',
                                   native_enum=False, length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
        sa.UniqueConstraint('key', name=op.f('uq_outbox_messages_key')),
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_state_due', ['state', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_state_due')
    op.drop_table('outbox_messages')
