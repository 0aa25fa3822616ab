"""Reads of residents (masked) and accounts."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.national_id import mask_phone
from hub.store.tables import account_grants, accounts, audit_log, residencies, residents, units
from hub.views.scoping import resident_filter, unit_filter

RESIDENT_COLUMNS = (residents.c.id, residents.c.site_id, residents.c.name, residents.c.phone,
                    residents.c.national_id_masked.label("national_id"))


def resident_query(actor: Actor, today: date, *, site_id: int | None = None,
                   unit_id: int | None = None, building_id: int | None = None,
                   name: str | None = None, index: str | None = None) -> Select[Any]:
    query = select(*RESIDENT_COLUMNS).where(
        resident_filter(actor, residents.c.id, residents.c.site_id, today)).order_by(residents.c.id)
    if site_id is not None:
        query = query.where(residents.c.site_id == site_id)
    if name:
        query = query.where(residents.c.name.contains(name, autoescape=True))
    if index is not None:
        query = query.where(residents.c.national_id_index == index)
    if unit_id is not None or building_id is not None:
        living = select(residencies.c.resident_id).join(units, units.c.id == residencies.c.unit_id)
        if unit_id is not None:
            living = living.where(units.c.id == unit_id)
        if building_id is not None:
            living = living.where(units.c.building_id == building_id)
        query = query.where(residents.c.id.in_(living))
    return query


async def present_residents(session: AsyncSession, actor: Actor,
                            rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attach residencies the actor may see, and mask phones for roles that don't need them."""
    ids = [row["id"] for row in rows]
    by_resident: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        query = select(residencies).join(units, units.c.id == residencies.c.unit_id).where(
            residencies.c.resident_id.in_(ids), unit_filter(actor)).order_by(residencies.c.id)
        for found in await session.execute(query):
            by_resident[found.resident_id].append(dict(found._mapping))
    for row in rows:
        row["residencies"] = by_resident[row["id"]]
        if row["phone"] and not actor.sees_phone_of(row["id"]):
            row["phone"] = mask_phone(row["phone"])
    return rows


def account_query(actor: Actor, *, role: str | None = None,
                  site_id: int | None = None) -> Select[Any]:
    query = select(accounts.c.id).order_by(accounts.c.id)
    if not actor.all_sites:
        # An account is visible when every one of its grants is within the actor's whole sites.
        outside = select(account_grants.c.account_id).where(
            account_grants.c.site_id.not_in(actor.whole_sites))
        granted = select(account_grants.c.account_id)
        query = query.where(accounts.c.id.in_(granted), accounts.c.id.not_in(outside),
                            accounts.c.role != "admin")
    if role is not None:
        query = query.where(accounts.c.role == role)
    if site_id is not None:
        query = query.where(accounts.c.id.in_(
            select(account_grants.c.account_id).where(account_grants.c.site_id == site_id)))
    return query


async def present_accounts(session: AsyncSession, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = await session.execute(select(
        accounts.c.id, accounts.c.username, accounts.c.role, accounts.c.display_name,
        accounts.c.active, accounts.c.resident_id).where(accounts.c.id.in_(ids)))
    found = {row.id: {**row._mapping, "grants": []} for row in rows}
    grants = await session.execute(select(account_grants).where(
        account_grants.c.account_id.in_(ids)).order_by(account_grants.c.id))
    for grant in grants:
        found[grant.account_id]["grants"].append(
            {"site_id": grant.site_id, "building_id": grant.building_id})
    return [found[i] for i in ids if i in found]


def audit_query(*, action: str | None = None, actor_id: int | None = None,
                target: str | None = None) -> Select[Any]:
    query = select(audit_log).order_by(audit_log.c.id.desc())
    if action is not None:
        query = query.where(audit_log.c.action == action)
    if actor_id is not None:
        query = query.where(audit_log.c.actor_id == actor_id)
    if target is not None:
        query = query.where(audit_log.c.target == target)
    return query
