"""Cached answers of the registry that every read needs: lanes, lots (with their parents),
site time zones and tariff versions. Cached for `ttl`: a lane or a tariff changed by staff
counts from the next minute, and the read path makes no round trip for them meanwhile."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.domain.parking.standing import LaneInfo, LotInfo, ParkingDirectory
from hub.domain.parking.tariff import TariffVersion
from hub.parking import queries
from hub.store.tables import sites

K = TypeVar("K")
V = TypeVar("V")
MAX_NESTING = 8  # lots inside lots; a loop in the registry stops here


@dataclass
class _Cache(Generic[K, V]):
    ttl: float
    monotonic: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._items: dict[K, tuple[float, V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        now = self.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await load()
        self._items[key] = (now + self.ttl, value)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = (self.monotonic() + self.ttl, value)

    def peek(self, key: K) -> V | None:
        hit = self._items.get(key)
        return None if hit is None else hit[1]

    def clear(self) -> None:
        self._items.clear()


LaneById = Callable[[int], Awaitable[LaneInfo | None]]


class Lookups:
    def __init__(self, directory: ParkingDirectory,
                 sessions: async_sessionmaker[AsyncSession], *, ttl: float = 60.0,
                 lane_by_id: LaneById | None = None) -> None:
        self.directory = directory
        self._sessions = sessions
        self._lane_by_id = lane_by_id
        self._lanes: _Cache[tuple[int, str], LaneInfo | None] = _Cache(ttl)
        self._barrier_lanes: _Cache[tuple[int, str], LaneInfo | None] = _Cache(ttl)
        self._lanes_by_id: _Cache[int, LaneInfo] = _Cache(24 * 3600.0)
        self._lots: _Cache[int, LotInfo | None] = _Cache(ttl)
        self._zones: dict[int, ZoneInfo] = {}
        self._tariffs: _Cache[int, list[TariffVersion]] = _Cache(ttl)

    def changed(self) -> None:
        """Staff changed the registry: read it afresh."""
        for cache in (self._lanes, self._barrier_lanes, self._lots, self._tariffs):
            cache.clear()

    async def lane(self, camera_device_id: int, code: str) -> LaneInfo | None:
        lane = await self._lanes.get((camera_device_id, code), lambda: self.directory
                                     .lane_of_camera(camera_device_id, code))
        if lane is not None:
            self._lanes_by_id.put(lane.lane_id, lane)
        return lane

    async def barrier_lane(self, barrier_device_id: int, code: str | None) -> LaneInfo | None:
        """The lane of a barrier's own event (the loop saw a car pass)."""
        return await self._barrier_lanes.get(
            (barrier_device_id, code or ""),
            partial(self.directory.lane_of_barrier, barrier_device_id, code))

    async def lane_by_id(self, lane_id: int) -> LaneInfo | None:
        """A lane the flow has seen, or one the registry finds by id."""
        lane = self._lanes_by_id.peek(lane_id)
        if lane is None and self._lane_by_id is not None:
            lane = await self._lane_by_id(lane_id)
            if lane is not None:
                self._lanes_by_id.put(lane_id, lane)
        return lane

    async def lots(self, lot_id: int) -> list[LotInfo]:
        """The lot, then each lot it is inside."""
        chain: list[LotInfo] = []
        current: int | None = lot_id
        while current is not None and len(chain) < MAX_NESTING:
            lot = await self._lots.get(current, partial(self.directory.lot, current))
            if lot is None or any(x.lot_id == lot.lot_id for x in chain):
                break
            chain.append(lot)
            current = lot.parent_id
        return chain

    async def zone(self, db: AsyncSession, site_id: int) -> ZoneInfo:
        zone = self._zones.get(site_id)
        if zone is None:
            name = (await db.execute(select(sites.c.timezone)
                                     .where(sites.c.id == site_id))).scalar_one_or_none()
            zone = self._zones[site_id] = ZoneInfo(name or "UTC")
        return zone

    async def tariff_versions(self, db: AsyncSession, tariff_id: int) -> list[TariffVersion]:
        return await self._tariffs.get(tariff_id,
                                       lambda: queries.tariff_versions(db, tariff_id))
