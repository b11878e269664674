"""External agencies: the national directory outside recipients are picked from (issue 17 item 5).

QĐ 20 codes (or the gateway codes real peers use, flagged by code_ok), names and who is in charge, imported
from the axis's agency list or a CSV; one folded column for the type-ahead, with a trigram index on PostgreSQL.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 10:00:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'external_agencies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organ_id', sa.String(length=35), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('in_charge', sa.String(length=200), nullable=False),
        sa.Column('source', sa.Enum('axis', 'csv', 'manual', name='agencysource', native_enum=False, length=10),
                  nullable=False),
        sa.Column('code_ok', sa.Boolean(), nullable=False),
        sa.Column('search_folded', sa.String(length=340), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('imported_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_external_agencies')),
        sa.UniqueConstraint('organ_id', name=op.f('uq_external_agencies_organ_id')),
    )
    with op.batch_alter_table('external_agencies', schema=None) as batch_op:
        batch_op.create_index('ix_external_agencies_search_trgm', ['search_folded'], unique=False,
                              postgresql_using='gin', postgresql_ops={'search_folded': 'gin_trgm_ops'})


def downgrade() -> None:
    with op.batch_alter_table('external_agencies', schema=None) as batch_op:
        batch_op.drop_index('ix_external_agencies_search_trgm')
    op.drop_table('external_agencies')
