"""Tables of the gate flow: parking sessions, the gate's decisions, one charge per session,
and who may see a session; classical mapping onto hub.domain.parking.sessions.

Lots and lanes are the registry's (ids only here, no foreign keys: the registry may be
rebuilt from an import without touching the history of the gate). Money is Numeric(14, 2).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import registry

from hub.domain.parking.sessions import (
    ChargeStatus,
    GateDecision,
    PaidBy,
    ParkingCharge,
    ParkingSession,
    SessionState,
    SessionViewer,
    Verdict,
)
from hub.domain.parking.standing import Direction, Standing
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime


def _money(name: str, nullable: bool = False) -> Column[object]:
    return Column(name, Numeric(14, 2), nullable=nullable)


parking_sessions = Table(
    "parking_sessions", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("lot_id", Integer, nullable=False),
    Column("plate", String(16), nullable=False),
    Column("standing", EnumText(Standing), nullable=False),
    Column("state", EnumText(SessionState), nullable=False),
    Column("entry_at", UtcDateTime, nullable=True),
    Column("entry_lane_id", Integer, nullable=True),
    Column("entry_decision_id", Integer, nullable=True),
    Column("exit_at", UtcDateTime, nullable=True),
    Column("exit_lane_id", Integer, nullable=True),
    Column("exit_decision_id", Integer, nullable=True),
    Column("vehicle_id", Integer, nullable=True),
    Column("pass_id", Integer, nullable=True),
    Column("visitor_pass_id", Integer, nullable=True),
    Column("visitor_free_minutes", Integer, nullable=False),
    Column("vehicle_class", String(16), nullable=True),
    Column("plate_color", String(16), nullable=True),
    Column("tariff_id", Integer, nullable=True),
    Column("tariff_version", Integer, nullable=True),
    _money("fee", nullable=True),
    _money("paid_amount"),
    Column("paid_until", UtcDateTime, nullable=True),
    Column("overstay", Boolean, nullable=False),
    Column("no_entry", Boolean, nullable=False),
    Column("needs_review", Boolean, nullable=False),
    Column("review_reason", String(500), nullable=True),
    # "<lot>:<plate>" while the car is in the lot, NULL after: one present session per plate.
    Column("present_key", String(40), nullable=True),
    Column("closed_by", Integer, nullable=True),
    Column("close_reason", String(500), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("present_key"),
    Index("ix_parking_sessions_lot_state", "lot_id", "state"),
    Index("ix_parking_sessions_site_plate", "site_id", "plate"),
    Index("ix_parking_sessions_entry_at", "entry_at"),
)

parking_gate_decisions = Table(
    "parking_gate_decisions", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("lot_id", Integer, nullable=False),
    Column("lane_id", Integer, nullable=False),
    Column("direction", EnumText(Direction), nullable=False),
    Column("verdict", EnumText(Verdict), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("plate_read", String(16), nullable=True),
    Column("plate", String(16), nullable=True),
    Column("confidence", Float, nullable=True),
    Column("session_id", Integer, nullable=True, index=True),
    Column("snapshot_ref", String(100), nullable=True),
    Column("camera_device_id", Integer, nullable=True),
    Column("seq", Integer, nullable=True),
    Column("boot", String(64), nullable=False),
    Column("by_account", Integer, nullable=True),
    Column("passed_at", UtcDateTime, nullable=True),
    Index("ix_parking_gate_decisions_lane_at", "lane_id", "at"),
    Index("ix_parking_gate_decisions_at", "at"),
)

parking_charges = Table(
    "parking_charges", metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", ForeignKey("parking_sessions.id"), nullable=False),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("plate", String(16), nullable=False),
    _money("amount"),
    Column("lines", JSON, nullable=False),
    Column("status", EnumText(ChargeStatus), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("tariff_id", Integer, nullable=True),
    Column("tariff_version", Integer, nullable=True),
    Column("paid_by", EnumText(PaidBy), nullable=True),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("recorded_by", Integer, nullable=True),
    UniqueConstraint("session_id"),  # one charge per session (RELIABILITY R4)
    Index("ix_parking_charges_site_plate_at", "site_id", "plate", "at"),
)

parking_session_viewers = Table(
    "parking_session_viewers", metadata,
    Column("session_id", ForeignKey("parking_sessions.id"), primary_key=True),
    Column("resident_id", Integer, primary_key=True, index=True),
)


def map_parking_sessions(mapper_registry: registry) -> None:
    mapper_registry.map_imperatively(ParkingSession, parking_sessions)
    mapper_registry.map_imperatively(GateDecision, parking_gate_decisions)
    mapper_registry.map_imperatively(ParkingCharge, parking_charges)
    mapper_registry.map_imperatively(SessionViewer, parking_session_viewers)
