"""Outbox attachments (issue 17 item 6): a message may carry files kept in storage (an issued document sent by
e-mail), named in a JSON list; messages are found by recipient address (the per-recipient delivery status).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 11:00:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('attachments', sa.Text(), nullable=True))
        batch.create_index('ix_outbox_messages_recipient', ['recipient'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_index('ix_outbox_messages_recipient')
        batch.drop_column('attachments')
