"""A small gated community for the gate flow on SQLite: "lakeside" with one lot of two
temporary spaces, an entry and an exit lane (camera, barrier, display), a tariff, and a
dict-backed ParkingDirectory the tests fill with standings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.domain.device_commands import CommandStatus, DeviceCommand
from hub.domain.parking.sessions import ParkingCharge, ParkingSession
from hub.domain.parking.standing import (
    AllowedPlate,
    Direction,
    LaneInfo,
    LotInfo,
    PlateStanding,
    Standing,
)
from hub.ingest.command_log import SqlCommandLog
from hub.parking.commands import GateCommands
from hub.parking.flow import GateFlow
from hub.parking.gate import Gate, Outcome
from hub.parking.lookups import Lookups
from hub.parking.reading import GateRead
from hub.settings import ParkingSettings
from hub.store.device_tables import devices
from hub.store.parking_tables import parking_tariff_versions, parking_tariffs
from hub.store.tables import sites

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
TARIFF = {"free_minutes": 15, "first_period_minutes": 60, "first_period_price": "5.00",
          "unit_minutes": 60, "unit_price": "2.00"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeDirectory:
    lanes: dict[tuple[int, str], LaneInfo] = field(default_factory=dict)
    lots: dict[int, LotInfo] = field(default_factory=dict)
    standings: dict[str, PlateStanding] = field(default_factory=dict)

    async def lane_of_camera(self, camera_device_id: int, lane_code: str) -> LaneInfo | None:
        return self.lanes.get((camera_device_id, lane_code))

    async def lane_of_barrier(self, barrier_device_id: int, lane_code: str | None
                              ) -> LaneInfo | None:
        found = [lane for lane in self.lanes.values()
                 if lane.barrier_device_id == barrier_device_id
                 and lane_code in (None, lane.code)]
        return found[0] if len(found) == 1 else None

    async def lot(self, lot_id: int) -> LotInfo | None:
        return self.lots.get(lot_id)

    async def standing(self, site_id: int, plate: str, at: datetime) -> PlateStanding:
        return self.standings.get(plate) or PlateStanding(
            plate, Standing.TEMPORARY, ("not registered: temporary",))

    async def allow_list(self, site_id: int, at: datetime) -> Sequence[AllowedPlate]:
        return ()


@dataclass
class FakeGateway:
    sent: list[DeviceCommand] = field(default_factory=list)

    async def send(self, command: DeviceCommand) -> CommandStatus:
        self.sent.append(command)
        return CommandStatus.ACKED

    def actions(self) -> list[tuple[str, str]]:
        return [(c.key.device, c.action) for c in self.sent]


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    flow: GateFlow
    gateway: FakeGateway
    directory: FakeDirectory
    clock: Clock
    site_id: int
    camera_in: int
    camera_out: int
    lane_in: LaneInfo
    lane_out: LaneInfo
    alerts: list[Any]
    seq: int = 0

    def standing(self, plate: str, standing: Standing, **kw: Any) -> None:
        self.directory.standings[plate] = PlateStanding(
            plate, standing, (f"{standing.value} car",), **kw)

    async def read(self, plate: str | None, direction: Direction, at: datetime, *,
                   received_at: datetime | None = None, confidence: float | None = 0.95,
                   image: bytes | None = None) -> Outcome:
        self.seq += 1
        camera = self.camera_in if direction is Direction.IN else self.camera_out
        code = "in-1" if direction is Direction.IN else "out-1"
        outcome = await self.flow.handle(GateRead(
            camera, code, direction, plate, "blue", confidence, at, received_at or at,
            self.seq, "b1", image))
        await self.flow.gate.commands.drain()
        assert outcome is not None
        return outcome

    async def enter(self, plate: str | None, at: datetime, **kw: Any) -> Outcome:
        return await self.read(plate, Direction.IN, at, **kw)

    async def leave(self, plate: str | None, at: datetime, **kw: Any) -> Outcome:
        return await self.read(plate, Direction.OUT, at, **kw)

    async def all_sessions(self) -> list[ParkingSession]:
        async with self.sessions() as db:
            return list(await db.scalars(select(ParkingSession).order_by(ParkingSession.id)))  # type: ignore[arg-type]

    async def charges(self) -> list[ParkingCharge]:
        async with self.sessions() as db:
            return list(await db.scalars(select(ParkingCharge)))

    def opened(self, device: str = "") -> int:
        return sum(1 for d, a in self.gateway.actions() if a == "open" and device in d)


async def build_world(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
                      *, capacity: int = 2, settings: ParkingSettings | None = None,
                      reader: Any = None) -> World:
    async with engine.begin() as c:
        site = (await c.execute(insert(sites).values(
            code="lakeside", name="Lakeside", address="", timezone="Asia/Shanghai")
            .returning(sites.c.id))).scalar_one()
        ids = {}
        for code, kind in (("cam-in", "camera"), ("cam-out", "camera"),
                           ("gate-in", "gate"), ("gate-out", "gate"), ("lcd-out", "gate")):
            ids[code] = (await c.execute(insert(devices).values(
                site_id=site, code=code, kind=kind, name=code, protocol="mqtt",
                connection={}, poll_period_s=1.0, timeout_s=300, approval="active", tags=[])
                .returning(devices.c.id))).scalar_one()
        tariff = (await c.execute(insert(parking_tariffs).values(
            site_id=site, code="temp", name="Temporary", created_at=T0 - timedelta(days=30))
            .returning(parking_tariffs.c.id))).scalar_one()
        await c.execute(insert(parking_tariff_versions).values(
            tariff_id=tariff, number=1, effective_from=T0 - timedelta(days=30),
            rules=TARIFF, created_at=T0 - timedelta(days=30)))
    directory = FakeDirectory()
    lane_in = LaneInfo(1, site, 10, "in-1", Direction.IN, ids["cam-in"], ids["gate-in"])
    lane_out = LaneInfo(2, site, 10, "out-1", Direction.OUT, ids["cam-out"], ids["gate-out"],
                        display_device_id=ids["lcd-out"])
    directory.lanes = {(ids["cam-in"], "in-1"): lane_in, (ids["cam-out"], "out-1"): lane_out}
    directory.lots = {10: LotInfo(10, site, "main", "Main lot", None, capacity, tariff)}
    clock = Clock(T0)
    gateway = FakeGateway()
    commands = GateCommands(gateway, SqlCommandLog(engine), clock)
    settings = settings or ParkingSettings()
    gate = Gate(sessions, Lookups(directory, sessions), commands, settings, clock)
    alerts: list[Any] = []

    async def notify(command: Any) -> None:
        alerts.append(command)

    flow = GateFlow(gate, clock, reader=reader, notify=notify)
    return World(sessions, flow, gateway, directory, clock, site, ids["cam-in"],
                 ids["cam-out"], lane_in, lane_out, alerts)


def money(text: str) -> Decimal:
    return Decimal(text)
