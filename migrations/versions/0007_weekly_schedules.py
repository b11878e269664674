"""Weekly work schedules: calendars, weeks with their workflow, entries and private iCalendar feeds.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 04:10:17.174184+07:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('schedule_calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_schedule_calendars_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_schedule_calendars_unit_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_calendars')),
    sa.UniqueConstraint('key', name=op.f('uq_schedule_calendars_key'))
    )
    with op.batch_alter_table('schedule_calendars', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_calendars_organisation_id', ['organisation_id'], unique=False)

    op.create_table('schedule_feed_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('ca_nhan', 'co_quan', name='feedkind', native_enum=False, length=10), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_schedule_feed_tokens_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_schedule_feed_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_feed_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_schedule_feed_tokens_token_hash'))
    )
    with op.batch_alter_table('schedule_feed_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_feed_tokens_user_id', ['user_id'], unique=False)

    op.create_table('schedule_weeks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('monday', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('du_thao', 'cho_duyet', 'da_duyet', 'da_cong_bo', name='weekstate', native_enum=False, length=12), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revised_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('returned_by_id', sa.Integer(), nullable=True),
    sa.Column('returned_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('return_comment', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_schedule_weeks_approved_by_id_users')),
    sa.ForeignKeyConstraint(['calendar_id'], ['schedule_calendars.id'], name=op.f('fk_schedule_weeks_calendar_id_schedule_calendars')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_schedule_weeks_published_by_id_users')),
    sa.ForeignKeyConstraint(['returned_by_id'], ['users.id'], name=op.f('fk_schedule_weeks_returned_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_schedule_weeks_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_weeks')),
    sa.UniqueConstraint('calendar_id', 'monday', name=op.f('uq_schedule_weeks_calendar_id_monday'))
    )
    op.create_table('schedule_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('all_day', sa.Boolean(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('content', sa.String(length=1000), nullable=False),
    sa.Column('presiding_text', sa.String(length=300), nullable=True),
    sa.Column('participants_text', sa.String(length=500), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('preparing_unit_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('change_mark', sa.Enum('bo_sung', 'dieu_chinh', 'huy', name='changemark', native_enum=False, length=12), nullable=True),
    sa.Column('changed_at', portal.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('previous', sa.Text(), nullable=True),
    sa.Column('conflicts', sa.Text(), nullable=True),
    sa.Column('uid', sa.String(length=80), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', portal.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_schedule_entries_created_by_id_users')),
    sa.ForeignKeyConstraint(['preparing_unit_id'], ['organisations.id'], name=op.f('fk_schedule_entries_preparing_unit_id_organisations')),
    sa.ForeignKeyConstraint(['week_id'], ['schedule_weeks.id'], name=op.f('fk_schedule_entries_week_id_schedule_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_entries')),
    sa.UniqueConstraint('uid', name=op.f('uq_schedule_entries_uid'))
    )
    with op.batch_alter_table('schedule_entries', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_entries_day', ['day'], unique=False)
        batch_op.create_index('ix_schedule_entries_week_id', ['week_id'], unique=False)

    op.create_table('schedule_entry_participants',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['schedule_entries.id'], name=op.f('fk_schedule_entry_participants_entry_id_schedule_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_schedule_entry_participants_user_id_users')),
    sa.PrimaryKeyConstraint('entry_id', 'user_id', name=op.f('pk_schedule_entry_participants'))
    )
    op.create_table('schedule_entry_presiding',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['schedule_entries.id'], name=op.f('fk_schedule_entry_presiding_entry_id_schedule_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_schedule_entry_presiding_user_id_users')),
    sa.PrimaryKeyConstraint('entry_id', 'user_id', name=op.f('pk_schedule_entry_presiding'))
    )
    op.create_table('schedule_entry_units',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['schedule_entries.id'], name=op.f('fk_schedule_entry_units_entry_id_schedule_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['organisations.id'], name=op.f('fk_schedule_entry_units_unit_id_organisations')),
    sa.PrimaryKeyConstraint('entry_id', 'unit_id', name=op.f('pk_schedule_entry_units'))
    )


def downgrade() -> None:
    op.drop_table('schedule_entry_units')
    op.drop_table('schedule_entry_presiding')
    op.drop_table('schedule_entry_participants')
    with op.batch_alter_table('schedule_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_entries_week_id')
        batch_op.drop_index('ix_schedule_entries_day')

    op.drop_table('schedule_entries')
    op.drop_table('schedule_weeks')
    with op.batch_alter_table('schedule_feed_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_feed_tokens_user_id')

    op.drop_table('schedule_feed_tokens')
    with op.batch_alter_table('schedule_calendars', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_calendars_organisation_id')

    op.drop_table('schedule_calendars')
