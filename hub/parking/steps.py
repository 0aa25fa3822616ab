"""Periodic passes of the gate flow (scheduled from the composition root, under a lease):
flag sessions that never left, and forget plate logs after their retention.

Plate reads and sessions are location data (issue 6): decisions older than
`log_retention_days` are deleted, and so are ended sessions that old unless they carry a
charge (a charge is a financial record; its session stays with it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.domain.parking.sessions import PRESENT_STATES, SessionState
from hub.periodic import Step
from hub.settings import ParkingSettings
from hub.store.parking_session_tables import (
    parking_charges,
    parking_gate_decisions,
    parking_session_viewers,
    parking_sessions,
)

CHUNK = 1000
ENDED = [SessionState.LEFT.value, SessionState.CLOSED_BY_STAFF.value]


async def run_overstay_flags(sessions: async_sessionmaker[AsyncSession],
                             settings: ParkingSettings, now: datetime) -> int:
    """Flag, once, each car inside for longer than `overstay_hours`. Returns how many."""
    limit = now - timedelta(hours=settings.overstay_hours)
    reason = f"inside for more than {settings.overstay_hours:g} hours"
    async with sessions() as db, db.begin():
        result = await db.execute(
            update(parking_sessions)
            .where(parking_sessions.c.state.in_([s.value for s in PRESENT_STATES]),
                   parking_sessions.c.overstay.is_(False),
                   parking_sessions.c.entry_at < limit)
            .values(overstay=True, needs_review=True, updated_at=now,
                    review_reason=reason))
    return int(getattr(result, "rowcount", 0) or 0)


async def run_gate_log_retention(sessions: async_sessionmaker[AsyncSession],
                                 settings: ParkingSettings, now: datetime) -> int:
    """Delete decisions and charge-less ended sessions older than the retention, in chunks
    (short transactions beside the gates' own). Returns how many rows went."""
    cutoff = now - timedelta(days=settings.log_retention_days)
    removed = 0
    while True:
        async with sessions() as db, db.begin():
            ids = list((await db.execute(
                select(parking_gate_decisions.c.id)
                .where(parking_gate_decisions.c.at < cutoff).limit(CHUNK))).scalars())
            if ids:
                await db.execute(delete(parking_gate_decisions)
                                 .where(parking_gate_decisions.c.id.in_(ids)))
        removed += len(ids)
        if len(ids) < CHUNK:
            break
    while True:
        async with sessions() as db, db.begin():
            ids = list((await db.execute(
                select(parking_sessions.c.id).where(
                    parking_sessions.c.state.in_(ENDED),
                    parking_sessions.c.updated_at < cutoff,
                    ~exists().where(parking_charges.c.session_id == parking_sessions.c.id))
                .limit(CHUNK))).scalars())
            if ids:
                await db.execute(delete(parking_session_viewers)
                                 .where(parking_session_viewers.c.session_id.in_(ids)))
                await db.execute(delete(parking_sessions).where(parking_sessions.c.id.in_(ids)))
        removed += len(ids)
        if len(ids) < CHUNK:
            return removed


def gate_steps(sessions: async_sessionmaker[AsyncSession], settings: ParkingSettings
               ) -> dict[str, tuple[float, Step]]:
    """name -> (every seconds, step) for the composition root's `_schedule`."""
    async def overstay(now: datetime) -> int:
        return await run_overstay_flags(sessions, settings, now)

    async def retention(now: datetime) -> int:
        return await run_gate_log_retention(sessions, settings, now)

    return {"parking.overstay": (300.0, overstay), "parking.retention": (3600.0, retention)}
