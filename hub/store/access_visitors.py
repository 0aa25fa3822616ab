"""Visitor vehicles for the parking registry (hub.domain.parking.standing.VisitorVehicles):
a plate is a VISITOR while a visitor pass of the site names it and admits at `at`.

The pass's entries are a door's count, not the barrier's: a car that came in on the pass
must still leave as a visitor once its entries are used, so only the status (approved when
it needs approval, not cancelled) and the window count here.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.domain.access.model import PassStatus
from hub.domain.parking.standing import PlateStanding, Standing
from hub.store.access_tables import access_visitor_passes as passes
from hub.store.tables import residencies, sites


class SqlVisitorVehicles:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def visitor_vehicle(self, site_id: int, plate: str, at: datetime
                              ) -> PlateStanding | None:
        """`plate` normalised (hub.domain.parking.plates.normalise_plate). Of several passes
        naming it, the one that lasts longest."""
        async with self._engine.connect() as connection:
            row = (await connection.execute(
                select(passes.c.id, passes.c.unit_id, passes.c.valid_until,
                       passes.c.free_minutes, passes.c.entries_allowed, passes.c.entries_used)
                .where(passes.c.site_id == site_id, passes.c.plate == plate,
                       passes.c.status == PassStatus.ACTIVE.value,
                       passes.c.valid_from <= at, passes.c.valid_until > at)
                .order_by(passes.c.valid_until.desc(), passes.c.id.desc()).limit(1))).first()
            if row is None:
                return None
            residents = await _household(connection, site_id, row.unit_id, at)
        reasons = (f"visitor pass {row.id} of unit {row.unit_id} names {plate}",
                   f"valid until {row.valid_until.isoformat()}",
                   f"{row.free_minutes} free minutes")
        return PlateStanding(plate=plate, standing=Standing.VISITOR, reasons=reasons,
                             visitor_pass_id=row.id, visitor_free_minutes=row.free_minutes,
                             visitor_until=row.valid_until, resident_ids=residents)


async def _household(connection: AsyncConnection, site_id: int, unit_id: int,
                     at: datetime) -> tuple[int, ...]:
    """Who lives in the unit on the site's day of `at`: they may see and pay the session."""
    zone = await connection.scalar(select(sites.c.timezone).where(sites.c.id == site_id))
    day = at.astimezone(ZoneInfo(zone or "UTC")).date()
    rows = await connection.execute(
        select(residencies.c.resident_id).where(
            residencies.c.unit_id == unit_id, residencies.c.moved_in <= day,
            or_(residencies.c.moved_out.is_(None), residencies.c.moved_out > day))
        .order_by(residencies.c.resident_id))
    return tuple(sorted({r.resident_id for r in rows}))


async def count_visitor_entry(engine: AsyncEngine, pass_id: int, at: datetime) -> bool:
    """Count one entry of the pass if one is left: a guarded UPDATE, so two workers deciding
    the same pass at once cannot both take its last entry. False: none was left."""
    async with engine.begin() as connection:
        result = await connection.execute(
            update(passes).where(passes.c.id == pass_id,
                                 passes.c.entries_used < passes.c.entries_allowed)
            .values(entries_used=passes.c.entries_used + 1, last_entry_at=at))
    return bool(result.rowcount)
