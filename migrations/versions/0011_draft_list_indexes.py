"""Indexes for the draft and outgoing lists at a million documents.

draft_events (actor_id, draft_id): "has this person acted on the draft" was a scan of every
event (1.2 M rows, 95 ms per list at 1,000,000 documents); drafts (organisation_id, id): the
lists walk one organisation newest first instead of every organisation's drafts; on PostgreSQL
an organisation-first trigram index on outgoing subjects for search without diacritics (as 0005
did for incoming documents).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21 11:00:00+07:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('draft_events', schema=None) as batch_op:
        batch_op.create_index('ix_draft_events_actor', ['actor_id', 'draft_id'], unique=False)
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.create_index('ix_drafts_org_id', ['organisation_id', 'id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_outgoing_documents_org_subject_trgm ON outgoing_documents "
                   "USING gin (organisation_id, subject_folded gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_outgoing_documents_org_subject_trgm")
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_drafts_org_id')
    with op.batch_alter_table('draft_events', schema=None) as batch_op:
        batch_op.drop_index('ix_draft_events_actor')
