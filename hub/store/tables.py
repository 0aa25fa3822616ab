"""Table definitions: the single source for the ORM mapping and for Alembic."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hub.domain.accounts import Role
from hub.domain.audit import AuditAction
from hub.domain.facilities import AssetStatus
from hub.domain.property import Orientation, UnitStatus
from hub.domain.residents import Relation
from hub.store.types import EnumText, UtcDateTime

# Named constraints so that migrations can refer to them on every backend.
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

sites = Table(
    "sites", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("address", String(500), nullable=False, default=""),
    Column("timezone", String(64), nullable=False, default="Asia/Shanghai"),
)

buildings = Table(
    "buildings", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("code", String(63), nullable=False),
    Column("name", String(200), nullable=False),
    Column("floors", Integer, nullable=False),
    UniqueConstraint("site_id", "code"),
)

units = Table(
    "units", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("building_id", ForeignKey("buildings.id"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("floor", Integer, nullable=False),
    Column("gross_area", Numeric(10, 2), nullable=False),
    Column("inner_area", Numeric(10, 2), nullable=False),
    Column("layout", String(64), nullable=False, default=""),
    Column("orientation", EnumText(Orientation), nullable=True),
    Column("status", EnumText(UnitStatus), nullable=False),
    UniqueConstraint("building_id", "number"),
)

residents = Table(
    "residents", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("phone", String(20), nullable=False, default=""),
    Column("national_id_cipher", Text, nullable=True),
    Column("national_id_index", String(64), nullable=True),
    Column("national_id_masked", String(32), nullable=True),
    UniqueConstraint("site_id", "national_id_index"),
)

residencies = Table(
    "residencies", metadata,
    Column("id", Integer, primary_key=True),
    Column("resident_id", ForeignKey("residents.id"), nullable=False, index=True),
    Column("unit_id", ForeignKey("units.id"), nullable=False, index=True),
    Column("relation", EnumText(Relation), nullable=False),
    Column("moved_in", Date, nullable=False),
    Column("moved_out", Date, nullable=True),
)

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", EnumText(Role), nullable=False),
    Column("display_name", String(100), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("resident_id", ForeignKey("residents.id"), nullable=True, index=True),
)

account_grants = Table(
    "account_grants", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("building_id", ForeignKey("buildings.id"), nullable=True),
)

auth_sessions = Table(
    "auth_sessions", metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("refresh_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("action", EnumText(AuditAction), nullable=False, index=True),
    Column("actor_id", Integer, nullable=True, index=True),
    Column("actor_role", String(16), nullable=True),
    Column("target", String(120), nullable=False, default=""),
    Column("detail", JSON, nullable=False),
)

assets = Table(
    "assets", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id"), nullable=False),
    Column("code", String(63), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", String(64), nullable=False),
    Column("building_id", ForeignKey("buildings.id"), nullable=True),
    # Facilities (migration 0004): where it is, what it is, its dates and its derived status.
    Column("floor", Integer, nullable=True),
    Column("area", String(200), nullable=False, default=""),
    Column("model", String(200), nullable=False, default=""),
    Column("supplier", String(200), nullable=False, default=""),
    Column("purchased_on", Date, nullable=True),
    Column("installed_on", Date, nullable=True),
    Column("warranty_until", Date, nullable=True),
    Column("status", EnumText(AssetStatus), nullable=False, default=AssetStatus.OPERATIONAL),
    Column("status_since", UtcDateTime, nullable=True),
    UniqueConstraint("site_id", "code"),
)

Index("ix_units_site_building", units.c.site_id, units.c.building_id)
