"""Reads of sites, buildings and units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

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
# The parameters of a resident's lists (HouseholdList), bound at each request.
HOUSEHOLD_UNITS: BindParameter[Any] = bindparam("household_units", expanding=True)
ACCOUNT: BindParameter[Any] = bindparam("account_id")
NOW: BindParameter[Any] = bindparam("now")
_PAGE_LIMIT: BindParameter[Any] = bindparam("page_limit")
_PAGE_OFFSET: BindParameter[Any] = bindparam("page_offset")


@dataclass(frozen=True)
class HouseholdList:
    """One of a resident's lists (their bills, notices, notifications), built once per shape
    with bound parameters instead of once per request: building a statement and computing
    its cache key cost more than SQLite's whole work on it. The page is one statement: the
    total comes with every row as a window count, which SQL computes before LIMIT and OFFSET.
    It reads every matching row to count them, which `page`'s separate count avoids, so
    staff lists over a whole site keep `page`."""

    query: Select[Any]
    paged: Select[Any]

    @classmethod
    def of(cls, query: Select[Any]) -> HouseholdList:
        return cls(query, query.add_columns(func.count().over().label(TOTAL))
                   .limit(_PAGE_LIMIT).offset(_PAGE_OFFSET))


def household_params(actor: Actor, **more: Any) -> dict[str, Any]:
    """The bound parameters of a HouseholdList for this resident."""
    return {"household_units": sorted(actor.unit_ids), "account_id": actor.account_id, **more}


async def household_page(conn: AsyncConnection, listing: HouseholdList,
                         params: dict[str, Any], limit: int,
                         offset: int) -> tuple[list[dict[str, Any]], int]:
    """`page` of a resident's list, in one statement. On a connection, in Core: these are
    no ORM entities, and an ORM session around a Core read costs as much as the read."""
    result = await conn.execute(listing.paged, params | {"page_limit": limit,
                                                         "page_offset": offset})
    fields = list(result.keys())[:-1]  # the last column is the window count (TOTAL)
    rows = result.all()
    if not rows:
        # Past the end, or nothing at all: only a separate count can tell which.
        return [], 0 if offset == 0 else await _count(conn, listing.query, params)
    return [dict(zip(fields, row, strict=False)) for row in rows], int(rows[0][-1])


async def _count(db: AsyncSession | AsyncConnection, query: Select[Any],
                 params: dict[str, Any] | None = None) -> int:
    return int(await db.scalar(select(func.count()).select_from(query.subquery()), params) or 0)


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
