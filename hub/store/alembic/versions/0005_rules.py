"""rules: persisted rule state and rule outcomes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
# SQLite autoincrements only an INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('rule_state',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rule_state'))
    )
    op.create_table('rule_outcomes',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('rule_id', sa.String(length=64), nullable=False),
    sa.Column('rule_version', sa.String(length=32), nullable=False),
    sa.Column('command', sa.String(length=40), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('recorded_at', UTC_DATETIME, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('result', sa.String(length=200), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('line', sa.String(length=1000), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_outcomes'))
    )
    with op.batch_alter_table('rule_outcomes', schema=None) as batch_op:
        batch_op.create_index('ix_rule_outcomes_device_id_at', ['device_id', 'at'],
                              unique=False)
        batch_op.create_index('ix_rule_outcomes_rule_id_at', ['rule_id', 'at'], unique=False)
        batch_op.create_index('ix_rule_outcomes_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rule_outcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_rule_outcomes_status')
        batch_op.drop_index('ix_rule_outcomes_rule_id_at')
        batch_op.drop_index('ix_rule_outcomes_device_id_at')
    op.drop_table('rule_outcomes')
    op.drop_table('rule_state')
