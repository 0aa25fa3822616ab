"""Reads of sites, buildings and units."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.errors import NotFound
from hub.store.tables import buildings, residencies, sites, units
from hub.views.scoping import building_filter, site_filter, unit_filter


async def page(session: AsyncSession, query: Select[Any], limit: int,
               offset: int) -> tuple[list[dict[str, Any]], int]:
    """One page of a query, and how many rows the whole query has."""
    total = await _count(session, query)
    rows = await session.execute(query.limit(limit).offset(offset))
    return [dict(row._mapping) for row in rows], total


TOTAL = "_total"


async def household_page(session: AsyncSession, query: Select[Any], limit: int,
                         offset: int) -> tuple[list[dict[str, Any]], int]:
    """`page` in one statement, for the few rows of one household or account (a resident's
    bills, notices, notifications): the total comes with every row as a window count, which
    SQL computes before LIMIT and OFFSET. It reads every matching row to count them, which
    `page`'s separate count avoids, so staff lists over a whole site keep `page`."""
    rows = (await session.execute(query.add_columns(func.count().over().label(TOTAL))
                                  .limit(limit).offset(offset))).all()
    if not rows:
        # Past the end, or nothing at all: only a separate count can tell which.
        return [], 0 if offset == 0 else await _count(session, query)
    total = int(rows[0]._mapping[TOTAL])
    items = []
    for row in rows:
        item = dict(row._mapping)
        del item[TOTAL]
        items.append(item)
    return items, total


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def one(session: AsyncSession, query: Select[Any], kind: str, ident: int) -> dict[str, Any]:
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(kind, ident)
    return dict(row._mapping)


def site_query(actor: Actor) -> Select[Any]:
    if actor.is_resident:
        household_sites = select(units.c.site_id).where(unit_filter(actor))
        return select(sites).where(sites.c.id.in_(household_sites)).order_by(sites.c.id)
    return select(sites).where(site_filter(actor, sites.c.id)).order_by(sites.c.id)


def building_query(actor: Actor, site_id: int | None = None) -> Select[Any]:
    scope: ColumnElement[bool]
    if actor.is_resident:
        scope = buildings.c.id.in_(select(units.c.building_id).where(unit_filter(actor)))
    else:
        scope = building_filter(actor, buildings.c.site_id, buildings.c.id)
    query = select(buildings).where(scope).order_by(buildings.c.id)
    return query.where(buildings.c.site_id == site_id) if site_id is not None else query


def unit_query(actor: Actor, *, site_id: int | None = None, building_id: int | None = None,
               status: str | None = None, number: str | None = None,
               vacant_of_residents: bool | None = None) -> Select[Any]:
    query = select(units).where(unit_filter(actor)).order_by(units.c.id)
    if site_id is not None:
        query = query.where(units.c.site_id == site_id)
    if building_id is not None:
        query = query.where(units.c.building_id == building_id)
    if status is not None:
        query = query.where(units.c.status == status)
    if number is not None:
        query = query.where(units.c.number == number)
    if vacant_of_residents is not None:
        lived_in = select(residencies.c.unit_id).where(residencies.c.moved_out.is_(None))
        query = query.where(units.c.id.not_in(lived_in) if vacant_of_residents
                            else units.c.id.in_(lived_in))
    return query
