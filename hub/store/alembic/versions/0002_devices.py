"""devices: registry columns, state, inbox, gaps, telemetry and rollups, dead letters,
counters, commands and leases

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 13:18:15.118737
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
# SQLite autoincrements only an INTEGER PRIMARY KEY.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('counters',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_counters'))
    )
    op.create_table('dead_letters',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('device_key', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('excerpt', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters'))
    )
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dead_letters_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dead_letters_device_key'),
            ['device_key'], unique=False)

    op.create_table('leases',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('expires_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leases'))
    )
    op.create_table('device_commands',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('issued_at', UTC_DATETIME, nullable=False),
    sa.Column('expires_at', UTC_DATETIME, nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('cause', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('acked_at', UTC_DATETIME, nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_device_commands_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_commands'))
    )
    with op.batch_alter_table('device_commands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_commands_device_id'),
            ['device_id'], unique=False)

    op.create_table('device_state',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=True),
    sa.Column('online_since', UTC_DATETIME, nullable=True),
    sa.Column('offline_reason', sa.String(length=64), nullable=True),
    sa.Column('last_seen', UTC_DATETIME, nullable=True),
    sa.Column('boot', sa.String(length=64), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=True),
    sa.Column('last_values', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_device_state_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_device_state'))
    )
    op.create_table('inbox',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('boot', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_inbox_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('device_id', 'boot', 'seq', name=op.f('uq_inbox_device_id_boot_seq'))
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_received_at'), ['received_at'], unique=False)

    op.create_table('sequence_gaps',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('boot', sa.String(length=64), nullable=False),
    sa.Column('first_missing', sa.BigInteger(), nullable=False),
    sa.Column('last_missing', sa.BigInteger(), nullable=False),
    sa.Column('detected_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_sequence_gaps_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sequence_gaps'))
    )
    with op.batch_alter_table('sequence_gaps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sequence_gaps_device_id'), ['device_id'], unique=False)

    op.create_table('telemetry',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('text', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_telemetry_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_telemetry'))
    )
    with op.batch_alter_table('telemetry', schema=None) as batch_op:
        batch_op.create_index('ix_telemetry_at', ['at'], unique=False)
        batch_op.create_index('ix_telemetry_device_metric_at',
            ['device_id', 'metric', 'at'], unique=False)

    op.create_table('telemetry_1h',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('bucket', UTC_DATETIME, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('sum', sa.Float(), nullable=False),
    sa.Column('min', sa.Float(), nullable=False),
    sa.Column('max', sa.Float(), nullable=False),
    sa.Column('last', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_telemetry_1h_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'metric', 'bucket', name=op.f('pk_telemetry_1h'))
    )
    op.create_table('telemetry_1m',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('bucket', UTC_DATETIME, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('sum', sa.Float(), nullable=False),
    sa.Column('min', sa.Float(), nullable=False),
    sa.Column('max', sa.Float(), nullable=False),
    sa.Column('last', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_telemetry_1m_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', 'metric', 'bucket', name=op.f('pk_telemetry_1m'))
    )
    with op.batch_alter_table('telemetry_1m', schema=None) as batch_op:
        batch_op.create_index('ix_telemetry_1m_bucket', ['bucket'], unique=False)
    # Existing rows (none are expected, but a migration must not assume) get defaults.
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('floor', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('protocol', sa.String(length=32), nullable=False,
                                      server_default='mqtt'))
        batch_op.add_column(sa.Column('connection', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('register_map', sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column('poll_period_s', sa.Float(), nullable=False,
                                      server_default='1'))
        batch_op.add_column(sa.Column('timeout_s', sa.Integer(), nullable=False,
                                      server_default='300'))
        batch_op.add_column(sa.Column('approval', sa.String(length=32), nullable=False,
                                      server_default='active'))
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=True))
    # JSON columns take no literal default on MySQL: fill, then forbid nulls.
    op.execute("UPDATE devices SET connection = '{}', tags = '[]'")
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.alter_column('connection', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('tags', existing_type=sa.JSON(), nullable=False)
        for column in ('name', 'protocol', 'poll_period_s', 'timeout_s', 'approval'):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MariaDB, which
    # refuses to drop an index a foreign key needs.
    for table in ('telemetry_1m', 'telemetry_1h', 'telemetry', 'sequence_gaps', 'inbox',
                  'device_state', 'device_commands', 'leases', 'dead_letters', 'counters'):
        op.drop_table(table)
    with op.batch_alter_table('devices', schema=None) as batch_op:
        for column in ('tags', 'approval', 'timeout_s', 'poll_period_s', 'register_map',
                       'connection', 'protocol', 'floor', 'name'):
            batch_op.drop_column(column)
