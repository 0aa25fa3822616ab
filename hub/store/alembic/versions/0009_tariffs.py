"""tariffs: parking tariffs of a site and their versions

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade() -> None:
    op.create_table('parking_tariffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_parking_tariffs_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_tariffs')),
    sa.UniqueConstraint('site_id', 'code', name=op.f('uq_parking_tariffs_site_id_code'))
    )
    with op.batch_alter_table('parking_tariffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parking_tariffs_site_id'), ['site_id'],
                              unique=False)

    op.create_table('parking_tariff_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tariff_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('effective_from', UTC_DATETIME, nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['tariff_id'], ['parking_tariffs.id'],
        name=op.f('fk_parking_tariff_versions_tariff_id_parking_tariffs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_tariff_versions')),
    sa.UniqueConstraint('tariff_id', 'effective_from',
        name=op.f('uq_parking_tariff_versions_tariff_id_effective_from')),
    sa.UniqueConstraint('tariff_id', 'number',
        name=op.f('uq_parking_tariff_versions_tariff_id_number'))
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping them first fails on MariaDB, which
    # refuses to drop an index a foreign key needs.
    op.drop_table('parking_tariff_versions')
    op.drop_table('parking_tariffs')
