"""How an assignment row closed when its work was not done (a replaced document's open rows, SPEC §5.8).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 01:30:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incoming_assignments') as batch:
        batch.add_column(sa.Column('outcome', sa.Enum('thay_the', name='assignmentoutcome', native_enum=False,
                                                      length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incoming_assignments') as batch:
        batch.drop_column('outcome')
