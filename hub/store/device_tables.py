"""Tables of the device side: registry, state, inbox, telemetry, dead letters, commands."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)

from hub.domain.registry import Approval, Protocol
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime

# SQLite autoincrements only an INTEGER PRIMARY KEY; elsewhere these tables need 64 bits.
BigId = BigInteger().with_variant(Integer(), "sqlite")

devices = Table(
    "devices", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("code", String(63), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("building_id", ForeignKey("buildings.id"), nullable=True),
    Column("asset_id", ForeignKey("assets.id"), nullable=True),
    Column("name", String(200), nullable=False, default=""),
    Column("floor", Integer, nullable=True),
    Column("protocol", EnumText(Protocol), nullable=False),
    Column("connection", JSON, nullable=False),
    Column("register_map", String(63), nullable=True),
    Column("poll_period_s", Float, nullable=False),
    Column("timeout_s", Integer, nullable=False),
    Column("approval", EnumText(Approval), nullable=False),
    Column("tags", JSON, nullable=False),
    UniqueConstraint("site_id", "code"),
)

# One row per device, rewritten in place: what the hub knows of it now.
device_state = Table(
    "device_state", metadata,
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    Column("online", Boolean, nullable=True),  # None: not heard of yet
    Column("online_since", UtcDateTime, nullable=True),
    Column("offline_reason", String(64), nullable=True),
    Column("last_seen", UtcDateTime, nullable=True),
    Column("boot", String(64), nullable=False, default=""),
    Column("last_seq", BigInteger, nullable=True),
    Column("last_values", JSON, nullable=False),
    Column("errors", JSON, nullable=False),  # reason -> count
)

# The de-duplication key of every message that carried a `seq` (DESIGN.md §6).
inbox = Table(
    "inbox", metadata,
    Column("id", BigId, primary_key=True),
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    Column("boot", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("received_at", UtcDateTime, nullable=False, index=True),
    UniqueConstraint("device_id", "boot", "seq"),
)

sequence_gaps = Table(
    "sequence_gaps", metadata,
    Column("id", BigId, primary_key=True),
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("boot", String(64), nullable=False),
    Column("first_missing", BigInteger, nullable=False),
    Column("last_missing", BigInteger, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
)

telemetry = Table(
    "telemetry", metadata,
    Column("id", BigId, primary_key=True),
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("value", Float, nullable=True),  # numbers and booleans
    Column("text", String(64), nullable=True),  # enumerations such as door "closed"
)
Index("ix_telemetry_device_metric_at", telemetry.c.device_id, telemetry.c.metric,
      telemetry.c.at)
Index("ix_telemetry_at", telemetry.c.at)


def _rollup(name: str) -> Table:
    return Table(
        name, metadata,
        Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
        Column("metric", String(64), nullable=False),
        Column("bucket", UtcDateTime, nullable=False),
        Column("count", Integer, nullable=False),
        Column("sum", Float, nullable=False),
        Column("min", Float, nullable=False),
        Column("max", Float, nullable=False),
        Column("last", Float, nullable=False),
        PrimaryKeyConstraint("device_id", "metric", "bucket"),
    )


telemetry_1m = _rollup("telemetry_1m")
# Retention deletes old minute buckets by time, oldest first (hub.store.telemetry).
Index("ix_telemetry_1m_bucket", telemetry_1m.c.bucket)
telemetry_1h = _rollup("telemetry_1h")

dead_letters = Table(
    "dead_letters", metadata,
    Column("id", BigId, primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("topic", String(255), nullable=False),
    Column("device_key", String(200), nullable=True, index=True),
    Column("reason", String(64), nullable=False),
    Column("excerpt", String(300), nullable=False),
)

# Counters that must survive restarts: dead letters by device and reason, drops, overflow.
counters = Table(
    "counters", metadata,
    Column("name", String(200), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

device_commands = Table(
    "device_commands", metadata,
    Column("id", String(36), primary_key=True),
    Column("device_id", ForeignKey("devices.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("action", String(32), nullable=False),
    Column("args", JSON, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("issued_by", Integer, nullable=True),  # account id; None for rules
    Column("cause", String(200), nullable=False, default=""),  # "rule:gate-open-v3", "api"
    Column("status", String(16), nullable=False),  # sent, acked, failed, expired, no_ack
    Column("acked_at", UtcDateTime, nullable=True),
    Column("error", String(200), nullable=True),
)

# Scale-out: a poller or the scheduler runs where it holds the lease (DESIGN.md §1).
leases = Table(
    "leases", metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(100), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
