"""Tables of the parking registry (lots, lanes, spaces, vehicles, monthly passes, plate lists)
and their classical mapping onto hub.domain.parking.registry.

A plate's standing is read on the barrier's critical path, so every table holding plates is
indexed by (site, plate): the gate's two queries are index lookups.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import registry

from hub.domain.parking.registry import (
    Lane,
    Lot,
    MonthlyPass,
    PlateList,
    PlateListEntry,
    Space,
    SpaceKind,
    Vehicle,
)
from hub.domain.parking.standing import Direction
from hub.domain.parking.tariff import PlateColor, VehicleClass
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime

parking_lots = Table(
    "parking_lots", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("code", String(63), nullable=False),
    Column("name", String(200), nullable=False),
    Column("parent_id", ForeignKey("parking_lots.id"), nullable=True),
    Column("temporary_capacity", Integer, nullable=False),
    Column("tariff_id", ForeignKey("parking_tariffs.id"), nullable=True),
    UniqueConstraint("site_id", "code"),
)

parking_lanes = Table(
    "parking_lanes", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("lot_id", ForeignKey("parking_lots.id"), nullable=False, index=True),
    Column("code", String(63), nullable=False),
    Column("direction", EnumText(Direction), nullable=False),
    Column("camera_device_id", ForeignKey("devices.id"), nullable=False),
    Column("barrier_device_id", ForeignKey("devices.id"), nullable=False),
    Column("display_device_id", ForeignKey("devices.id"), nullable=True),
    Column("vehicle_classes", JSON, nullable=False),
    Column("plate_colors", JSON, nullable=False),
    UniqueConstraint("site_id", "code"),
    # What a camera's plate event is looked up by.
    UniqueConstraint("camera_device_id", "code"),
)

parking_spaces = Table(
    "parking_spaces", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("lot_id", ForeignKey("parking_lots.id"), nullable=False),
    Column("code", String(63), nullable=False),
    Column("kind", EnumText(SpaceKind), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=True, index=True),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    UniqueConstraint("lot_id", "code"),
)

parking_vehicles = Table(
    "parking_vehicles", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False, index=True),
    Column("resident_id", ForeignKey("residents.id"), nullable=True, index=True),
    Column("space_id", ForeignKey("parking_spaces.id"), nullable=True, index=True),
    Column("plate", String(16), nullable=False),
    Column("plate_color", EnumText(PlateColor), nullable=False),
    Column("vehicle_class", EnumText(VehicleClass), nullable=False),
    Column("new_energy", Boolean, nullable=False),
    Column("note", String(200), nullable=False),
    UniqueConstraint("site_id", "plate"),
)

parking_passes = Table(
    "parking_passes", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("plate", String(16), nullable=False),
    Column("vehicle_id", ForeignKey("parking_vehicles.id"), nullable=True, index=True),
    Column("lot_ids", JSON, nullable=False),  # [] for every lot of the site
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("grace_days", Integer, nullable=False),
    Column("fee_ref", String(200), nullable=False),
    Index("ix_parking_passes_site_plate", "site_id", "plate"),
)

parking_plate_lists = Table(
    "parking_plate_lists", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("list", EnumText(PlateList), nullable=False),
    Column("plate", String(16), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_to", UtcDateTime, nullable=True),
    Index("ix_parking_plate_lists_site_plate", "site_id", "plate"),
)


def map_parking_registry(mappers: registry) -> None:
    """Called by hub.store.mapping.start_mappers."""
    mappers.map_imperatively(Lot, parking_lots)
    mappers.map_imperatively(Lane, parking_lanes)
    mappers.map_imperatively(Space, parking_spaces)
    mappers.map_imperatively(Vehicle, parking_vehicles)
    mappers.map_imperatively(MonthlyPass, parking_passes)
    mappers.map_imperatively(PlateListEntry, parking_plate_lists)
