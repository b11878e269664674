"""Exchange packages (issue 17): every edXML package sent or received through the axis, an LGSP or an imported
file, processed once (transport id; sender, DocumentId, type, receiver); a received file may carry a warning
(its content does not match its name) instead of being refused.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:00:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'exchange_packages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('kind', sa.String(length=6), nullable=False),
        sa.Column('business_type', sa.SmallInteger(), nullable=True),
        sa.Column('status_code', sa.String(length=2), nullable=True),
        sa.Column('transport', sa.String(length=10), nullable=False),
        sa.Column('transport_id', sa.String(length=100), nullable=True),
        sa.Column('dedup_key', sa.String(length=300), nullable=True),
        sa.Column('sender_organ_id', sa.String(length=35), nullable=False),
        sa.Column('receiver_organ_id', sa.String(length=35), nullable=False),
        sa.Column('receiver_name', sa.String(length=300), nullable=False),
        sa.Column('document_id', sa.String(length=100), nullable=False),
        sa.Column('description', sa.String(length=1000), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('warnings', sa.Text(), nullable=True),
        sa.Column('outgoing_document_id', sa.Integer(), nullable=True),
        sa.Column('recipient_id', sa.Integer(), nullable=True),
        sa.Column('incoming_document_id', sa.Integer(), nullable=True),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('created_at', portal.db.UTCDateTime(), nullable=False),
        sa.Column('sent_at', portal.db.UTCDateTime(), nullable=True),
        sa.Column('at', portal.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['sha256'], ['stored_files.sha256']),
        sa.ForeignKeyConstraint(['outgoing_document_id'], ['outgoing_documents.id']),
        sa.ForeignKeyConstraint(['recipient_id'], ['draft_recipients.id']),
        sa.ForeignKeyConstraint(['incoming_document_id'], ['incoming_documents.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('direction', 'transport', 'transport_id', name='uq_exchange_packages_transport_id'),
        sa.UniqueConstraint('direction', 'dedup_key', name='uq_exchange_packages_dedup_key'),
    )
    op.create_index('ix_exchange_packages_outgoing', 'exchange_packages', ['outgoing_document_id'])
    op.create_index('ix_exchange_packages_incoming', 'exchange_packages', ['incoming_document_id'])
    op.create_index('ix_exchange_packages_document_id', 'exchange_packages', ['document_id'])
    op.create_index('ix_exchange_packages_state', 'exchange_packages', ['direction', 'state'])
    with op.batch_alter_table('incoming_files') as batch:
        batch.add_column(sa.Column('warning', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incoming_files') as batch:
        batch.drop_column('warning')
    op.drop_index('ix_exchange_packages_state', table_name='exchange_packages')
    op.drop_index('ix_exchange_packages_document_id', table_name='exchange_packages')
    op.drop_index('ix_exchange_packages_incoming', table_name='exchange_packages')
    op.drop_index('ix_exchange_packages_outgoing', table_name='exchange_packages')
    op.drop_table('exchange_packages')
