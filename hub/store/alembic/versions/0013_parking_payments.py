"""parking payments: paying a session at the exit (QR) or ahead of it from the app

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# Microseconds: without fsp=6, MySQL and MariaDB keep whole seconds (hub.store.types.UtcDateTime).
UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')


def upgrade() -> None:
    op.create_table('parking_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('provider_ref', sa.String(length=64), nullable=True),
    sa.Column('paid_at', UTC_DATETIME, nullable=True),
    sa.Column('paid_until', UTC_DATETIME, nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['parking_sessions.id'],
        name=op.f('fk_parking_payments_session_id_parking_sessions')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'],
        name=op.f('fk_parking_payments_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_payments')),
    sa.UniqueConstraint('provider', 'provider_ref',
                        name=op.f('uq_parking_payments_provider_provider_ref'))
    )
    op.create_index('ix_parking_payments_session_status', 'parking_payments',
                    ['session_id', 'status'], unique=False)

    op.create_table('parking_payment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['parking_payments.id'],
        name=op.f('fk_parking_payment_events_payment_id_parking_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parking_payment_events')),
    sa.UniqueConstraint('provider', 'event_id',
                        name=op.f('uq_parking_payment_events_provider_event_id'))
    )


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB refuses to drop one a foreign key needs).
    op.drop_table('parking_payment_events')
    op.drop_table('parking_payments')
