"""Loading parking registry records through the actor's scope, and what every change of them
shares: checks on a changed copy, and one audit row without plates or names in it.

Residents reach none of these records here (their own vehicles and passes are read through
/me); staff reach the records of their sites. A record out of scope does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

from hub.domain.accounts import Actor
from hub.domain.audit import AuditAction, entry_by
from hub.domain.errors import Invalid, NotFound
from hub.domain.parking.registry import (
    Lane,
    Lot,
    MonthlyPass,
    PlateListEntry,
    Space,
    Vehicle,
)
from hub.handlers.scope import managed_site, visible_unit
from hub.ports import Clock, UnitOfWork

R = TypeVar("R")

SITE_RECORDS: dict[str, type[Any]] = {
    "lot": Lot, "lane": Lane, "space": Space, "pass": MonthlyPass, "list_entry": PlateListEntry,
}


async def site_record(uow: UnitOfWork, actor: Actor, kind: str, ident: int) -> Any:
    """A lot, lane, space, pass or list entry of a site the actor manages as a whole."""
    record = await uow.get(SITE_RECORDS[kind], ident)
    if record is None or actor.is_resident or not actor.sees_site(record.site_id):
        raise NotFound(kind.replace("_", " "), ident)
    await managed_site(uow, actor, record.site_id)
    return record


async def visible_vehicle(uow: UnitOfWork, actor: Actor, vehicle_id: int) -> Vehicle:
    """A vehicle is seen through its unit: staff of the unit's building or site."""
    vehicle = await uow.get(Vehicle, vehicle_id)
    if vehicle is None or actor.is_resident or not actor.sees_site(vehicle.site_id):
        raise NotFound("vehicle", vehicle_id)
    try:
        await visible_unit(uow, actor, vehicle.unit_id)
    except NotFound:
        raise NotFound("vehicle", vehicle_id) from None
    return vehicle


async def lot_of_site(uow: UnitOfWork, site_id: int, lot_id: int, field: str) -> Lot:
    lot = await uow.get(Lot, lot_id)
    if lot is None or lot.site_id != site_id:
        raise Invalid(f"no lot {lot_id} in this site", field=field)
    return lot


def with_changes(target: R, changes: Mapping[str, Any]) -> R:
    """A fresh copy with the changes, so that the record's own checks run on the result."""
    values = {f.name: getattr(target, f.name) for f in fields(target)  # type: ignore[arg-type]
              if f.init}
    values.update(changes)
    return type(target)(**values)


def apply(target: object, candidate: object, names: Mapping[str, Any]) -> None:
    """Copy the changed fields, as the candidate's checks normalised them, onto the target."""
    for name in names:
        setattr(target, name, getattr(candidate, name))


def audit(uow: UnitOfWork, actor: Actor, at: datetime, kind: str, ident: int | None,
          change: str, names: Mapping[str, Any] | None = None) -> None:
    """Which record changed and which fields; never the values (plates are location data)."""
    detail = {"change": change}
    if names:
        detail["fields"] = ",".join(sorted(names))
    uow.audit(entry_by(actor, at, AuditAction.CONFIG_CHANGED, f"parking_{kind}:{ident}",
                       detail))


async def added(uow: UnitOfWork, actor: Actor, clock: Clock, kind: str, record: Any) -> int:
    """Store a new record, audit its creation (no values) and commit; its id."""
    uow.add(record)
    await uow.flush()
    audit(uow, actor, clock(), kind, record.id, "created")
    await uow.commit()
    assert record.id is not None
    return int(record.id)
