"""parking registry: lots, lanes, spaces, vehicles, monthly passes, plate lists

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade() -> None:
    op.create_table('parking_lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('temporary_capacity', sa.Integer(), nullable=False),
    sa.Column('tariff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['parking_lots.id'],
        name=op.f('fk_parking_lots_parent_id_parking_lots')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_parking_lots_site_id_sites')),
    sa.ForeignKeyConstraint(['tariff_id'], ['parking_tariffs.id'],
        name=op.f('fk_parking_lots_tariff_id_parking_tariffs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_lots')),
    sa.UniqueConstraint('site_id', 'code', name=op.f('uq_parking_lots_site_id_code'))
    )
    op.create_index(op.f('ix_parking_lots_site_id'), 'parking_lots', ['site_id'], unique=False)

    op.create_table('parking_lanes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=63), nullable=False),
    sa.Column('direction', sa.String(length=32), nullable=False),
    sa.Column('camera_device_id', sa.Integer(), nullable=False),
    sa.Column('barrier_device_id', sa.Integer(), nullable=False),
    sa.Column('display_device_id', sa.Integer(), nullable=True),
    sa.Column('vehicle_classes', sa.JSON(), nullable=False),
    sa.Column('plate_colors', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['barrier_device_id'], ['devices.id'],
        name=op.f('fk_parking_lanes_barrier_device_id_devices')),
    sa.ForeignKeyConstraint(['camera_device_id'], ['devices.id'],
        name=op.f('fk_parking_lanes_camera_device_id_devices')),
    sa.ForeignKeyConstraint(['display_device_id'], ['devices.id'],
        name=op.f('fk_parking_lanes_display_device_id_devices')),
    sa.ForeignKeyConstraint(['lot_id'], ['parking_lots.id'],
        name=op.f('fk_parking_lanes_lot_id_parking_lots')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_parking_lanes_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_lanes')),
    sa.UniqueConstraint('camera_device_id', 'code',
        name=op.f('uq_parking_lanes_camera_device_id_code')),
    sa.UniqueConstraint('site_id', 'code', name=op.f('uq_parking_lanes_site_id_code'))
    )
    op.create_index(op.f('ix_parking_lanes_lot_id'), 'parking_lanes', ['lot_id'], unique=False)

    op.create_table('parking_spaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=63), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['lot_id'], ['parking_lots.id'],
        name=op.f('fk_parking_spaces_lot_id_parking_lots')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_parking_spaces_site_id_sites')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
        name=op.f('fk_parking_spaces_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_spaces')),
    sa.UniqueConstraint('lot_id', 'code', name=op.f('uq_parking_spaces_lot_id_code'))
    )
    op.create_index(op.f('ix_parking_spaces_site_id'), 'parking_spaces', ['site_id'], unique=False)
    op.create_index(op.f('ix_parking_spaces_unit_id'), 'parking_spaces', ['unit_id'], unique=False)

    op.create_table('parking_vehicles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('space_id', sa.Integer(), nullable=True),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('plate_color', sa.String(length=32), nullable=False),
    sa.Column('vehicle_class', sa.String(length=32), nullable=False),
    sa.Column('new_energy', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'],
        name=op.f('fk_parking_vehicles_resident_id_residents')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_parking_vehicles_site_id_sites')),
    sa.ForeignKeyConstraint(['space_id'], ['parking_spaces.id'],
        name=op.f('fk_parking_vehicles_space_id_parking_spaces')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
        name=op.f('fk_parking_vehicles_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_vehicles')),
    sa.UniqueConstraint('site_id', 'plate', name=op.f('uq_parking_vehicles_site_id_plate'))
    )
    op.create_index(op.f('ix_parking_vehicles_resident_id'), 'parking_vehicles', ['resident_id'],
                    unique=False)
    op.create_index(op.f('ix_parking_vehicles_space_id'), 'parking_vehicles', ['space_id'],
                    unique=False)
    op.create_index(op.f('ix_parking_vehicles_unit_id'), 'parking_vehicles', ['unit_id'],
                    unique=False)

    op.create_table('parking_passes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('vehicle_id', sa.Integer(), nullable=True),
    sa.Column('lot_ids', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('fee_ref', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_parking_passes_site_id_sites')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['parking_vehicles.id'],
        name=op.f('fk_parking_passes_vehicle_id_parking_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_passes'))
    )
    op.create_index('ix_parking_passes_site_plate', 'parking_passes', ['site_id', 'plate'],
                    unique=False)
    op.create_index(op.f('ix_parking_passes_vehicle_id'), 'parking_passes', ['vehicle_id'],
                    unique=False)

    op.create_table('parking_plate_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('list', sa.String(length=32), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('valid_from', UTC_DATETIME, nullable=False),
    sa.Column('valid_to', UTC_DATETIME, nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_parking_plate_lists_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_plate_lists'))
    )
    op.create_index('ix_parking_plate_lists_site_plate', 'parking_plate_lists',
                    ['site_id', 'plate'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MariaDB, which
    # refuses to drop an index a foreign key needs.
    op.drop_table('parking_plate_lists')
    op.drop_table('parking_passes')
    op.drop_table('parking_vehicles')
    op.drop_table('parking_spaces')
    op.drop_table('parking_lanes')
    op.drop_table('parking_lots')
