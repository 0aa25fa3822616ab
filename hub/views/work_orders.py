"""Reads of work orders: staff lists and the SLA board, one order with its timeline, an
assignee's queue, the roster, and a household's repairs. Scope is in the SQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.errors import NotFound
from hub.domain.work_orders import OPEN, Status
from hub.store.work_order_tables import (
    work_order_materials,
    work_order_occurrences,
    work_order_roster,
    work_order_timeline,
    work_orders,
)
from hub.views.scoping import building_filter, site_filter

wo = work_orders
OPEN_VALUES = sorted(s.value for s in OPEN)
LIST_COLUMNS = (wo.c.id, wo.c.site_id, wo.c.building_id, wo.c.unit_id, wo.c.device_id,
                wo.c.asset_id, wo.c.area, wo.c.title, wo.c.category, wo.c.priority,
                wo.c.source, wo.c.fault, wo.c.status, wo.c.assignee_id, wo.c.opened_at,
                wo.c.respond_by, wo.c.arrive_by, wo.c.resolve_by, wo.c.due_at,
                wo.c.accepted_at, wo.c.started_at, wo.c.resolved_at, wo.c.closed_at,
                wo.c.reopen_count)


def staff_scope(actor: Actor) -> ColumnElement[bool]:
    """The building's orders, or the whole site's; an order in no building needs the site."""
    if actor.is_resident:
        return false()
    return building_filter(actor, wo.c.site_id, wo.c.building_id)


def household_scope(actor: Actor) -> ColumnElement[bool]:
    if not actor.is_resident or not actor.unit_ids:
        return false()
    return wo.c.unit_id.in_(actor.unit_ids)


def overdue(now: datetime) -> ColumnElement[bool]:
    """Open, with a clock past due and not met."""
    return and_(wo.c.status.in_(OPEN_VALUES), or_(
        and_(wo.c.accepted_at.is_(None), wo.c.respond_by < now),
        and_(wo.c.started_at.is_(None), wo.c.arrive_by < now),
        and_(wo.c.resolved_at.is_(None), wo.c.status != Status.PAUSED.value,
             wo.c.resolve_by < now)))


def occurrence_count() -> Any:
    return select(func.count()).where(
        work_order_occurrences.c.order_id == wo.c.id).scalar_subquery().label("occurrences")


def order_query(actor: Actor, now: datetime, *, status: Status | None = None,
                category: str | None = None, priority: str | None = None,
                site_id: int | None = None, building_id: int | None = None,
                assignee_id: int | None = None, device_id: int | None = None,
                asset_id: int | None = None, source: str | None = None,
                is_overdue: bool | None = None) -> Select[Any]:
    query = select(*LIST_COLUMNS, occurrence_count()).where(staff_scope(actor))
    equal = {wo.c.status: status, wo.c.category: category, wo.c.priority: priority,
             wo.c.site_id: site_id, wo.c.building_id: building_id,
             wo.c.assignee_id: assignee_id, wo.c.device_id: device_id,
             wo.c.asset_id: asset_id, wo.c.source: source}
    for column, value in equal.items():
        if value is not None:
            query = query.where(column == value)
    if is_overdue is not None:
        query = query.where(overdue(now) if is_overdue else ~overdue(now))
    return query.order_by(wo.c.id.desc())


def mine_query(actor: Actor) -> Select[Any]:
    """The assignee's own queue: open orders held by the caller, most urgent first."""
    return select(*LIST_COLUMNS, occurrence_count()).where(
        staff_scope(actor), wo.c.assignee_id == actor.account_id,
        wo.c.status.in_(OPEN_VALUES)).order_by(wo.c.priority, wo.c.resolve_by, wo.c.id)


async def order_detail(session: AsyncSession, actor: Actor, order_id: int) -> dict[str, Any]:
    row = (await session.execute(select(wo, occurrence_count()).where(
        wo.c.id == order_id, staff_scope(actor)))).first()
    if row is None:
        raise NotFound("work order", order_id)
    return await _with_parts(session, dict(row._mapping))


