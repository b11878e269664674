"""Notifications (issue 18 item 2): one notice per person and event (its key), read or not, e-mailed or not; each
person's choice of kinds by e-mail and the daily digest.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 22:30:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('key', sa.String(length=150), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('url', sa.String(length=300), nullable=True),
        sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
        sa.Column('read_at', portal.db.UTCDateTime(), nullable=True),
        sa.Column('emailed', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'key', name='uq_notifications_user_key'),
    )
    op.create_index('ix_notifications_user_unread', 'notifications', ['user_id', 'read_at'])
    op.create_index('ix_notifications_user_id', 'notifications', ['user_id', 'id'])
    op.create_table(
        'notification_settings',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email_kinds', sa.String(length=500), nullable=False),
        sa.Column('digest', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade() -> None:
    op.drop_table('notification_settings')
    op.drop_index('ix_notifications_user_id', table_name='notifications')
    op.drop_index('ix_notifications_user_unread', table_name='notifications')
    op.drop_table('notifications')
