"""access control: credentials, visitor passes, access log

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('access_doors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'],
        name=op.f('fk_access_doors_building_id_buildings')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'],
        name=op.f('fk_access_doors_device_id_devices')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_access_doors_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_doors')),
    sa.UniqueConstraint('device_id', name=op.f('uq_access_doors_device_id'))
    )
    with op.batch_alter_table('access_doors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_doors_site_id'), ['site_id'], unique=False)

    op.create_table('access_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('issued_at', UTC_DATETIME, nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('live_key', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', UTC_DATETIME, nullable=True),
    sa.Column('revoked_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'],
        name=op.f('fk_access_credentials_resident_id_residents')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_access_credentials_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_credentials')),
    sa.UniqueConstraint('site_id', 'kind', 'live_key',
        name=op.f('uq_access_credentials_site_id_kind_live_key'))
    )
    with op.batch_alter_table('access_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_credentials_resident_id'), ['resident_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_access_credentials_secret'), ['secret'],
                              unique=False)

    op.create_table('access_visitor_passes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=False),
    sa.Column('visitor_name', sa.String(length=100), nullable=False),
    sa.Column('visitor_phone', sa.String(length=20), nullable=False),
    sa.Column('valid_from', UTC_DATETIME, nullable=False),
    sa.Column('valid_until', UTC_DATETIME, nullable=False),
    sa.Column('entries_allowed', sa.Integer(), nullable=False),
    sa.Column('entries_used', sa.Integer(), nullable=False),
    sa.Column('last_entry_at', UTC_DATETIME, nullable=True),
    sa.Column('plate', sa.String(length=16), nullable=True),
    sa.Column('free_minutes', sa.Integer(), nullable=False),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTC_DATETIME, nullable=True),
    sa.Column('decision_note', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['issued_by'], ['residents.id'],
        name=op.f('fk_access_visitor_passes_issued_by_residents')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_access_visitor_passes_site_id_sites')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
        name=op.f('fk_access_visitor_passes_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_visitor_passes'))
    )
    with op.batch_alter_table('access_visitor_passes', schema=None) as batch_op:
        batch_op.create_index('ix_access_visitor_passes_site_plate', ['site_id', 'plate'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_access_visitor_passes_unit_id'), ['unit_id'],
                              unique=False)

    op.create_table('access_log',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('door_id', sa.Integer(), nullable=True),
    sa.Column('presented', sa.String(length=32), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('visitor_pass_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('command_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_access_log_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_resident_id'), ['resident_id'],
                              unique=False)
        batch_op.create_index('ix_access_log_site_at', ['site_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_log_visitor_pass_id'), ['visitor_pass_id'],
                              unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MariaDB, which
    # refuses to drop an index a foreign key needs.
    op.drop_table('access_log')
    op.drop_table('access_visitor_passes')
    op.drop_table('access_credentials')
    op.drop_table('access_doors')
