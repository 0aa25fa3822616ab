"""Reads of a unit's ownership history and leases (staff), and of a resident's own units and
household (/me). Scope is in the SQL: a unit out of scope is not found."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.errors import NotFound
from hub.domain.national_id import mask_phone
from hub.store.ownership_tables import (
    ownership_owners,
    ownerships,
    unit_lease_tenants,
    unit_leases,
)
from hub.store.tables import buildings, residencies, residents, sites, units
from hub.views.scoping import unit_filter


def _living_on(today: date) -> ColumnElement[bool]:
    return and_(residencies.c.moved_in <= today,
                or_(residencies.c.moved_out.is_(None), residencies.c.moved_out > today))


async def unit_in_scope(session: AsyncSession, actor: Actor, unit_id: int) -> dict[str, Any]:
    row = (await session.execute(select(units.c.id, units.c.status).where(
        units.c.id == unit_id, unit_filter(actor)))).first()
    if row is None:
        raise NotFound("unit", unit_id)
    return dict(row._mapping)


async def ownership_history(session: AsyncSession, actor: Actor, unit_id: int,
                            today: date) -> dict[str, Any]:
    """The unit's chain of owners, newest first, with its status and vacancy on `today`."""
    unit = await unit_in_scope(session, actor, unit_id)
    rows = [dict(r._mapping) for r in await session.execute(
        select(ownerships).where(ownerships.c.unit_id == unit_id)
        .order_by(ownerships.c.started_on.desc()))]
    owners: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if rows:
        found = await session.execute(
            select(ownership_owners.c.ownership_id, ownership_owners.c.resident_id,
                   residents.c.name, ownership_owners.c.share)
            .join(residents, residents.c.id == ownership_owners.c.resident_id)
            .where(ownership_owners.c.ownership_id.in_([r["id"] for r in rows]))
            .order_by(ownership_owners.c.id))
        for owner in found:
            owners[owner.ownership_id].append({"resident_id": owner.resident_id,
                                               "name": owner.name, "share": owner.share})
    history = [{**row, "current": row["ended_on"] is None, "owners": owners[row["id"]]}
               for row in rows]
    return {"unit_id": unit_id, "status": unit["status"],
            **await occupancy(session, unit_id, today),
            "current": next((h for h in history if h["current"]), None),
            "history": history}


async def occupancy(session: AsyncSession, unit_id: int, today: date) -> dict[str, Any]:
    """Vacant: nobody lives there today (move-in ≤ today < move-out) and no lease runs;
    `vacant_since` is the day the last residency or lease ended, when there was one."""
    living = await session.scalar(select(residencies.c.id).where(
        residencies.c.unit_id == unit_id, _living_on(today)).limit(1))
    leased = await session.scalar(select(unit_leases.c.id).where(
        unit_leases.c.unit_id == unit_id, unit_leases.c.starts_on <= today,
        unit_leases.c.ends_on > today).limit(1))
    if living is not None or leased is not None:
        return {"vacant": False, "vacant_since": None}
    ends = [d for d in await session.scalars(select(residencies.c.moved_out).where(
        residencies.c.unit_id == unit_id, residencies.c.moved_out <= today)) if d is not None]
    ends += list(await session.scalars(select(unit_leases.c.ends_on).where(
        unit_leases.c.unit_id == unit_id, unit_leases.c.ends_on <= today)))
    return {"vacant": True, "vacant_since": max(ends, default=None)}


async def leases_of(session: AsyncSession, actor: Actor, unit_id: int,
                    today: date) -> list[dict[str, Any]]:
    await unit_in_scope(session, actor, unit_id)
    rows = [dict(r._mapping) for r in await session.execute(
        select(unit_leases).where(unit_leases.c.unit_id == unit_id)
        .order_by(unit_leases.c.starts_on.desc()))]
    tenants: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if rows:
        found = await session.execute(
            select(unit_lease_tenants.c.lease_id, unit_lease_tenants.c.resident_id,
                   residents.c.name)
            .join(residents, residents.c.id == unit_lease_tenants.c.resident_id)
            .where(unit_lease_tenants.c.lease_id.in_([r["id"] for r in rows]))
            .order_by(unit_lease_tenants.c.id))
        for tenant in found:
            tenants[tenant.lease_id].append({"resident_id": tenant.resident_id,
                                             "name": tenant.name})
    return [{**row, "current": row["starts_on"] <= today < row["ends_on"],
             "tenants": tenants[row["id"]]} for row in rows]


async def my_units(session: AsyncSession, actor: Actor, today: date) -> list[dict[str, Any]]:
    """The units the resident lives in today, with their relation and (if an owner) share."""
    if not actor.is_resident or actor.resident_id is None:
        return []
    query = (select(units.c.id, units.c.number, units.c.floor, units.c.gross_area,
                    units.c.inner_area, units.c.layout, units.c.orientation, units.c.status,
                    units.c.site_id, sites.c.name.label("site_name"),
                    units.c.building_id, buildings.c.code.label("building_code"),
                    buildings.c.name.label("building_name"),
                    residencies.c.relation, residencies.c.moved_in, residencies.c.moved_out)
             .join(buildings, buildings.c.id == units.c.building_id)
             .join(sites, sites.c.id == units.c.site_id)
             .join(residencies, residencies.c.unit_id == units.c.id)
             .where(unit_filter(actor), residencies.c.resident_id == actor.resident_id,
                    _living_on(today))
             .order_by(units.c.id, residencies.c.id))
    rows: dict[int, dict[str, Any]] = {}
    for row in await session.execute(query):
        rows.setdefault(row.id, dict(row._mapping))
    shares = {r.unit_id: r.share for r in await session.execute(
        select(ownerships.c.unit_id, ownership_owners.c.share)
        .join(ownership_owners, ownership_owners.c.ownership_id == ownerships.c.id)
        .where(ownerships.c.unit_id.in_(list(rows)), ownerships.c.ended_on.is_(None),
               ownership_owners.c.resident_id == actor.resident_id))} if rows else {}
    return [{**row, "ownership_share": shares.get(unit_id)} for unit_id, row in rows.items()]


async def my_household(session: AsyncSession, actor: Actor,
                       today: date) -> list[dict[str, Any]]:
    """Who lives in the resident's units today; phones masked but the caller's own."""
    if not actor.is_resident:
        return []
    query = (select(residencies.c.unit_id, units.c.number.label("unit_number"),
                    residents.c.id.label("resident_id"), residents.c.name, residents.c.phone,
                    residencies.c.relation, residencies.c.moved_in, residencies.c.moved_out)
             .join(units, units.c.id == residencies.c.unit_id)
             .join(residents, residents.c.id == residencies.c.resident_id)
             .where(unit_filter(actor), _living_on(today))
             .order_by(residencies.c.unit_id, residencies.c.id))
    found = []
    for row in await session.execute(query):
        item = dict(row._mapping)
        if item["phone"] and not actor.sees_phone_of(item["resident_id"]):
            item["phone"] = mask_phone(item["phone"])
        item["me"] = item["resident_id"] == actor.resident_id
        found.append(item)
    return found