async def _with_parts(session: AsyncSession, order: dict[str, Any]) -> dict[str, Any]:
    timeline = await session.execute(select(work_order_timeline).where(
        work_order_timeline.c.order_id == order["id"]).order_by(work_order_timeline.c.id))
    materials = await session.execute(select(work_order_materials).where(
        work_order_materials.c.order_id == order["id"]).order_by(work_order_materials.c.id))
    lines = [dict(m._mapping) for m in materials]
    for line in lines:
        line["amount"] = (line["quantity"] * line["unit_price"]).quantize(Decimal("0.01"))
    return {**order, "timeline": [dict(t._mapping) for t in timeline], "materials": lines,
            "cost": sum((m["amount"] for m in lines), Decimal("0.00")),
            "chargeable": sum((m["amount"] for m in lines if m["chargeable"]),
                              Decimal("0.00"))}


async def sla_board(session: AsyncSession, actor: Actor, now: datetime, lead: timedelta,
                    site_id: int | None = None, limit: int = 50) -> dict[str, Any]:
    """Open orders by state and priority, how many are overdue, and those at risk: past due
    or due within `lead`, soonest first."""
    scope = [staff_scope(actor), wo.c.status.in_(OPEN_VALUES)]
    if site_id is not None:
        scope.append(wo.c.site_id == site_id)
    by_status = {row[0]: row[1] for row in await session.execute(
        select(wo.c.status, func.count()).where(*scope).group_by(wo.c.status))}
    by_priority = {row[0]: row[1] for row in await session.execute(
        select(wo.c.priority, func.count()).where(*scope).group_by(wo.c.priority))}
    late = await session.scalar(select(func.count()).where(*scope, overdue(now)))
    soon = now + lead
    at_risk = or_(and_(wo.c.accepted_at.is_(None), wo.c.respond_by < soon),
                  and_(wo.c.started_at.is_(None), wo.c.arrive_by < soon),
                  and_(wo.c.resolved_at.is_(None), wo.c.resolve_by < soon))
    rows = await session.execute(select(*LIST_COLUMNS, occurrence_count()).where(
        *scope, at_risk).order_by(wo.c.priority, wo.c.respond_by, wo.c.id).limit(limit))
    return {"at": now, "open_by_status": {str(k): v for k, v in by_status.items()},
            "open_by_priority": {str(k): v for k, v in by_priority.items()},
            "overdue": int(late or 0), "at_risk": [dict(r._mapping) for r in rows]}


def roster_query(actor: Actor, site_id: int | None = None) -> Select[Any]:
    query = select(work_order_roster).where(site_filter(actor, work_order_roster.c.site_id))
    if site_id is not None:
        query = query.where(work_order_roster.c.site_id == site_id)
    return query.order_by(work_order_roster.c.site_id, work_order_roster.c.account_id)


REPAIR_COLUMNS = (wo.c.id, wo.c.unit_id, wo.c.title, wo.c.description, wo.c.category,
                  wo.c.status, wo.c.opened_at, wo.c.accepted_at, wo.c.started_at,
                  wo.c.resolved_at, wo.c.closed_at, wo.c.reopen_count, wo.c.rating,
                  wo.c.rating_comment, wo.c.photos)
# What a household sees of its repair's timeline: the steps, not the staff's notes.
RESIDENT_KINDS = ("opened", "assigned", "claimed", "accepted", "started", "paused",
                  "resumed", "resolved", "closed", "cancelled", "reopened", "confirmed")


def repair_query(actor: Actor, status: Status | None = None) -> Select[Any]:
    query = select(*REPAIR_COLUMNS).where(household_scope(actor))
    if status is not None:
        query = query.where(wo.c.status == status)
    return query.order_by(wo.c.id.desc())


async def repair_detail(session: AsyncSession, actor: Actor, order_id: int) -> dict[str, Any]:
    row = (await session.execute(repair_query(actor).where(wo.c.id == order_id))).first()
    if row is None:
        raise NotFound("work order", order_id)
    steps = await session.execute(
        select(work_order_timeline.c.at, work_order_timeline.c.kind).where(
            work_order_timeline.c.order_id == order_id,
            work_order_timeline.c.kind.in_(RESIDENT_KINDS)).order_by(work_order_timeline.c.id))
    return {**dict(row._mapping), "steps": [dict(s._mapping) for s in steps]}
