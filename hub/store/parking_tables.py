"""Tables of parking (so far: tariffs and their versions) and their classical mapping onto
hub.domain.parking. A version's rules are stored as the tariff's own JSON form
(`Tariff.to_dict`), decimals as strings: exact, and read back through the domain's checks."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import registry

from hub.domain.parking.tariff import ParkingTariff, TariffVersion
from hub.store.tables import metadata
from hub.store.types import UtcDateTime

parking_tariffs = Table(
    "parking_tariffs", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("code", String(63), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("site_id", "code"),
)

parking_tariff_versions = Table(
    "parking_tariff_versions", metadata,
    Column("id", Integer, primary_key=True),
    Column("tariff_id", ForeignKey("parking_tariffs.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("effective_from", UtcDateTime, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", Integer, nullable=True),
    UniqueConstraint("tariff_id", "number"),
    UniqueConstraint("tariff_id", "effective_from"),
)


def map_parking(mapper_registry: registry) -> None:
    mapper_registry.map_imperatively(ParkingTariff, parking_tariffs)
    mapper_registry.map_imperatively(TariffVersion, parking_tariff_versions)
