"""Reads of parking tariffs with their versions. Scope is in the SQL: staff of the site."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.store.parking_tables import parking_tariff_versions, parking_tariffs
from hub.views.scoping import site_filter


def _scope(actor: Actor, site_id: ColumnElement[int]) -> ColumnElement[bool]:
    return false() if actor.is_resident else site_filter(actor, site_id)


def tariff_query(actor: Actor, site_id: int | None = None,
                 tariff_id: int | None = None) -> Select[Any]:
    query = select(parking_tariffs).where(_scope(actor, parking_tariffs.c.site_id))
    if site_id is not None:
        query = query.where(parking_tariffs.c.site_id == site_id)
    if tariff_id is not None:
        query = query.where(parking_tariffs.c.id == tariff_id)
    return query.order_by(parking_tariffs.c.id)


async def with_versions(session: AsyncSession, tariffs: list[dict[str, Any]]
                        ) -> list[dict[str, Any]]:
    """Each tariff with its versions, oldest first."""
    found: dict[int, list[dict[str, Any]]] = {t["id"]: [] for t in tariffs}
    rows = await session.execute(select(parking_tariff_versions).where(
        parking_tariff_versions.c.tariff_id.in_(list(found))).order_by(
        parking_tariff_versions.c.tariff_id, parking_tariff_versions.c.number))
    for row in rows:
        found[row.tariff_id].append(dict(row._mapping))
    return [{**t, "versions": found[t["id"]]} for t in tariffs]
