"""Sites, buildings and units: create, change, delete, all within the actor's scope."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from hub.domain.commands import Change, CreateBuilding, CreateSite, CreateUnit, Delete
from hub.domain.errors import Conflict, Invalid, PermissionDenied
from hub.domain.property import Building, Orientation, Site, Unit, UnitStatus
from hub.domain.residents import Residency, Resident
from hub.handlers.scope import (
    managed_site,
    visible_building,
    visible_resident,
    visible_unit,
)
from hub.ports import UnitOfWork

# What a `Change` may touch, per kind. Ids, sites and ciphertexts are never editable.
EDITABLE: dict[str, frozenset[str]] = {
    "site": frozenset({"name", "address", "timezone"}),
    "building": frozenset({"name", "floors"}),
    "unit": frozenset({"number", "floor", "gross_area", "inner_area", "layout", "orientation",
                       "status"}),
    "resident": frozenset({"name", "phone"}),
}


async def create_site(cmd: CreateSite, uow: UnitOfWork) -> int:
    if not cmd.actor.all_sites:
        raise PermissionDenied("only an administrator creates sites")
    if await uow.find_one(Site, code=cmd.code):
        raise Conflict(f"a site with code {cmd.code!r} exists", field="code")
    site = Site(code=cmd.code, name=cmd.name, address=cmd.address, timezone=cmd.timezone)
    uow.add(site)
    await uow.commit()
    assert site.id is not None
    return site.id


async def create_building(cmd: CreateBuilding, uow: UnitOfWork) -> int:
    await managed_site(uow, cmd.actor, cmd.site_id)
    if await uow.find_one(Building, site_id=cmd.site_id, code=cmd.code):
        raise Conflict(f"building code {cmd.code!r} exists in this site", field="code")
    building = Building(site_id=cmd.site_id, code=cmd.code, name=cmd.name, floors=cmd.floors)
    uow.add(building)
    await uow.commit()
    assert building.id is not None
    return building.id


async def create_unit(cmd: CreateUnit, uow: UnitOfWork) -> int:
    building = await visible_building(uow, cmd.actor, cmd.building_id)
    assert building.id is not None
    await _number_is_free(uow, building.id, cmd.number)
    _floor_in_building(cmd.floor, building)
    unit = Unit(
        site_id=building.site_id, building_id=building.id, number=cmd.number, floor=cmd.floor,
        gross_area=cmd.gross_area, inner_area=cmd.inner_area, layout=cmd.layout,
        orientation=Orientation(cmd.orientation) if cmd.orientation else None,
        status=UnitStatus(cmd.status),
    )
    uow.add(unit)
    await uow.commit()
    assert unit.id is not None
    return unit.id


async def change(cmd: Change, uow: UnitOfWork) -> None:
    unknown = set(cmd.changes) - EDITABLE[cmd.kind]
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"{name} cannot be changed on a {cmd.kind}", field=name)
    target = await _load(uow, cmd)
    if isinstance(target, Unit) and "number" in cmd.changes \
            and cmd.changes["number"] != target.number:
        await _number_is_free(uow, target.building_id, cmd.changes["number"])
    if isinstance(target, Unit) and "floor" in cmd.changes:
        building = await uow.get(Building, target.building_id)
        assert building is not None
        _floor_in_building(cmd.changes["floor"], building)
    updated = _with_changes(target, cmd.changes)
    for name in cmd.changes:
        setattr(target, name, getattr(updated, name))
    await uow.commit()


async def delete(cmd: Delete, uow: UnitOfWork) -> None:
    target = await _load(uow, cmd)
    dependants: dict[str, tuple[type[object], str]] = {
        "site": (Building, "site_id"), "building": (Unit, "building_id"),
        "unit": (Residency, "unit_id"), "resident": (Residency, "resident_id"),
    }
    kind, column = dependants[cmd.kind]
    if await uow.find_one(kind, **{column: cmd.ident}):
        raise Conflict(f"this {cmd.kind} still has {kind.__name__.lower()} records; "
                       "remove or end those first")
    await uow.delete(target)
    await uow.commit()


async def _load(uow: UnitOfWork, cmd: Change | Delete) -> Site | Building | Unit | Resident:
    if cmd.kind == "site":
        return await managed_site(uow, cmd.actor, cmd.ident)
    if cmd.kind == "building":
        building = await visible_building(uow, cmd.actor, cmd.ident)
        await managed_site(uow, cmd.actor, building.site_id)
        return building
    if cmd.kind == "unit":
        return await visible_unit(uow, cmd.actor, cmd.ident)
    return await visible_resident(uow, cmd.actor, cmd.ident)


def _with_changes(target: Any, changes: dict[str, Any]) -> Any:
    """Build a fresh copy with the changes so that the domain's own checks run on it."""
    values = {f.name: getattr(target, f.name) for f in fields(target) if f.init}
    values.update(changes)
    if isinstance(target, Unit):
        values["status"] = UnitStatus(values["status"])
        values["orientation"] = Orientation(values["orientation"]) \
            if values["orientation"] else None
    return type(target)(**values)


async def _number_is_free(uow: UnitOfWork, building_id: int, number: str) -> None:
    if await uow.find_one(Unit, building_id=building_id, number=number):
        raise Conflict(f"unit number {number!r} exists in this building", field="number")


def _floor_in_building(floor: int, building: Building) -> None:
    if floor == 0 or floor > building.floors or floor < -5:
        raise Invalid(f"floor must be between -5 and {building.floors}, and not 0",
                      field="floor")
