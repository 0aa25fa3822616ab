"""Sites, buildings and units."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hub.api.deps import ActorDep, BusDep, PagingDep, SessionDep, page_of
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.property import (
    BuildingIn,
    BuildingOut,
    BuildingPatch,
    SiteIn,
    SiteOut,
    SitePatch,
    UnitIn,
    UnitOut,
    UnitPatch,
)
from hub.domain.commands import Change, CreateBuilding, CreateSite, CreateUnit, Delete
from hub.domain.errors import Invalid
from hub.domain.property import UnitStatus
from hub.store.tables import buildings, sites, units
from hub.views import property as views

router = APIRouter(prefix="/api/v1", tags=["property"])


@router.get("/sites")
async def list_sites(actor: ActorDep, db: SessionDep, paging: PagingDep) -> Page[SiteOut]:
    items, total = await views.page(db, views.site_query(actor), paging.limit, paging.offset)
    return Page[SiteOut].model_validate(page_of(items, total, paging))


@router.post("/sites", status_code=201)
async def create_site(body: SiteIn, actor: ActorDep, bus: BusDep) -> Created:
    return Created(id=await bus.handle(CreateSite(actor, **body.model_dump())))


@router.get("/sites/{site_id}")
async def get_site(site_id: Id, actor: ActorDep, db: SessionDep) -> SiteOut:
    query = views.site_query(actor).where(sites.c.id == site_id)
    return SiteOut.model_validate(await views.one(db, query, "site", site_id))


@router.patch("/sites/{site_id}", status_code=204)
async def change_site(site_id: Id, body: SitePatch, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(Change(actor, "site", site_id, set_fields(body)))


@router.delete("/sites/{site_id}", status_code=204)
async def delete_site(site_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(Delete(actor, "site", site_id))


@router.get("/buildings")
async def list_buildings(actor: ActorDep, db: SessionDep, paging: PagingDep,
                         site_id: Id | None = None) -> Page[BuildingOut]:
    query = views.building_query(actor, site_id)
    items, total = await views.page(db, query, paging.limit, paging.offset)
    return Page[BuildingOut].model_validate(page_of(items, total, paging))


@router.post("/buildings", status_code=201)
async def create_building(body: BuildingIn, actor: ActorDep, bus: BusDep) -> Created:
    return Created(id=await bus.handle(CreateBuilding(actor, **body.model_dump())))


@router.get("/buildings/{building_id}")
async def get_building(building_id: Id, actor: ActorDep, db: SessionDep) -> BuildingOut:
    query = views.building_query(actor).where(buildings.c.id == building_id)
    return BuildingOut.model_validate(await views.one(db, query, "building", building_id))


@router.patch("/buildings/{building_id}", status_code=204)
async def change_building(building_id: Id, body: BuildingPatch, actor: ActorDep,
                          bus: BusDep) -> None:
    await bus.handle(Change(actor, "building", building_id, set_fields(body)))


@router.delete("/buildings/{building_id}", status_code=204)
async def delete_building(building_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(Delete(actor, "building", building_id))


@router.get("/units")
async def list_units(
    actor: ActorDep, db: SessionDep, paging: PagingDep,
    site_id: Id | None = None, building_id: Id | None = None,
    status: UnitStatus | None = None, number: Annotated[str | None, Query(max_length=32)] = None,
) -> Page[UnitOut]:
    query = views.unit_query(actor, site_id=site_id, building_id=building_id,
                             status=status, number=number)
    items, total = await views.page(db, query, paging.limit, paging.offset)
    return Page[UnitOut].model_validate(page_of(items, total, paging))


@router.post("/units", status_code=201)
async def create_unit(body: UnitIn, actor: ActorDep, bus: BusDep) -> Created:
    return Created(id=await bus.handle(CreateUnit(actor, **body.model_dump())))


@router.get("/units/{unit_id}")
async def get_unit(unit_id: Id, actor: ActorDep, db: SessionDep) -> UnitOut:
    query = views.unit_query(actor).where(units.c.id == unit_id)
    return UnitOut.model_validate(await views.one(db, query, "unit", unit_id))


@router.patch("/units/{unit_id}", status_code=204)
async def change_unit(unit_id: Id, body: UnitPatch, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(Change(actor, "unit", unit_id, set_fields(body, frozenset({"orientation"}))))


@router.delete("/units/{unit_id}", status_code=204)
async def delete_unit(unit_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(Delete(actor, "unit", unit_id))


def set_fields(body: Any, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Only the fields the client sent; an explicit null where null means nothing is a 422."""
    changes = dict(body.model_dump(exclude_unset=True))
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise Invalid(f"{name} cannot be null", field=f"body.{name}")
    if not changes:
        raise Invalid("nothing to change: send at least one field", field="body")
    return changes
