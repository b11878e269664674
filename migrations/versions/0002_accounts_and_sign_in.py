"""Accounts and sign-in: lockout counters, password history, temporary-password expiry, notices.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:52:47.082155+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auth_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_failures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_failures'))
    )
    with op.batch_alter_table('auth_failures', schema=None) as batch_op:
        batch_op.create_index('ix_auth_failures_user_id_at', ['user_id', 'at'], unique=False)

    op.create_table('password_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_history_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_history'))
    )
    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.create_index('ix_password_history_user_id', ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', portal.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lock_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('temporary_password_expires_at', portal.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('notice', sa.String(length=500), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notice')
        batch_op.drop_column('temporary_password_expires_at')
        batch_op.drop_column('lock_reason')
        batch_op.drop_column('locked_until')

    with op.batch_alter_table('password_history', schema=None) as batch_op:
        batch_op.drop_index('ix_password_history_user_id')

    op.drop_table('password_history')
    with op.batch_alter_table('auth_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_failures_user_id_at')

    op.drop_table('auth_failures')
