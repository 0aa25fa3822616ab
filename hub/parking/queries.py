"""The reads the gate's transaction needs, each one statement on the decision's session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.parking.decisions import COUNTED_STANDINGS
from hub.domain.parking.quote import PriorCharge
from hub.domain.parking.sessions import (
    PRESENT_STATES,
    ParkingCharge,
    ParkingSession,
    SessionState,
    present_key,
)
from hub.domain.parking.tariff import TariffVersion
from hub.store.parking_session_tables import parking_charges, parking_sessions
from hub.store.parking_tables import parking_tariff_versions

_PRESENT = [s.value for s in PRESENT_STATES]
RECENT_EXIT = timedelta(days=1)  # how far back a late entry read looks for its exit


async def present_session(db: AsyncSession, lot_id: int, plate: str) -> ParkingSession | None:
    found = await db.scalars(select(ParkingSession).where(
        parking_sessions.c.present_key == present_key(lot_id, plate)).limit(1))
    return found.first()


async def present_plates(db: AsyncSession, lot_id: int) -> list[str]:
    rows = await db.execute(select(parking_sessions.c.plate).where(
        parking_sessions.c.lot_id == lot_id, parking_sessions.c.state.in_(_PRESENT)))
    return [row[0] for row in rows]


async def temporary_loads(db: AsyncSession, lot_ids: Sequence[int]) -> dict[int, int]:
    """Temporary and visitor cars present per lot."""
    rows = await db.execute(
        select(parking_sessions.c.lot_id, func.count())
        .where(parking_sessions.c.lot_id.in_(lot_ids),
               parking_sessions.c.state.in_(_PRESENT),
               parking_sessions.c.standing.in_([s.value for s in COUNTED_STANDINGS]))
        .group_by(parking_sessions.c.lot_id))
    counts = {lot: 0 for lot in lot_ids}
    counts.update({row[0]: int(row[1]) for row in rows})
    return counts


async def entry_candidates(db: AsyncSession, site_id: int, lot_id: int, plate: str,
                           at: datetime) -> tuple[ParkingSession | None, ParkingSession | None]:
    """In one statement: the plate's present session in the lot (anti-passback), and a
    session opened by an exit with no entry whose exit came after `at`: a late entry read
    (out of order) belongs to it, and must not start a second stay."""
    found = await db.scalars(select(ParkingSession).where(
        parking_sessions.c.site_id == site_id, parking_sessions.c.plate == plate,
        parking_sessions.c.lot_id == lot_id,
        or_(parking_sessions.c.present_key == present_key(lot_id, plate),
            and_(parking_sessions.c.no_entry.is_(True), parking_sessions.c.entry_at.is_(None),
                 parking_sessions.c.exit_at >= at,
                 parking_sessions.c.exit_at <= at + RECENT_EXIT))
    ).order_by(parking_sessions.c.exit_at))
    present = awaiting = None
    for session in found:
        if session.present_key is not None:
            present = session
        elif awaiting is None:
            awaiting = session
    return present, awaiting


async def recent_exit(db: AsyncSession, lot_id: int, plates: Iterable[str], lane_id: int,
                      at: datetime, window: timedelta) -> ParkingSession | None:
    """A session of this car that left (or was closed) through this lane within the window:
    the read is a repeat of its exit."""
    found = await db.scalars(select(ParkingSession).where(
        parking_sessions.c.lot_id == lot_id, parking_sessions.c.plate.in_(list(plates)),
        parking_sessions.c.state.in_([SessionState.LEFT.value,
                                      SessionState.CLOSED_BY_STAFF.value]),
        parking_sessions.c.exit_lane_id == lane_id,
        parking_sessions.c.exit_at >= at - window, parking_sessions.c.exit_at <= at + window,
    ).limit(1))
    return found.first()


async def prior_charges(db: AsyncSession, site_id: int, plate: str, since: datetime,
                        before: datetime, exclude: int | None) -> list[PriorCharge]:
    """The plate's earlier charged stays that may share a cap window with this one."""
    rows = await db.execute(
        select(parking_sessions.c.entry_at, parking_sessions.c.exit_at,
               parking_charges.c.amount)
        .join(parking_charges, parking_charges.c.session_id == parking_sessions.c.id)
        .where(parking_sessions.c.site_id == site_id, parking_sessions.c.plate == plate,
               parking_sessions.c.entry_at >= since, parking_sessions.c.entry_at < before,
               parking_sessions.c.exit_at.is_not(None), parking_sessions.c.id != (exclude or 0)))
    return [PriorCharge(entry, max(entry, leave), amount) for entry, leave, amount in rows
            if entry is not None and leave is not None]


async def charge_of(db: AsyncSession, session_id: int) -> ParkingCharge | None:
    found = await db.scalars(select(ParkingCharge).where(
        parking_charges.c.session_id == session_id).limit(1))
    return found.first()


async def tariff_versions(db: AsyncSession, tariff_id: int) -> list[TariffVersion]:
    return list(await db.scalars(select(TariffVersion).where(
        parking_tariff_versions.c.tariff_id == tariff_id)))
