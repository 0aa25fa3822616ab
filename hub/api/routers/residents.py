"""Residents (masked), their residencies, look-up by ID number, and the audited reveal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import ActorDep, BusDep, HubDep, PagingDep, SessionDep, page_of
from hub.api.routers.property import set_fields
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.people import (
    EndResidencyIn,
    LookupIn,
    ResidencyIn,
    ResidentIn,
    ResidentOut,
    ResidentPatch,
    RevealIn,
    RevealOut,
)
from hub.domain import commands as c
from hub.domain import national_id
from hub.store.tables import residents
from hub.views import people as views
from hub.views.property import one, page

router = APIRouter(prefix="/api/v1", tags=["residents"])


@router.get("/residents")
async def list_residents(
    actor: ActorDep, db: SessionDep, paging: PagingDep, hub: HubDep,
    site_id: Id | None = None, building_id: Id | None = None, unit_id: Id | None = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[ResidentOut]:
    query = views.resident_query(actor, hub.clock().date(), site_id=site_id,
                                 building_id=building_id, unit_id=unit_id, name=name)
    items, total = await page(db, query, paging.limit, paging.offset)
    items = await views.present_residents(db, actor, items)
    return Page[ResidentOut].model_validate(page_of(items, total, paging))


@router.post("/residents", status_code=201)
async def register_resident(body: ResidentIn, actor: ActorDep, bus: BusDep) -> Created:
    secret = body.national_id.get_secret_value() if body.national_id else None
    command = c.RegisterResident(
        actor, site_id=body.site_id, name=body.name, phone=body.phone or "",
        national_id=secret,
        residencies=tuple(c.ResidencyIn(r.unit_id, r.relation, r.moved_in)
                          for r in body.residencies))
    return Created(id=await bus.handle(command))


@router.post("/residents/lookup")
async def lookup_resident(body: LookupIn, actor: ActorDep, db: SessionDep, hub: HubDep,
                          paging: PagingDep) -> Page[ResidentOut]:
    """Exact look-up by national ID number, through the blind index (POST keeps it out of URLs)."""
    number = national_id.normalise(body.national_id.get_secret_value())
    query = views.resident_query(actor, hub.clock().date(),
                                 index=hub.vault.blind_index(number))
    items, total = await page(db, query, paging.limit, paging.offset)
    items = await views.present_residents(db, actor, items)
    return Page[ResidentOut].model_validate(page_of(items, total, paging))


@router.get("/residents/{resident_id}")
async def get_resident(resident_id: Id, actor: ActorDep, db: SessionDep,
                       hub: HubDep) -> ResidentOut:
    query = views.resident_query(actor, hub.clock().date()).where(residents.c.id == resident_id)
    row = await one(db, query, "resident", resident_id)
    return ResidentOut.model_validate((await views.present_residents(db, actor, [row]))[0])


@router.patch("/residents/{resident_id}", status_code=204)
async def change_resident(resident_id: Id, body: ResidentPatch, actor: ActorDep,
                          bus: BusDep) -> None:
    await bus.handle(c.Change(actor, "resident", resident_id, set_fields(body)))


@router.delete("/residents/{resident_id}", status_code=204)
async def delete_resident(resident_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(c.Delete(actor, "resident", resident_id))


@router.post("/residents/{resident_id}/reveal")
async def reveal_national_id(resident_id: Id, body: RevealIn, actor: ActorDep,
                             bus: BusDep) -> RevealOut:
    """The full number, for a stated reason; every reveal is an audit record."""
    plain = await bus.handle(c.RevealNationalId(actor, resident_id, body.reason))
    return RevealOut(national_id=plain)


@router.post("/residents/{resident_id}/residencies", status_code=201)
async def add_residency(resident_id: Id, body: ResidencyIn, actor: ActorDep,
                        bus: BusDep) -> Created:
    wanted = c.ResidencyIn(body.unit_id, body.relation, body.moved_in)
    return Created(id=await bus.handle(c.AddResidency(actor, resident_id, wanted)))


@router.post("/residencies/{residency_id}/end", status_code=204)
async def end_residency(residency_id: Id, body: EndResidencyIn, actor: ActorDep,
                        bus: BusDep) -> None:
    await bus.handle(c.EndResidency(actor, residency_id, body.moved_out))


