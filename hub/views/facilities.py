"""Reads of assets, their repair history and reliability, and of maintenance plans.

Scoped like devices: staff see a building's assets with the building and site-wide ones
(gates, the garden's fitness equipment) with the whole site; plans are seen through their
asset. Residents see none of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.errors import NotFound
from hub.domain.facilities import AssetEvent, AssetEventKind, reliability, spans
from hub.domain.outcomes import OrderSource, Priority
from hub.store.device_tables import devices
from hub.store.facility_tables import (
    asset_events,
    maintenance_plans,
    maintenance_runs,
    usage_counters,
)
from hub.store.tables import assets
from hub.views.scoping import building_filter


def asset_filter(actor: Actor) -> ColumnElement[bool]:
    if actor.is_resident:
        return false()
    return building_filter(actor, assets.c.site_id, assets.c.building_id)


def asset_query(actor: Actor, *, site_id: int | None = None, building_id: int | None = None,
                category: str | None = None, status: str | None = None) -> Select[Any]:
    query = select(assets).where(asset_filter(actor)).order_by(assets.c.id)
    for column, value in ((assets.c.site_id, site_id), (assets.c.building_id, building_id),
                          (assets.c.category, category), (assets.c.status, status)):
        if value is not None:
            query = query.where(column == value)
    return query


async def with_devices(session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each asset with the ids of its linked devices."""
    ids = [r["id"] for r in rows]
    linked: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        found = await session.execute(select(devices.c.asset_id, devices.c.id).where(
            devices.c.asset_id.in_(ids)).order_by(devices.c.id))
        for asset_id, device_id in found:
            linked[asset_id].append(device_id)
    return [{**r, "device_ids": linked[r["id"]]} for r in rows]


async def visible(session: AsyncSession, actor: Actor, asset_id: int) -> None:
    if await session.scalar(select(assets.c.id).where(assets.c.id == asset_id,
                                                      asset_filter(actor))) is None:
        raise NotFound("asset", asset_id)


async def history(session: AsyncSession, asset_id: int) -> list[dict[str, Any]]:
    """Each period an order of the asset was open, newest first."""
    found = spans(await _events(session, asset_id))
    return [{"order_id": s.order_id, "fault": s.fault, "source": s.source,
             "priority": s.priority, "opened_at": s.opened_at, "resolved_at": s.resolved_at,
             "failure": s.is_failure} for s in reversed(found)]


async def asset_reliability(session: AsyncSession, asset_id: int, start: datetime,
                            end: datetime) -> dict[str, Any]:
    r = reliability(spans(await _events(session, asset_id)), start, end)
    hours = 3600.0
    return {"start": r.start, "end": r.end, "failures": r.failures,
            "downtime_s": r.downtime.total_seconds(), "uptime_s": r.uptime.total_seconds(),
            "mtbf_hours": r.mtbf.total_seconds() / hours if r.mtbf is not None else None,
            "mttr_hours": r.mttr.total_seconds() / hours if r.mttr is not None else None,
            "availability": r.availability}


async def _events(session: AsyncSession, asset_id: int) -> list[AssetEvent]:
    rows = await session.execute(select(asset_events).where(
        asset_events.c.asset_id == asset_id).order_by(asset_events.c.at, asset_events.c.id))
    return [AssetEvent(asset_id=r.asset_id, order_id=r.order_id,
                       change=AssetEventKind(r.change), at=r.at, fault=r.fault,
                       source=OrderSource(r.source),
                       priority=Priority(r.priority) if r.priority else None, id=r.id)
            for r in rows]


def plan_query(actor: Actor, *, asset_id: int | None = None,
               site_id: int | None = None) -> Select[Any]:
    query = (select(maintenance_plans).join(assets, assets.c.id == maintenance_plans.c.asset_id)
             .where(asset_filter(actor)).order_by(maintenance_plans.c.id))
    if asset_id is not None:
        query = query.where(maintenance_plans.c.asset_id == asset_id)
    if site_id is not None:
        query = query.where(maintenance_plans.c.site_id == site_id)
    return query


async def with_usage(session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each plan with its asset's counter totals now."""
    asset_ids = {r["asset_id"] for r in rows}
    totals: dict[int, dict[str, float]] = {i: {} for i in asset_ids}
    if asset_ids:
        found = await session.execute(select(
            usage_counters.c.asset_id, usage_counters.c.metric, usage_counters.c.total).where(
            usage_counters.c.asset_id.in_(asset_ids)))
        for asset_id, metric, total in found:
            totals[asset_id][metric] = totals[asset_id].get(metric, 0.0) + total
    return [{**r, "usage": totals[r["asset_id"]]} for r in rows]


async def visible_plan(session: AsyncSession, actor: Actor, plan_id: int) -> None:
    query = plan_query(actor).where(maintenance_plans.c.id == plan_id)
    if (await session.execute(query)).first() is None:
        raise NotFound("maintenance plan", plan_id)


def run_query(plan_id: int) -> Select[Any]:
    return select(maintenance_runs).where(maintenance_runs.c.plan_id == plan_id).order_by(
        maintenance_runs.c.completed_at.desc(), maintenance_runs.c.id.desc())


def run_out(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "checklist": [{"item": item, "done": done} for item, done in row["checklist"]]}
