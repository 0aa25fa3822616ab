"""Reads of parking sessions, gate decisions and charges. Location data: staff of the site
(the policy table lets only security, managers and admins here); a resident sees only the
sessions of their household's vehicles and of cars they are named on (a visitor they host).
Scope is in the SQL."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, case, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.parking.decisions import COUNTED_STANDINGS
from hub.domain.parking.sessions import PRESENT_STATES, SessionState
from hub.store.parking_registry_tables import parking_lots, parking_vehicles
from hub.store.parking_session_tables import (
    parking_charges,
    parking_gate_decisions,
    parking_session_viewers,
    parking_sessions,
)
from hub.views.scoping import site_filter

StateFilter = Literal["inside", "history", "held"]
_PRESENT = [s.value for s in PRESENT_STATES]
s, c = parking_sessions.c, parking_charges.c


def _resident_sessions(actor: Actor) -> ColumnElement[bool]:
    named = select(parking_session_viewers.c.session_id).where(
        parking_session_viewers.c.resident_id == (actor.resident_id or 0))
    household = select(parking_vehicles.c.id).where(
        parking_vehicles.c.unit_id.in_(actor.unit_ids)) if actor.unit_ids else None
    clauses = [s.id.in_(named)]
    if household is not None:
        clauses.append(s.vehicle_id.in_(household))
    return or_(*clauses) if actor.resident_id or actor.unit_ids else false()


def session_scope(actor: Actor) -> ColumnElement[bool]:
    return _resident_sessions(actor) if actor.is_resident else site_filter(actor, s.site_id)


def session_query(actor: Actor, *, site_id: int | None = None, lot_id: int | None = None,
                  state: StateFilter | None = None, needs_review: bool | None = None,
                  plate: str | None = None, session_id: int | None = None) -> Select[Any]:
    query = select(parking_sessions).where(session_scope(actor))
    if site_id is not None:
        query = query.where(s.site_id == site_id)
    if lot_id is not None:
        query = query.where(s.lot_id == lot_id)
    if state == "inside":
        query = query.where(s.state == SessionState.INSIDE.value)
    elif state == "held":
        query = query.where(s.state == SessionState.HELD.value)
    elif state == "history":
        query = query.where(s.state.not_in(_PRESENT))
    if needs_review is not None:
        query = query.where(s.needs_review.is_(needs_review))
    if plate:
        query = query.where(s.plate == plate)
    if session_id is not None:
        query = query.where(s.id == session_id)
    return query.order_by(s.id.desc())


async def decisions_of(db: AsyncSession, session_id: int) -> list[dict[str, Any]]:
    rows = await db.execute(select(parking_gate_decisions).where(
        parking_gate_decisions.c.session_id == session_id)
        .order_by(parking_gate_decisions.c.at, parking_gate_decisions.c.id))
    return [dict(row._mapping) for row in rows]


async def charge_of(db: AsyncSession, session_id: int) -> dict[str, Any] | None:
    row = (await db.execute(select(parking_charges).where(c.session_id == session_id))).first()
    return None if row is None else dict(row._mapping)


def charge_query(actor: Actor) -> Select[Any]:
    """Charges of the sessions the actor sees."""
    visible = select(s.id).where(session_scope(actor))
    return select(parking_charges).where(c.session_id.in_(visible)).order_by(c.id.desc())


async def occupancy(db: AsyncSession, actor: Actor, site_id: int) -> list[dict[str, Any]]:
    """Per lot of the site: its capacity for temporary cars, and the cars in it now."""
    if actor.is_resident:
        return []
    lots = (await db.execute(select(parking_lots).where(
        parking_lots.c.site_id == site_id, site_filter(actor, parking_lots.c.site_id))
        .order_by(parking_lots.c.id))).all()
    counted = [x.value for x in COUNTED_STANDINGS]
    rows = await db.execute(
        select(s.lot_id, func.count(), func.sum(case((s.standing.in_(counted), 1), else_=0)))
        .where(s.site_id == site_id, s.state.in_(_PRESENT)).group_by(s.lot_id))
    counts = {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}
    return [{"lot_id": lot.id, "code": lot.code, "name": lot.name, "parent_id": lot.parent_id,
             "temporary_capacity": lot.temporary_capacity,
             "inside_total": counts.get(lot.id, (0, 0))[0],
             "inside_temporary": counts.get(lot.id, (0, 0))[1]} for lot in lots]
