"""Job queue: a row per job (kind, arguments, state, attempts, heartbeat, lease), and the register
book's link to the job that makes it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('args', sa.Text(), nullable=False),
        sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='jobstate', native_enum=False,
                                   length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('not_before', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('lease_owner', sa.String(length=120), nullable=True),
        sa.Column('lease_expires_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('error', sa.String(length=2000), nullable=True),
        sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_state_lease', ['state', 'lease_expires_at'], unique=False)
        batch_op.create_index('ix_jobs_state_not_before', ['state', 'not_before'], unique=False)
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_report_jobs_job_id_jobs'), 'jobs', ['job_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_report_jobs_job_id_jobs'), type_='foreignkey')
        batch_op.drop_column('job_id')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_not_before')
        batch_op.drop_index('ix_jobs_state_lease')
    op.drop_table('jobs')
