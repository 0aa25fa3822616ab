"""The parking registry's answers to the gate (hub.domain.parking.standing.ParkingDirectory)
over SQL.

`standing` is on the barrier's critical path (plate event to barrier command, p99 under
50 ms), so it reads a plate in two indexed queries: the site with the plate's vehicle, space,
unit and household; then the plate's passes and list entries together. The decision itself
is the pure hub.domain.parking.standings.standing_of.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, literal, null, or_, select, type_coerce, union_all
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.domain.errors import Invalid
from hub.domain.parking.plates import normalise_plate
from hub.domain.parking.registry import (
    MAX_GRACE_DAYS,
    MonthlyPass,
    PlateList,
    PlateListEntry,
    Space,
)
from hub.domain.parking.standing import (
    AllowedPlate,
    Direction,
    LaneInfo,
    LotInfo,
    PlateStanding,
    Standing,
    VisitorVehicles,
)
from hub.domain.parking.standings import KnownVehicle, allowed_plates, standing_of
from hub.domain.parking.tariff import PlateColor, VehicleClass
from hub.store.parking_registry_tables import (
    parking_lanes,
    parking_lots,
    parking_passes,
    parking_plate_lists,
    parking_spaces,
    parking_vehicles,
)
from hub.store.tables import residencies, sites, units
from hub.store.types import UtcDateTime

# Passes that ended longer ago than the longest grace cannot matter; a day more on each side
# for the distance between UTC and the site's calendar.
_PASS_LOOKBACK = timedelta(days=MAX_GRACE_DAYS + 2)


class SqlParkingDirectory:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 visitors: VisitorVehicles | None = None) -> None:
        self._sessions = sessions
        self._visitors = visitors

    async def lane_of_camera(self, camera_device_id: int, lane_code: str) -> LaneInfo | None:
        async with self._sessions() as session:
            row = (await session.execute(select(parking_lanes).where(
                parking_lanes.c.camera_device_id == camera_device_id,
                parking_lanes.c.code == lane_code))).first()
        return None if row is None else _lane(row)

    async def lane_by_id(self, lane_id: int) -> LaneInfo | None:
        """A lane by id (a guard's manual open of a lane no read has passed yet)."""
        async with self._sessions() as session:
            row = (await session.execute(
                select(parking_lanes).where(parking_lanes.c.id == lane_id))).first()
        return None if row is None else _lane(row)

    async def lane_of_barrier(self, barrier_device_id: int, lane_code: str | None
                              ) -> LaneInfo | None:
        query = select(parking_lanes).where(parking_lanes.c.barrier_device_id == barrier_device_id)
        if lane_code:
            query = query.where(parking_lanes.c.code == lane_code)
        async with self._sessions() as session:
            rows = (await session.execute(query.limit(2))).all()
        return _lane(rows[0]) if len(rows) == 1 else None

    async def lot(self, lot_id: int) -> LotInfo | None:
        async with self._sessions() as session:
            row = (await session.execute(
                select(parking_lots).where(parking_lots.c.id == lot_id))).first()
        if row is None:
            return None
        return LotInfo(row.id, row.site_id, row.code, row.name, row.parent_id,
                       row.temporary_capacity, row.tariff_id)

    async def standing(self, site_id: int, plate: str, at: datetime) -> PlateStanding:
        try:
            plate = normalise_plate(plate)
        except Invalid as err:  # a misread the camera sent anyway: it cannot be registered
            return PlateStanding(plate, Standing.TEMPORARY, (f"not a plate: {err.message}",))
        async with self._sessions() as session:
            vehicle_rows = (await session.execute(_vehicle_query(site_id, plate, at))).all()
            plate_rows = (await session.execute(_plate_records_query(site_id, plate, at))).all()
        zone = _zone(vehicle_rows[0].timezone if vehicle_rows else None)
        vehicles = _known_vehicles(vehicle_rows, at.astimezone(zone).date())
        passes, entries = _plate_records(plate_rows)
        found = standing_of(plate, at, zone=zone, vehicles=vehicles, passes=passes,
                            list_entries=entries, visitor=None)
        if found.standing != Standing.TEMPORARY or self._visitors is None:
            return found
        visitor = await self._visitors.visitor_vehicle(site_id, plate, at)
        if visitor is None:
            return found
        return standing_of(plate, at, zone=zone, vehicles=vehicles, passes=passes,
                           list_entries=entries, visitor=visitor)

    async def allow_list(self, site_id: int, at: datetime) -> Sequence[AllowedPlate]:
        async with self._sessions() as session:
            timezone = await session.scalar(select(sites.c.timezone)
                                            .where(sites.c.id == site_id))
            vehicle_rows = (await session.execute(_vehicle_query(site_id, None, at))).all()
            plate_rows = (await session.execute(_plate_records_query(site_id, None, at))).all()
        zone = _zone(timezone)
        passes, entries = _plate_records(plate_rows)
        return allowed_plates(at, zone=zone,
                              vehicles=_known_vehicles(vehicle_rows, at.astimezone(zone).date()),
                              passes=passes, list_entries=entries)


def _zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name) if name else ZoneInfo("UTC")


