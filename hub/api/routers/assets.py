"""The asset registry: assets with their location, dates, supplier, linked devices and derived
status; their repair history, downtime and MTBF."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from hub.api.deps import ActorDep, BusDep, HubDep, PagingDep, SessionDep, page_of
from hub.api.routers.property import set_fields
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.facilities import (
    AssetIn,
    AssetOut,
    AssetPatch,
    Category,
    ReliabilityOut,
    RepairOut,
)
from hub.domain.facilities import AssetStatus
from hub.handlers import facilities as h
from hub.store.tables import assets
from hub.views import facilities as views
from hub.views.property import one, page

router = APIRouter(prefix="/api/v1", tags=["facilities"])

NULLABLE = frozenset({"building_id", "floor", "purchased_on", "installed_on", "warranty_until"})
DEFAULT_PERIOD = timedelta(days=365)


@router.get("/assets")
async def list_assets(actor: ActorDep, db: SessionDep, paging: PagingDep,
                      site_id: Id | None = None, building_id: Id | None = None,
                      category: Annotated[Category | None, Query()] = None,
                      status: AssetStatus | None = None) -> Page[AssetOut]:
    query = views.asset_query(actor, site_id=site_id, building_id=building_id,
                              category=category, status=status)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[AssetOut].model_validate(
        page_of(await views.with_devices(db, items), total, paging))


@router.post("/assets", status_code=201)
async def register_asset(body: AssetIn, actor: ActorDep, bus: BusDep) -> Created:
    return Created(id=await bus.handle(h.RegisterAsset(actor, **body.model_dump())))


@router.get("/assets/{asset_id}")
async def get_asset(asset_id: Id, actor: ActorDep, db: SessionDep) -> AssetOut:
    query = views.asset_query(actor).where(assets.c.id == asset_id)
    found = await one(db, query, "asset", asset_id)
    return AssetOut.model_validate((await views.with_devices(db, [found]))[0])


@router.patch("/assets/{asset_id}", status_code=204)
async def change_asset(asset_id: Id, body: AssetPatch, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.ChangeAsset(actor, asset_id, set_fields(body, NULLABLE)))


@router.get("/assets/{asset_id}/history")
async def repair_history(asset_id: Id, actor: ActorDep, db: SessionDep) -> list[RepairOut]:
    """Every order of the asset (and of its devices), newest first, as the asset recorded
    them from the work orders' events."""
    await views.visible(db, actor, asset_id)
    return [RepairOut.model_validate(r) for r in await views.history(db, asset_id)]


@router.get("/assets/{asset_id}/reliability")
async def reliability(asset_id: Id, actor: ActorDep, db: SessionDep, hub: HubDep,
                      start: AwareDatetime | None = None,
                      end: AwareDatetime | None = None) -> ReliabilityOut:
    """Failures (P1/P2 fault orders, offline orders) opened in [start, end), downtime, MTBF
    and MTTR; the last 365 days by default."""
    await views.visible(db, actor, asset_id)
    end = end or hub.clock()
    start = start or end - DEFAULT_PERIOD
    return ReliabilityOut.model_validate(
        await views.asset_reliability(db, asset_id, start, end))
