"""Reads of announcements: staff lists in their scope; residents what applies to their units
now, with their read flag."""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.notices import Audience, NoticeStatus
from hub.store.notice_tables import announcement_reads, announcement_targets, announcements
from hub.store.tables import units
from hub.views.property import ACCOUNT, HOUSEHOLD_UNITS, NOW, HouseholdList

a, t = announcements, announcement_targets


def _staff_scope(actor: Actor) -> ColumnElement[bool]:
    if actor.all_sites:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if actor.whole_sites:
        clauses.append(a.c.site_id.in_(actor.whole_sites))
    if actor.buildings:
        clauses.append(and_(a.c.site_id.in_(actor.partial_sites), or_(
            a.c.audience == Audience.SITE,
            exists(select(t.c.id).where(t.c.announcement_id == a.c.id,
                                        t.c.building_id.in_(actor.buildings))))))
    return or_(*clauses) if clauses else false()


def staff_query(actor: Actor, *, site_id: int | None = None, building_id: int | None = None,
                status: str | None = None, key: str | None = None) -> Select[Any]:
    query = select(a).where(_staff_scope(actor)).order_by(a.c.id.desc())
    if site_id is not None:
        query = query.where(a.c.site_id == site_id)
    if building_id is not None:
        query = query.where(exists(select(t.c.id).where(t.c.announcement_id == a.c.id,
                                                         t.c.building_id == building_id)))
    if status is not None:
        query = query.where(a.c.status == status)
    if key is not None:
        query = query.where(a.c.key == key)
    return query


def visible_now(at: datetime | ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(a.c.status == NoticeStatus.PUBLISHED, a.c.publish_at <= at,
                or_(a.c.expires_at.is_(None), a.c.expires_at > at))


@functools.cache
def my_notices(unread: bool | None) -> HouseholdList:
    """Published, begun and not expired, addressed to the site, a building or a unit of the
    resident's current households; `read` is whether this account marked it read. Built
    once, bound by hub.views.property.household_params with `now`; a resident with no
    household has no units to bind, and so no notices."""
    mine = select(units.c.id).where(units.c.id.in_(HOUSEHOLD_UNITS))
    my_buildings = select(units.c.building_id).where(units.c.id.in_(HOUSEHOLD_UNITS))
    my_sites = select(units.c.site_id).where(units.c.id.in_(HOUSEHOLD_UNITS))
    addressed = or_(
        a.c.audience == Audience.SITE,
        exists(select(t.c.id).where(t.c.announcement_id == a.c.id, or_(
            t.c.unit_id.in_(mine),
            and_(t.c.unit_id.is_(None), t.c.building_id.in_(my_buildings))))))
    read = exists(select(announcement_reads.c.account_id).where(
        announcement_reads.c.announcement_id == a.c.id,
        announcement_reads.c.account_id == ACCOUNT))
    query = select(a.c.id, a.c.site_id, a.c.title, a.c.body, a.c.pinned, a.c.publish_at,
                   a.c.expires_at, a.c.rule_id, read.label("read")).where(
        a.c.site_id.in_(my_sites), visible_now(NOW), addressed).order_by(
        a.c.pinned.desc(), a.c.publish_at.desc(), a.c.id.desc())
    if unread is not None:
        query = query.where(~query.selected_columns.read if unread
                            else query.selected_columns.read)
    return HouseholdList.of(query)


async def with_targets(session: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Staff rows get the buildings and units they are addressed to."""
    ids = [row["id"] for row in rows]
    buildings: dict[int, list[int]] = defaultdict(list)
    unit_ids: dict[int, list[int]] = defaultdict(list)
    if ids:
        found = await session.execute(select(t).where(t.c.announcement_id.in_(ids))
                                      .order_by(t.c.id))
        for target in found:
            if target.unit_id is None:
                buildings[target.announcement_id].append(target.building_id)
            else:
                unit_ids[target.announcement_id].append(target.unit_id)
    return [{**row, "building_ids": buildings[row["id"]], "unit_ids": unit_ids[row["id"]]}
            for row in rows]
