"""Loading records through the actor's scope: what the actor may not see does not exist."""

from __future__ import annotations

from hub.domain.accounts import Actor
from hub.domain.errors import NotFound, PermissionDenied
from hub.domain.property import Building, Site, Unit
from hub.domain.residents import Residency, Resident
from hub.ports import UnitOfWork


async def visible_site(uow: UnitOfWork, actor: Actor, site_id: int) -> Site:
    site = await uow.get(Site, site_id)
    if site is None or not actor.sees_site(site_id):
        raise NotFound("site", site_id)
    return site


async def managed_site(uow: UnitOfWork, actor: Actor, site_id: int) -> Site:
    site = await visible_site(uow, actor, site_id)
    if not actor.manages_site(site_id):
        raise PermissionDenied("this needs access to the whole site, not one building")
    return site


async def visible_building(uow: UnitOfWork, actor: Actor, building_id: int) -> Building:
    building = await uow.get(Building, building_id)
    if building is None or not actor.sees_building(building.site_id, building_id):
        raise NotFound("building", building_id)
    return building


async def visible_unit(uow: UnitOfWork, actor: Actor, unit_id: int) -> Unit:
    unit = await uow.get(Unit, unit_id)
    if unit is None or unit.id is None or not actor.sees_unit(unit.site_id, unit.building_id,
                                                               unit.id):
        raise NotFound("unit", unit_id)
    return unit


async def visible_residency(uow: UnitOfWork, actor: Actor, residency_id: int) -> Residency:
    """Seen through its unit; one out of scope answers like one that does not exist."""
    residency = await uow.get(Residency, residency_id)
    unit = await uow.get(Unit, residency.unit_id) if residency is not None else None
    if residency is None or unit is None or unit.id is None \
            or not actor.sees_unit(unit.site_id, unit.building_id, unit.id):
        raise NotFound("residency", residency_id)
    return residency


async def visible_resident(uow: UnitOfWork, actor: Actor, resident_id: int) -> Resident:
    """A resident is visible to staff of the site or of a building where they live or lived."""
    resident = await uow.get(Resident, resident_id)
    if resident is None:
        raise NotFound("resident", resident_id)
    if actor.manages_site(resident.site_id):
        return resident
    for residency in await uow.find(Residency, resident_id=resident_id):
        unit = await uow.get(Unit, residency.unit_id)
        if unit is not None and actor.sees_unit(unit.site_id, unit.building_id,
                                                residency.unit_id):
            return resident
    raise NotFound("resident", resident_id)
