"""Tables of access control (doors, credentials, visitor passes, the access log) and their
classical mapping onto hub.domain.access.model."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import registry

from hub.domain.access.model import (
    AccessCredential,
    AccessLogEntry,
    CredentialKind,
    Door,
    PassStatus,
    Presented,
    VisitorPass,
)
from hub.store.device_tables import BigId
from hub.store.tables import metadata
from hub.store.types import EnumText, UtcDateTime

access_doors = Table(
    "access_doors", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("device_id", ForeignKey("devices.id"), nullable=False),
    Column("building_id", ForeignKey("buildings.id"), nullable=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("device_id"),
)

access_credentials = Table(
    "access_credentials", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("resident_id", ForeignKey("residents.id"), nullable=False, index=True),
    Column("kind", EnumText(CredentialKind), nullable=False),
    Column("secret", String(64), nullable=False, index=True),
    Column("label", String(100), nullable=False, default=""),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("issued_by", Integer, nullable=True),
    # The fingerprint (cards) or the resident (QR) while live; NULL once revoked, and NULLs
    # never collide in a unique index: one live card per number, one live QR per resident.
    Column("live_key", String(64), nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_by", Integer, nullable=True),
    UniqueConstraint("site_id", "kind", "live_key"),
)

access_visitor_passes = Table(
    "access_visitor_passes", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False, index=True),
    Column("issued_by", ForeignKey("residents.id"), nullable=False),
    Column("visitor_name", String(100), nullable=False),
    Column("visitor_phone", String(20), nullable=False, default=""),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    Column("entries_allowed", Integer, nullable=False),
    Column("entries_used", Integer, nullable=False, default=0),
    Column("last_entry_at", UtcDateTime, nullable=True),
    Column("plate", String(16), nullable=True),
    Column("free_minutes", Integer, nullable=False, default=0),
    Column("needs_approval", Boolean, nullable=False, default=False),
    Column("status", EnumText(PassStatus), nullable=False),
    Column("salt", String(32), nullable=False),
    Column("decided_by", Integer, nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decision_note", String(200), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
)
Index("ix_access_visitor_passes_site_plate", access_visitor_passes.c.site_id,
      access_visitor_passes.c.plate)

access_log = Table(
    "access_log", metadata,
    Column("id", BigId, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("device_id", Integer, nullable=False),
    Column("door_id", Integer, nullable=True),
    Column("presented", EnumText(Presented), nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("credential_id", Integer, nullable=True),
    Column("resident_id", Integer, nullable=True, index=True),
    Column("visitor_pass_id", Integer, nullable=True, index=True),
    Column("unit_id", Integer, nullable=True),
    Column("opened_by", Integer, nullable=True),
    Column("command_id", String(36), nullable=True),
)
Index("ix_access_log_site_at", access_log.c.site_id, access_log.c.at)


def map_access(mapper_registry: registry) -> None:
    mapper_registry.map_imperatively(Door, access_doors)
    mapper_registry.map_imperatively(AccessCredential, access_credentials)
    mapper_registry.map_imperatively(VisitorPass, access_visitor_passes)
    mapper_registry.map_imperatively(AccessLogEntry, access_log)
