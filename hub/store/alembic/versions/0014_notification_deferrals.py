"""notification deferrals: texts held back by quiet hours, sent when they end

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('notification_deferrals',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('notification_id', BIG_ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('due_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notification_id', 'channel',
                        name='uq_notification_deferrals_channel'),
    )
    with op.batch_alter_table('notification_deferrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_deferrals_due_at'), ['due_at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('notification_deferrals')
