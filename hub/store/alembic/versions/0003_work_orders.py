"""work orders: work orders, their timeline, occurrences and SLA clocks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
# SQLite autoincrements only an INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('work_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('area', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('fault', sa.String(length=64), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', UTC_DATETIME, nullable=False),
    sa.Column('respond_by', UTC_DATETIME, nullable=True),
    sa.Column('arrive_by', UTC_DATETIME, nullable=True),
    sa.Column('resolve_by', UTC_DATETIME, nullable=True),
    sa.Column('due_at', UTC_DATETIME, nullable=True),
    sa.Column('accepted_at', UTC_DATETIME, nullable=True),
    sa.Column('started_at', UTC_DATETIME, nullable=True),
    sa.Column('resolved_at', UTC_DATETIME, nullable=True),
    sa.Column('closed_at', UTC_DATETIME, nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('fault_key', sa.String(length=160), nullable=True),
    sa.Column('open_key', sa.String(length=160), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('checklist_result', sa.JSON(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.String(length=500), nullable=False),
    sa.Column('sla_flags', sa.JSON(), nullable=False),
    sa.Column('cause', sa.JSON(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_work_orders_site_id_sites')),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'],
        name=op.f('fk_work_orders_building_id_buildings')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
        name=op.f('fk_work_orders_unit_id_units')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_work_orders_device_id_devices')),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'],
        name=op.f('fk_work_orders_asset_id_assets')),
    sa.ForeignKeyConstraint(['assignee_id'], ['accounts.id'],
        name=op.f('fk_work_orders_assignee_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_orders')),
    sa.UniqueConstraint('open_key', name=op.f('uq_work_orders_open_key'))
    )
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.create_index('ix_work_orders_site_status', ['site_id', 'status'], unique=False)
        for column in ('unit_id', 'device_id', 'asset_id', 'assignee_id', 'fault_key'):
            batch_op.create_index(batch_op.f(f'ix_work_orders_{column}'), [column],
                                  unique=False)

    op.create_table('work_order_timeline',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('rule', sa.String(length=200), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['work_orders.id'],
        name=op.f('fk_work_order_timeline_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_timeline'))
    )
    op.create_table('work_order_occurrences',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['work_orders.id'],
        name=op.f('fk_work_order_occurrences_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_occurrences'))
    )
    op.create_table('work_order_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=3), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('chargeable', sa.Boolean(), nullable=False),
    sa.Column('added_at', UTC_DATETIME, nullable=True),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['work_orders.id'],
        name=op.f('fk_work_order_materials_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_materials'))
    )
    for table in ('work_order_timeline', 'work_order_occurrences', 'work_order_materials'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_order_id'), ['order_id'],
                                  unique=False)

    op.create_table('work_order_roster',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('on_duty', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_work_order_roster_site_id_sites')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
        name=op.f('fk_work_order_roster_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_roster')),
    sa.UniqueConstraint('site_id', 'account_id',
        name=op.f('uq_work_order_roster_site_id_account_id'))
    )
    with op.batch_alter_table('work_order_roster', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_order_roster_account_id'), ['account_id'],
                              unique=False)

    op.create_table('work_order_rotation',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('last_account_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_work_order_rotation_site_id_sites')),
    sa.PrimaryKeyConstraint('site_id', 'category', name=op.f('pk_work_order_rotation'))
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MariaDB, which
    # refuses to drop an index a foreign key needs.
    for table in ('work_order_rotation', 'work_order_roster', 'work_order_materials',
                  'work_order_occurrences', 'work_order_timeline', 'work_orders'):
        op.drop_table(table)
