"""Tables of facilities and preventive maintenance: plans, their services, the asset's own
history of orders, and the usage counters of linked devices. Mapped by `map_facilities`."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import registry

from hub.domain.facilities import AssetEvent, AssetEventKind, DeviceState
from hub.domain.maintenance import (
    Anchor,
    MaintenancePlan,
    MaintenanceRun,
    Trigger,
    UsageCounter,
)
from hub.domain.outcomes import OrderSource, Priority
from hub.store.device_tables import device_state
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")

maintenance_plans = Table(
    "maintenance_plans", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("asset_id", ForeignKey("assets.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("category", String(64), nullable=False),
    Column("checklist", JSON, nullable=False),
    Column("next_due", UtcDateTime, nullable=True),
    Column("every_days", Integer, nullable=True),
    Column("every_months", Integer, nullable=True),
    Column("anchor", EnumText(Anchor), nullable=False),
    Column("every_trips", Integer, nullable=True),
    Column("every_run_hours", Integer, nullable=True),
    Column("lead_hours", Integer, nullable=False),
    Column("template", String(64), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("usage_base", JSON, nullable=False),
    Column("requested_at", UtcDateTime, nullable=True),
    Column("order_id", Integer, nullable=True),
    Column("order_due_at", UtcDateTime, nullable=True),
    Column("order_trigger", EnumText(Trigger), nullable=True),
    Column("escalated_at", UtcDateTime, nullable=True),
    # Optimistic lock: of two workers changing one plan at once (the scheduler opening or
    # escalating, an order's event completing it), the second fails instead of overwriting.
    Column("version", Integer, nullable=False),
)

# One row per service: the checklist as the order's resolution reported it.
maintenance_runs = Table(
    "maintenance_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", ForeignKey("maintenance_plans.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("asset_id", ForeignKey("assets.id"), nullable=False),
    Column("order_id", Integer, nullable=False, index=True),
    Column("trigger", EnumText(Trigger), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=False),
    Column("checklist", JSON, nullable=False),
    Column("next_due", UtcDateTime, nullable=True),
    Column("previous_due", UtcDateTime, nullable=True),
    Column("reopened", Boolean, nullable=False),
)

# The asset's own record of its orders (from OrderOpened/Resolved/Reopened), so that repair
# history, downtime and MTBF do not depend on the work-order module's schema.
asset_events = Table(
    "asset_events", metadata,
    Column("id", BigId, primary_key=True),
    Column("asset_id", ForeignKey("assets.id"), nullable=False),
    Column("order_id", Integer, nullable=False),
    Column("change", EnumText(AssetEventKind), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("fault", String(100), nullable=False),
    Column("source", EnumText(OrderSource), nullable=False),
    Column("priority", EnumText(Priority), nullable=True),
    # A redelivered event is recorded once.
    UniqueConstraint("asset_id", "order_id", "change", "at"),
)
Index("ix_asset_events_asset_at", asset_events.c.asset_id, asset_events.c.at)

# Per linked device and counter metric: the raw reading last counted and the running total.
usage_counters = Table(
    "usage_counters", metadata,
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("asset_id", ForeignKey("assets.id"), nullable=False, index=True),
    # DOUBLE: MySQL's FLOAT is single precision, which cannot hold a uint32 count exactly.
    Column("last_raw", Double, nullable=False),
    Column("total", Double, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("wraps", Integer, nullable=False),
    Column("resets", Integer, nullable=False),
)


def map_facilities(mappers: registry) -> None:
    """Called by hub.store.mapping.start_mappers. DeviceState is a read-only view of the
    ingestion's device_state rows (written by ingestion with Core, never through it)."""
    mappers.map_imperatively(MaintenancePlan, maintenance_plans,
                             version_id_col=maintenance_plans.c.version)
    mappers.map_imperatively(MaintenanceRun, maintenance_runs)
    mappers.map_imperatively(AssetEvent, asset_events)
    mappers.map_imperatively(UsageCounter, usage_counters)
    mappers.map_imperatively(DeviceState, device_state, include_properties=[
        "device_id", "online", "last_values"])
