"""ownership: ownership history with owners' shares, leases with their tenants

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def upgrade() -> None:
    op.create_table('ownerships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('document_ref', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', UTC_DATETIME, nullable=False),
    sa.Column('open_unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ownerships_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ownerships')),
    sa.UniqueConstraint('open_unit_id', name=op.f('uq_ownerships_open_unit_id'))
    )
    _indexes('ownerships', 'unit_id')

    op.create_table('ownership_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ownership_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('share', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['ownership_id'], ['ownerships.id'],
        name=op.f('fk_ownership_owners_ownership_id_ownerships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'],
        name=op.f('fk_ownership_owners_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ownership_owners'))
    )
    _indexes('ownership_owners', 'ownership_id', 'resident_id')

    op.create_table('unit_leases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('monthly_rent', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('document_ref', sa.String(length=100), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_leases_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_leases'))
    )
    _indexes('unit_leases', 'unit_id')

    op.create_table('unit_lease_tenants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lease_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['lease_id'], ['unit_leases.id'],
        name=op.f('fk_unit_lease_tenants_lease_id_unit_leases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'],
        name=op.f('fk_unit_lease_tenants_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_lease_tenants'))
    )
    _indexes('unit_lease_tenants', 'lease_id', 'resident_id')


def downgrade() -> None:
    op.drop_table('unit_lease_tenants')
    op.drop_table('unit_leases')
    op.drop_table('ownership_owners')
    op.drop_table('ownerships')
