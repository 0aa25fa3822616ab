"""Tables of work orders (timeline, occurrences, materials), the roster and the dispatch turn,
and their classical mapping (`map_work_orders`, called from hub.store.mapping)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry, relationship

from hub.domain.outcomes import OrderSource, Priority
from hub.domain.work_orders import (
    MaterialLine,
    Occurrence,
    RosterEntry,
    Rotation,
    Status,
    TimelineEntry,
    WorkOrder,
)
from hub.store.device_tables import BigId
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime

KEY_LENGTH = 160

work_orders = Table(
    "work_orders", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("building_id", ForeignKey("buildings.id"), nullable=True),
    Column("unit_id", ForeignKey("units.id"), nullable=True, index=True),
    Column("device_id", ForeignKey("devices.id"), nullable=True, index=True),
    Column("asset_id", ForeignKey("assets.id"), nullable=True, index=True),
    Column("area", String(200), nullable=False, default=""),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("category", String(64), nullable=False),
    Column("priority", EnumText(Priority), nullable=False),
    Column("source", EnumText(OrderSource), nullable=False),
    Column("fault", String(64), nullable=True),
    Column("reporter_id", Integer, nullable=True),
    Column("status", EnumText(Status), nullable=False),
    Column("assignee_id", ForeignKey("accounts.id"), nullable=True, index=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("respond_by", UtcDateTime, nullable=True),
    Column("arrive_by", UtcDateTime, nullable=True),
    Column("resolve_by", UtcDateTime, nullable=True),
    Column("due_at", UtcDateTime, nullable=True),
    Column("accepted_at", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("reopen_count", Integer, nullable=False, default=0),
    # Kept for good: what the relapse check looks for after the order is resolved.
    Column("fault_key", String(KEY_LENGTH), nullable=True, index=True),
    # Set only while open. NULLs never collide in a unique index (SQLite, PostgreSQL,
    # MariaDB), so this is one open order per (device or asset, fault), and no lock.
    Column("open_key", String(KEY_LENGTH), nullable=True, unique=True),
    Column("checklist", JSON, nullable=False),
    Column("checklist_result", JSON, nullable=False),
    Column("rating", Integer, nullable=True),
    Column("rating_comment", String(500), nullable=False, default=""),
    Column("sla_flags", JSON, nullable=False),
    Column("cause", JSON, nullable=False),
    Column("photos", JSON, nullable=False),
    # Optimistic concurrency: two writers of one order cannot both win (StaleDataError).
    Column("version", Integer, nullable=False),
)
Index("ix_work_orders_site_status", work_orders.c.site_id, work_orders.c.status)

work_order_timeline = Table(
    "work_order_timeline", metadata,
    Column("id", BigId, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("actor_id", Integer, nullable=True),
    Column("rule", String(200), nullable=True),
    Column("data", JSON, nullable=False),
)

work_order_occurrences = Table(
    "work_order_occurrences", metadata,
    Column("id", BigId, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False),
)

work_order_materials = Table(
    "work_order_materials", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("work_orders.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("name", String(200), nullable=False),
    Column("quantity", Numeric(12, 3), nullable=False),
    Column("unit_price", Numeric(12, 2), nullable=False),
    Column("chargeable", Boolean, nullable=False),
    Column("added_at", UtcDateTime, nullable=True),
    Column("added_by", Integer, nullable=True),
)

work_order_roster = Table(
    "work_order_roster", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("skills", JSON, nullable=False),
    Column("on_duty", Boolean, nullable=False),
    UniqueConstraint("site_id", "account_id"),
)

work_order_rotation = Table(
    "work_order_rotation", metadata,
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("category", String(64), nullable=False),
    Column("last_account_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),  # two orders opened at once take turns
    PrimaryKeyConstraint("site_id", "category"),
)


def map_work_orders(mapper_registry: registry) -> None:
    mapper_registry.map_imperatively(TimelineEntry, work_order_timeline)
    mapper_registry.map_imperatively(Occurrence, work_order_occurrences)
    mapper_registry.map_imperatively(MaterialLine, work_order_materials)
    mapper_registry.map_imperatively(WorkOrder, work_orders, version_id_col=work_orders.c.version,
                                     properties={
        "timeline": relationship(TimelineEntry, lazy="selectin", cascade="all, delete-orphan",
                                 order_by=work_order_timeline.c.id),
        "occurrences": relationship(Occurrence, lazy="selectin", cascade="all, delete-orphan",
                                    order_by=work_order_occurrences.c.id),
        "materials": relationship(MaterialLine, lazy="selectin", cascade="all, delete-orphan",
                                  order_by=work_order_materials.c.id),
    })
    mapper_registry.map_imperatively(RosterEntry, work_order_roster)
    mapper_registry.map_imperatively(Rotation, work_order_rotation,
                                     version_id_col=work_order_rotation.c.version)
