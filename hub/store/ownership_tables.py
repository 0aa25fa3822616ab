"""Tables of ownership history and leases. Mapped by `map_ownership`."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, Numeric, String, Table
from sqlalchemy.orm import registry, relationship

from hub.domain.ownership import Lease, LeaseTenant, OwnerShare, Ownership, TransferReason
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime

ownerships = Table(
    "ownerships", metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("units.id"), nullable=False, index=True),
    Column("started_on", Date, nullable=False),
    Column("ended_on", Date, nullable=True),
    Column("reason", EnumText(TransferReason), nullable=False),
    Column("document_ref", String(100), nullable=False),
    Column("note", String(500), nullable=False, default=""),
    Column("recorded_by", Integer, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("open_unit_id", Integer, nullable=True, unique=True),
)

ownership_owners = Table(
    "ownership_owners", metadata,
    Column("id", Integer, primary_key=True),
    Column("ownership_id", ForeignKey("ownerships.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("resident_id", ForeignKey("residents.id"), nullable=False, index=True),
    Column("share", Numeric(5, 2), nullable=False),
)

unit_leases = Table(
    "unit_leases", metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("units.id"), nullable=False, index=True),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("monthly_rent", Numeric(12, 2), nullable=True),
    Column("document_ref", String(100), nullable=False),
    Column("recorded_by", Integer, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

unit_lease_tenants = Table(
    "unit_lease_tenants", metadata,
    Column("id", Integer, primary_key=True),
    Column("lease_id", ForeignKey("unit_leases.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("resident_id", ForeignKey("residents.id"), nullable=False, index=True),
)


def map_ownership(mappers: registry) -> None:
    """Called by hub.store.mapping.start_mappers."""
    mappers.map_imperatively(OwnerShare, ownership_owners)
    mappers.map_imperatively(Ownership, ownerships, properties={
        "owners": relationship(OwnerShare, lazy="selectin", cascade="all, delete-orphan",
                               order_by=ownership_owners.c.id),
    })
    mappers.map_imperatively(LeaseTenant, unit_lease_tenants)
    mappers.map_imperatively(Lease, unit_leases, properties={
        "tenants": relationship(LeaseTenant, lazy="selectin", cascade="all, delete-orphan",
                                order_by=unit_lease_tenants.c.id),
    })
