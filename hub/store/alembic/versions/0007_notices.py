"""notices: announcements, read state, notifications, preferences, complaints

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
# SQLite autoincrements only an INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def upgrade() -> None:
    op.create_table('announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('audience', sa.String(length=32), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('publish_at', UTC_DATETIME, nullable=True),
    sa.Column('expires_at', UTC_DATETIME, nullable=True),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('live_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('published_at', UTC_DATETIME, nullable=True),
    sa.Column('withdrawn_at', UTC_DATETIME, nullable=True),
    sa.Column('rule_id', sa.String(length=100), nullable=True),
    sa.Column('notify_pending', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_announcements_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements')),
    sa.UniqueConstraint('live_key', name=op.f('uq_announcements_live_key'))
    )
    _indexes('announcements', 'site_id', 'key')

    op.create_table('announcement_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'],
        name=op.f('fk_announcement_targets_announcement_id_announcements'),
        ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'],
        name=op.f('fk_announcement_targets_building_id_buildings')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
        name=op.f('fk_announcement_targets_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement_targets'))
    )
    _indexes('announcement_targets', 'announcement_id', 'building_id', 'unit_id')

    op.create_table('announcement_reads',
    sa.Column('announcement_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('read_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
        name=op.f('fk_announcement_reads_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'],
        name=op.f('fk_announcement_reads_announcement_id_announcements'),
        ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('announcement_id', 'account_id',
        name=op.f('pk_announcement_reads'))
    )

    op.create_table('notifications',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=True),
    sa.Column('rule_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('read_at', UTC_DATETIME, nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
        name=op.f('fk_notifications_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_notifications_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_account_id_id', ['account_id', 'id'],
                              unique=False)

    op.create_table('notification_preferences',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
        name=op.f('fk_notification_preferences_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_notification_preferences'))
    )

    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('submitted_by', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('respond_by', UTC_DATETIME, nullable=False),
    sa.Column('first_reply_at', UTC_DATETIME, nullable=True),
    sa.Column('escalated_at', UTC_DATETIME, nullable=True),
    sa.Column('closed_at', UTC_DATETIME, nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.String(length=500), nullable=True),
    sa.Column('rated_at', UTC_DATETIME, nullable=True),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'],
        name=op.f('fk_complaints_building_id_buildings')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_complaints_site_id_sites')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_complaints_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints'))
    )
    _indexes('complaints', 'site_id', 'building_id', 'unit_id', 'status')

    op.create_table('complaint_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'],
        name=op.f('fk_complaint_replies_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_replies'))
    )
    _indexes('complaint_replies', 'complaint_id')

    op.create_table('complaint_escalations',
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'],
        name=op.f('fk_complaint_escalations_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('complaint_id', name=op.f('pk_complaint_escalations'))
    )


def downgrade() -> None:
    for table in ('complaint_escalations', 'complaint_replies', 'complaints',
                  'notification_preferences', 'notifications', 'announcement_reads',
                  'announcement_targets', 'announcements'):
        op.drop_table(table)
