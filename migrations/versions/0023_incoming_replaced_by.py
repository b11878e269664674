"""Which newer incoming document replaced an earlier one (status "tt", SPEC §5.8).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 10:00:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the status column is a plain VARCHAR(3) (str_enum, no CHECK constraint): the new value "tt" needs no change
    with op.batch_alter_table('incoming_documents') as batch:
        batch.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_incoming_documents_replaced_by_id_incoming_documents'),
                                 'incoming_documents', ['replaced_by_id'], ['id'])


def downgrade() -> None:
    # a replaced document ("tt") goes back to its last status before the replacement (downgraded code knows no "tt")
    op.execute("UPDATE incoming_documents SET status = COALESCE((SELECT e.status FROM incoming_events e "
               "WHERE e.document_id = incoming_documents.id AND e.status <> 'tt' ORDER BY e.id DESC LIMIT 1), '06') "
               "WHERE status = 'tt'")
    with op.batch_alter_table('incoming_documents') as batch:
        batch.drop_constraint(batch.f('fk_incoming_documents_replaced_by_id_incoming_documents'), type_='foreignkey')
        batch.drop_column('replaced_by_id')