def _lane(row: Row[Any]) -> LaneInfo:
    return LaneInfo(
        lane_id=row.id, site_id=row.site_id, lot_id=row.lot_id, code=row.code,
        direction=Direction(row.direction), camera_device_id=row.camera_device_id,
        barrier_device_id=row.barrier_device_id, display_device_id=row.display_device_id,
        vehicle_classes=frozenset(VehicleClass(v) for v in row.vehicle_classes),
        plate_colors=frozenset(PlateColor(c) for c in row.plate_colors))


def _vehicle_query(site_id: int, plate: str | None, at: datetime) -> Any:
    """The site's time zone, and per vehicle (one, by plate; or all) its unit, space and
    one row per resident who may still live there (the exact day is checked in Python, in
    the site's calendar)."""
    v = parking_vehicles.c
    vehicle_on = and_(v.site_id == sites.c.id, v.plate == plate) if plate else \
        v.site_id == sites.c.id
    since = at.astimezone(UTC).date() - timedelta(days=1)
    return (
        select(sites.c.timezone, v.id, v.plate, v.plate_color, v.vehicle_class,
               units.c.number.label("unit_number"),
               parking_spaces.c.id.label("space_id"), parking_spaces.c.lot_id,
               parking_spaces.c.code.label("space_code"), parking_spaces.c.kind,
               parking_spaces.c.unit_id.label("space_unit_id"), parking_spaces.c.valid_from,
               parking_spaces.c.valid_to, residencies.c.resident_id, residencies.c.moved_in,
               residencies.c.moved_out)
        .select_from(sites)
        .outerjoin(parking_vehicles, vehicle_on)
        .outerjoin(units, units.c.id == v.unit_id)
        .outerjoin(parking_spaces, parking_spaces.c.id == v.space_id)
        .outerjoin(residencies, and_(residencies.c.unit_id == v.unit_id,
                                     or_(residencies.c.moved_out.is_(None),
                                         residencies.c.moved_out >= since)))
        .where(sites.c.id == site_id)
        .order_by(v.id, residencies.c.resident_id))


def _known_vehicles(rows: Sequence[Row[Any]], day: date) -> list[KnownVehicle]:
    by_id: dict[int, tuple[Row[Any], list[int]]] = {}
    for row in rows:
        if row.id is None:  # the site row alone: no vehicle has this plate
            continue
        _, residents = by_id.setdefault(row.id, (row, []))
        if row.resident_id is not None and row.moved_in <= day \
                and (row.moved_out is None or day < row.moved_out) \
                and row.resident_id not in residents:
            residents.append(row.resident_id)
    known = []
    for row, residents in by_id.values():
        space = None
        if row.space_id is not None:
            space = Space(site_id=0, lot_id=row.lot_id, code=row.space_code, kind=row.kind,
                          unit_id=row.space_unit_id, valid_from=row.valid_from,
                          valid_to=row.valid_to, id=row.space_id)
        known.append(KnownVehicle(row.id, row.plate, row.unit_number,
                                  VehicleClass(row.vehicle_class), PlateColor(row.plate_color),
                                  space, tuple(residents)))
    return known


def _plate_records_query(site_id: int, plate: str | None, at: datetime) -> Any:
    """A plate's passes that may still count and its list entries valid at `at`, in one
    UNION ALL (by plate, along the (site, plate) indexes; or every plate of the site)."""
    p, e = parking_passes.c, parking_plate_lists.c
    pass_where = [p.site_id == site_id, p.valid_to >= at.astimezone(UTC).date() - _PASS_LOOKBACK]
    entry_where = [e.site_id == site_id, e.valid_from <= at,
                   or_(e.valid_to.is_(None), e.valid_to > at)]
    if plate:
        pass_where.append(p.plate == plate)
        entry_where.append(e.plate == plate)
    no_time = type_coerce(null(), UtcDateTime)
    passes = select(
        literal("pass").label("source"), p.id, p.plate, p.valid_from.label("day_from"),
        p.valid_to.label("day_to"), no_time.label("at_from"), no_time.label("at_to"),
        p.grace_days, p.lot_ids, p.vehicle_id, p.fee_ref.label("text"),
    ).where(*pass_where)
    no_day = type_coerce(null(), Date)
    entries = select(
        e.list.label("source"), e.id, e.plate, no_day, no_day, e.valid_from, e.valid_to,
        literal(0), null(), null(), e.reason,
    ).where(*entry_where)
    return union_all(passes, entries)


def _plate_records(rows: Sequence[Row[Any]]) -> tuple[list[MonthlyPass], list[PlateListEntry]]:
    passes, entries = [], []
    for row in rows:
        if row.source == "pass":
            passes.append(MonthlyPass(site_id=0, plate=row.plate, valid_from=row.day_from,
                                      valid_to=row.day_to, lot_ids=list(row.lot_ids or []),
                                      grace_days=row.grace_days, vehicle_id=row.vehicle_id,
                                      fee_ref=row.text, id=row.id))
        else:
            entries.append(PlateListEntry(site_id=0, list=PlateList(row.source), plate=row.plate,
                                          reason=row.text, valid_from=row.at_from,
                                          valid_to=row.at_to, id=row.id))
    return passes, entries
