"""Classical mapping: the domain classes stay plain Python, SQLAlchemy learns them here."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, registry, relationship

from hub.domain.accounts import Account, AuthSession, ScopeGrant
from hub.domain.audit import AuditEntry
from hub.domain.property import Building, Site, Unit
from hub.domain.registry import Asset, Device
from hub.domain.residents import Residency, Resident
from hub.store import device_tables, notice_tables, tables
from hub.store.access_tables import map_access
from hub.store.billing_tables import map_billing
from hub.store.facility_tables import map_facilities
from hub.store.ownership_tables import map_ownership
from hub.store.parking_payment_tables import map_parking_payments
from hub.store.parking_registry_tables import map_parking_registry
from hub.store.parking_session_tables import map_parking_sessions
from hub.store.parking_tables import map_parking
from hub.store.work_order_tables import map_work_orders

mapper_registry = registry(metadata=tables.metadata)
_started = False


def start_mappers() -> None:
    """Idempotent: the composition root and the tests may both call it."""
    global _started  # noqa: PLW0603 - SQLAlchemy's mapping registry is process-wide anyway
    if _started:
        return
    _started = True
    mapper_registry.map_imperatively(Site, tables.sites)
    mapper_registry.map_imperatively(Building, tables.buildings)
    mapper_registry.map_imperatively(Unit, tables.units)
    mapper_registry.map_imperatively(Resident, tables.residents)
    mapper_registry.map_imperatively(Residency, tables.residencies)
    mapper_registry.map_imperatively(ScopeGrant, tables.account_grants)
    mapper_registry.map_imperatively(Account, tables.accounts, properties={
        "grants": relationship(ScopeGrant, lazy="selectin", cascade="all, delete-orphan"),
    })
    mapper_registry.map_imperatively(AuthSession, tables.auth_sessions)
    mapper_registry.map_imperatively(AuditEntry, tables.audit_log)
    mapper_registry.map_imperatively(Asset, tables.assets)
    mapper_registry.map_imperatively(Device, device_tables.devices)
    notice_tables.map_notices(mapper_registry)
    map_work_orders(mapper_registry)
    map_facilities(mapper_registry)
    map_billing(mapper_registry)
    map_ownership(mapper_registry)
    map_parking(mapper_registry)
    map_access(mapper_registry)
    map_parking_registry(mapper_registry)
    map_parking_sessions(mapper_registry)
    map_parking_payments(mapper_registry)


def _audit_is_append_only(session: Session, _context: object, _instances: object) -> None:
    for entity in (*session.dirty, *session.deleted):
        if isinstance(entity, AuditEntry) and (entity in session.deleted
                                               or session.is_modified(entity)):
            raise PermissionError("the audit log is append-only")


event.listen(Session, "before_flush", _audit_is_append_only)
