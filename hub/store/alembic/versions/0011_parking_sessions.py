"""parking sessions: sessions, gate decisions, charges

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade() -> None:
    op.create_table('parking_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('standing', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('entry_at', UTC_DATETIME, nullable=True),
    sa.Column('entry_lane_id', sa.Integer(), nullable=True),
    sa.Column('entry_decision_id', sa.Integer(), nullable=True),
    sa.Column('exit_at', UTC_DATETIME, nullable=True),
    sa.Column('exit_lane_id', sa.Integer(), nullable=True),
    sa.Column('exit_decision_id', sa.Integer(), nullable=True),
    sa.Column('vehicle_id', sa.Integer(), nullable=True),
    sa.Column('pass_id', sa.Integer(), nullable=True),
    sa.Column('visitor_pass_id', sa.Integer(), nullable=True),
    sa.Column('visitor_free_minutes', sa.Integer(), nullable=False),
    sa.Column('vehicle_class', sa.String(length=16), nullable=True),
    sa.Column('plate_color', sa.String(length=16), nullable=True),
    sa.Column('tariff_id', sa.Integer(), nullable=True),
    sa.Column('tariff_version', sa.Integer(), nullable=True),
    sa.Column('fee', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('paid_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_until', UTC_DATETIME, nullable=True),
    sa.Column('overstay', sa.Boolean(), nullable=False),
    sa.Column('no_entry', sa.Boolean(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('review_reason', sa.String(length=500), nullable=True),
    sa.Column('present_key', sa.String(length=40), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('close_reason', sa.String(length=500), nullable=True),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_parking_sessions_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_sessions')),
    sa.UniqueConstraint('present_key', name=op.f('uq_parking_sessions_present_key'))
    )
    op.create_index('ix_parking_sessions_entry_at', 'parking_sessions', ['entry_at'],
                    unique=False)
    op.create_index('ix_parking_sessions_lot_state', 'parking_sessions', ['lot_id', 'state'],
                    unique=False)
    op.create_index('ix_parking_sessions_site_plate', 'parking_sessions', ['site_id', 'plate'],
                    unique=False)

    op.create_table('parking_gate_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('lane_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=32), nullable=False),
    sa.Column('verdict', sa.String(length=32), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('received_at', UTC_DATETIME, nullable=False),
    sa.Column('plate_read', sa.String(length=16), nullable=True),
    sa.Column('plate', sa.String(length=16), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('snapshot_ref', sa.String(length=100), nullable=True),
    sa.Column('camera_device_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('boot', sa.String(length=64), nullable=False),
    sa.Column('by_account', sa.Integer(), nullable=True),
    sa.Column('passed_at', UTC_DATETIME, nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_parking_gate_decisions_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_gate_decisions'))
    )
    op.create_index('ix_parking_gate_decisions_at', 'parking_gate_decisions', ['at'],
                    unique=False)
    op.create_index('ix_parking_gate_decisions_lane_at', 'parking_gate_decisions',
                    ['lane_id', 'at'], unique=False)
    op.create_index(op.f('ix_parking_gate_decisions_session_id'), 'parking_gate_decisions',
                    ['session_id'], unique=False)

    op.create_table('parking_charges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('plate', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('tariff_id', sa.Integer(), nullable=True),
    sa.Column('tariff_version', sa.Integer(), nullable=True),
    sa.Column('paid_by', sa.String(length=32), nullable=True),
    sa.Column('paid_at', UTC_DATETIME, nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['parking_sessions.id'],
        name=op.f('fk_parking_charges_session_id_parking_sessions')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_parking_charges_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_charges')),
    sa.UniqueConstraint('session_id', name=op.f('uq_parking_charges_session_id'))
    )
    op.create_index('ix_parking_charges_site_plate_at', 'parking_charges',
                    ['site_id', 'plate', 'at'], unique=False)

    op.create_table('parking_session_viewers',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['parking_sessions.id'],
        name=op.f('fk_parking_session_viewers_session_id_parking_sessions')),
    sa.PrimaryKeyConstraint('session_id', 'resident_id', name=op.f('pk_parking_session_viewers'))
    )
    op.create_index(op.f('ix_parking_session_viewers_resident_id'), 'parking_session_viewers',
                    ['resident_id'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    op.drop_table('parking_session_viewers')
    op.drop_table('parking_charges')
    op.drop_table('parking_gate_decisions')
    op.drop_table('parking_sessions')
