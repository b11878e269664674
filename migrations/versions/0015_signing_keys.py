"""Signing keys where officials keep them (issue 16): each registered certificate says where its key is
(the development key files, a PKCS#11 token or HSM by token and key label, or the person's own token
outside the server) and keeps the certificate itself; verdicts get room for "Có dữ liệu được thêm sau khi ký".

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 19:40:00+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('signing_certificates') as batch:
        batch.add_column(sa.Column('backend', sa.String(length=10), nullable=False, server_default='external'))
        batch.add_column(sa.Column('token_label', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('key_label', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('certificate_der', sa.LargeBinary(), nullable=True))
    op.execute("UPDATE signing_certificates SET backend = 'dev' WHERE key_name IS NOT NULL")
    for table in ('incoming_files', 'incoming_documents'):
        with op.batch_alter_table(table) as batch:
            batch.alter_column('signature_verdict', existing_type=sa.String(length=20), type_=sa.String(length=40))


def downgrade() -> None:
    for table in ('incoming_files', 'incoming_documents'):
        with op.batch_alter_table(table) as batch:
            batch.alter_column('signature_verdict', existing_type=sa.String(length=40), type_=sa.String(length=20))
    with op.batch_alter_table('signing_certificates') as batch:
        batch.drop_column('certificate_der')
        batch.drop_column('key_label')
        batch.drop_column('token_label')
        batch.drop_column('backend')
