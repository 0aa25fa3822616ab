"""Tables of parking payments (online, for one session) and the provider events applied to
them; classical mapping onto hub.domain.parking.prepaid. Money is Numeric(14, 2)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, Numeric, String, Table, UniqueConstraint
from sqlalchemy.orm import registry

from hub.domain.billing.ledger import PaymentStatus
from hub.domain.parking.prepaid import ParkingPayment, ParkingPaymentEvent, PaySource
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime

parking_payments = Table(
    "parking_payments", metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("parking_sessions.id"), nullable=False),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("source", EnumText(PaySource), nullable=False),
    Column("status", EnumText(PaymentStatus), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", Integer, nullable=True),
    Column("provider", String(32), nullable=False),
    Column("provider_ref", String(64), nullable=True),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("paid_until", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("provider", "provider_ref"),
    Index("ix_parking_payments_session_status", "session_id", "status"),
)

# One row per provider event: a replayed callback finds its event here and changes nothing.
parking_payment_events = Table(
    "parking_payment_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("payment_id", ForeignKey("parking_payments.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("provider", "event_id"),
)


def map_parking_payments(mapper_registry: registry) -> None:
    mapper_registry.map_imperatively(ParkingPayment, parking_payments,
                                     version_id_col=parking_payments.c.version)
    mapper_registry.map_imperatively(ParkingPaymentEvent, parking_payment_events)
