"""facilities: assets extended, maintenance plans, checklists and schedules

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
# SQLite autoincrements only an INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

ASSET_TEXT = ('area', 'model', 'supplier')


def upgrade() -> None:
    # Existing assets get defaults (they are operational until an order says otherwise).
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('floor', sa.Integer(), nullable=True))
        for column in ASSET_TEXT:
            batch_op.add_column(sa.Column(column, sa.String(length=200), nullable=False,
                                          server_default=''))
        batch_op.add_column(sa.Column('purchased_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('installed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('warranty_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=32), nullable=False,
                                      server_default='operational'))
        batch_op.add_column(sa.Column('status_since', UTC_DATETIME, nullable=True))
    with op.batch_alter_table('assets', schema=None) as batch_op:
        for column in (*ASSET_TEXT, 'status'):
            batch_op.alter_column(column, server_default=None)

    op.create_table('asset_events',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=32), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('fault', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'],
        name=op.f('fk_asset_events_asset_id_assets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_events')),
    sa.UniqueConstraint('asset_id', 'order_id', 'change', 'at',
        name=op.f('uq_asset_events_asset_id_order_id_change_at'))
    )
    with op.batch_alter_table('asset_events', schema=None) as batch_op:
        batch_op.create_index('ix_asset_events_asset_at', ['asset_id', 'at'], unique=False)

    op.create_table('maintenance_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('next_due', UTC_DATETIME, nullable=True),
    sa.Column('every_days', sa.Integer(), nullable=True),
    sa.Column('every_months', sa.Integer(), nullable=True),
    sa.Column('anchor', sa.String(length=32), nullable=False),
    sa.Column('every_trips', sa.Integer(), nullable=True),
    sa.Column('every_run_hours', sa.Integer(), nullable=True),
    sa.Column('lead_hours', sa.Integer(), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('usage_base', sa.JSON(), nullable=False),
    sa.Column('requested_at', UTC_DATETIME, nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('order_due_at', UTC_DATETIME, nullable=True),
    sa.Column('order_trigger', sa.String(length=32), nullable=True),
    sa.Column('escalated_at', UTC_DATETIME, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'],
        name=op.f('fk_maintenance_plans_asset_id_assets')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_maintenance_plans_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_plans'))
    )
    with op.batch_alter_table('maintenance_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_plans_asset_id'), ['asset_id'],
            unique=False)

    op.create_table('maintenance_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('due_at', UTC_DATETIME, nullable=False),
    sa.Column('completed_at', UTC_DATETIME, nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('next_due', UTC_DATETIME, nullable=True),
    sa.Column('previous_due', UTC_DATETIME, nullable=True),
    sa.Column('reopened', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'],
        name=op.f('fk_maintenance_runs_asset_id_assets')),
    sa.ForeignKeyConstraint(['plan_id'], ['maintenance_plans.id'],
        name=op.f('fk_maintenance_runs_plan_id_maintenance_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenance_runs'))
    )
    with op.batch_alter_table('maintenance_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_runs_order_id'), ['order_id'],
            unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_runs_plan_id'), ['plan_id'],
            unique=False)

    op.create_table('usage_counters',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('last_raw', sa.Double(), nullable=False),
    sa.Column('total', sa.Double(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('wraps', sa.Integer(), nullable=False),
    sa.Column('resets', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'],
        name=op.f('fk_usage_counters_asset_id_assets')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_usage_counters_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'metric', name=op.f('pk_usage_counters'))
    )
    with op.batch_alter_table('usage_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_counters_asset_id'), ['asset_id'],
            unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    for table in ('usage_counters', 'maintenance_runs', 'maintenance_plans', 'asset_events'):
        op.drop_table(table)
    with op.batch_alter_table('assets', schema=None) as batch_op:
        for column in ('status_since', 'status', 'warranty_until', 'installed_on',
                       'purchased_on', *reversed(ASSET_TEXT), 'floor'):
            batch_op.drop_column(column)
