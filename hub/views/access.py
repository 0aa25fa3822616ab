"""Reads of access control. Scope is in the SQL: staff see doors, credentials and passes of
their sites or buildings; the access log (location data) only staff of whole sites; residents
their household's passes and their own log (their entries and their visitors')."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.access.model import PassStatus
from hub.domain.accounts import Actor, Role
from hub.domain.national_id import mask_phone
from hub.store.access_tables import access_credentials, access_doors, access_log
from hub.store.access_tables import access_visitor_passes as passes
from hub.store.tables import units
from hub.views.scoping import building_filter, resident_filter

# Who calls a visitor: guards at the gate, managers. The service desk reads passes masked.
VISITOR_PHONE_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SECURITY})
PASS_COLUMNS = [c for c in passes.c if c.name != "salt"]


def door_query(actor: Actor, site_id: int | None = None) -> Select[Any]:
    if actor.is_resident:
        return select(access_doors).where(false())
    # A site gate door (no building) only for staff of the whole site.
    scope = building_filter(actor, access_doors.c.site_id, access_doors.c.building_id)
    query = select(access_doors).where(scope).order_by(access_doors.c.id)
    return query.where(access_doors.c.site_id == site_id) if site_id is not None else query


def credential_query(actor: Actor, today: date, resident_id: int | None = None
                     ) -> Select[Any]:
    """Never the secret: what a credential is, whose, and whether it is live."""
    columns = [c for c in access_credentials.c if c.name not in ("secret", "live_key")]
    scope = false() if actor.is_resident else resident_filter(
        actor, access_credentials.c.resident_id, access_credentials.c.site_id, today)
    query = select(*columns).where(scope).order_by(access_credentials.c.id)
    if resident_id is not None:
        query = query.where(access_credentials.c.resident_id == resident_id)
    return query


def pass_query(actor: Actor, status: PassStatus | None = None,
               site_id: int | None = None) -> Select[Any]:
    if actor.is_resident:
        scope = passes.c.unit_id.in_(actor.unit_ids) if actor.unit_ids else false()
        query = select(*PASS_COLUMNS).where(scope)
    else:
        query = select(*PASS_COLUMNS).join(units, units.c.id == passes.c.unit_id).where(
            building_filter(actor, units.c.site_id, units.c.building_id))
    if status is not None:
        query = query.where(passes.c.status == status.value)
    if site_id is not None:
        query = query.where(passes.c.site_id == site_id)
    return query.order_by(passes.c.id.desc())


def shown_pass(actor: Actor, row: dict[str, Any]) -> dict[str, Any]:
    """The phone in full for the household that wrote it and for those who call visitors."""
    if row["visitor_phone"] and not actor.is_resident and actor.role not in VISITOR_PHONE_ROLES:
        return {**row, "visitor_phone": mask_phone(row["visitor_phone"])}
    return row


def log_query(actor: Actor, *, site_id: int | None = None, door_id: int | None = None,
              resident_id: int | None = None, visitor_pass_id: int | None = None
              ) -> Select[Any]:
    scope: ColumnElement[bool]
    if actor.is_resident:
        mine = access_log.c.resident_id == actor.resident_id
        visitors = access_log.c.visitor_pass_id.in_(
            select(passes.c.id).where(passes.c.unit_id.in_(actor.unit_ids))) \
            if actor.unit_ids else false()
        scope = or_(mine, visitors) if actor.resident_id is not None else false()
    elif actor.all_sites:
        scope = true()
    else:
        scope = access_log.c.site_id.in_(actor.whole_sites) if actor.whole_sites else false()
    query = select(access_log).where(scope)
    for column, value in ((access_log.c.site_id, site_id), (access_log.c.door_id, door_id),
                          (access_log.c.resident_id, resident_id),
                          (access_log.c.visitor_pass_id, visitor_pass_id)):
        if value is not None:
            query = query.where(column == value)
    return query.order_by(access_log.c.at.desc(), access_log.c.id.desc())


async def pass_salts(session: AsyncSession, pass_ids: list[int]) -> dict[int, str]:
    """For showing a household its visitors' codes again (hub.domain.access.codes)."""
    if not pass_ids:
        return {}
    rows = await session.execute(select(passes.c.id, passes.c.salt).where(
        passes.c.id.in_(pass_ids)))
    return {row.id: row.salt for row in rows}
