"""Facilities on each backend: Lakeside's Building 1 lift as an asset with its Modbus lift
linked, a bus with the facilities and maintenance handlers, and a stand-in for the work-order
module (RaiseFault opens an order and announces it, as the real one does after its commit).

The lift's readings come from the elevator simulator's registers, decoded with the shipped
elevator-std map by the Modbus poller's own PolledDevice, as hub/devices/modbus publishes them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.bus import MessageBus
from hub.devices.backoff import Backoff
from hub.devices.modbus.codec import MapDecoder
from hub.devices.modbus.device import PolledDevice
from hub.devices.modbus.registers import load_register_map
from hub.devices.modbus.targets import ModbusTarget
from hub.domain.commands import Command
from hub.domain.observations import DeviceKey, Telemetry
from hub.domain.outcomes import Notify, OrderOpened, RaiseFault
from hub.domain.property import Building, Site
from hub.domain.registry import Approval, Asset, Device, Protocol
from hub.handlers.maintenance import FACILITY_COMMANDS, FACILITY_EVENTS
from hub.handlers.maintenance_usage import UsageTracker
from hub.ingest.observers import Delivered
from hub.ingest.registry_cache import DeviceInfo
from hub.ports import UnitOfWork
from hub.store.db import make_sessions
from hub.store.mapping import start_mappers
from hub.store.uow import SqlUnitOfWork
from simulators.modbus.elevator import Elevator
from tests.integration.store import conftest as store

empty_database_url = store.empty_database_url
database_url = store.database_url
engine = store.engine

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
REGISTERS = Path(__file__).resolve().parents[3] / "config" / "registers"


@dataclass(frozen=True)
class Publish(Command):
    """Test only: announce an event through the bus, as the work-order module does."""

    event: object


async def publish(cmd: Publish, uow: UnitOfWork) -> None:
    uow.emit(cmd.event)


@dataclass
class WorkOrders:
    """The stand-in: one open order per (asset or device, fault); repeats add occurrences."""

    raised: list[RaiseFault] = field(default_factory=list)
    notified: list[Notify] = field(default_factory=list)
    open: dict[tuple[int | None, int | None, str], int] = field(default_factory=dict)
    occurrences: int = 0
    failing: bool = False

    async def raise_fault(self, cmd: RaiseFault, uow: UnitOfWork) -> int:
        if self.failing:
            raise ConnectionError("work orders unavailable")
        self.raised.append(cmd)
        key = (cmd.asset_id, cmd.device_id, cmd.fault)
        if key in self.open:
            self.occurrences += 1
            return self.open[key]
        order_id = 1000 + len(self.open)
        self.open[key] = order_id
        uow.emit(OrderOpened(order_id=order_id, site_id=cmd.site_id, fault=cmd.fault,
                             source=cmd.source, priority=cmd.priority, at=cmd.at,
                             device_id=cmd.device_id, asset_id=cmd.asset_id,
                             building_id=cmd.building_id))
        return order_id

    async def notify(self, cmd: Notify, uow: UnitOfWork) -> None:
        self.notified.append(cmd)


@dataclass
class Lift:
    """The simulated car, read the way the Modbus poller reads it."""

    info: DeviceInfo
    car: Elevator
    polled: PolledDevice
    decoder: MapDecoder

    def read(self, at: datetime) -> Delivered:
        raw = self.decoder.decode([self.car.registers()])
        telemetry = self.polled.observe(raw, at)[0]
        assert isinstance(telemetry, Telemetry)
        return Delivered(self.info, telemetry)


@dataclass
class Rig:
    bus: MessageBus
    uow: Callable[[], UnitOfWork]
    orders: WorkOrders
    tracker: UsageTracker
    lift: Lift
    site_id: int
    building_id: int
    asset_id: int
    device_id: int

    async def handle(self, command: object) -> Any:
        return await self.bus.handle(command)


@pytest.fixture
async def rig(engine: AsyncEngine) -> Rig:
    start_mappers()
    sessions = make_sessions(engine)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    orders = WorkOrders()
    bus = MessageBus(uow, {**FACILITY_COMMANDS, RaiseFault: orders.raise_fault,
                           Notify: orders.notify, Publish: publish}, FACILITY_EVENTS)
    async with uow() as u:
        site = Site(code="lakeside", name="Lakeside Gardens")
        u.add(site)
        await u.flush()
        assert site.id is not None
        building = Building(site_id=site.id, code="b1", name="Building 1", floors=18)
        u.add(building)
        await u.flush()
        assert building.id is not None
        asset = Asset(site_id=site.id, code="b1-lift", name="1号楼电梯 Building 1 lift",
                      category="elevator", building_id=building.id)
        u.add(asset)
        await u.flush()
        device = Device(site_id=site.id, code="b1-lift-1", kind="elevator",
                        building_id=building.id, asset_id=asset.id, protocol=Protocol.MODBUS,
                        connection={"host": "127.0.0.1", "port": 1502},
                        register_map="elevator-std")
        u.add(device)
        await u.commit()
        assert asset.id is not None and device.id is not None
        ids = (site.id, building.id, asset.id, device.id)
    key = DeviceKey("lakeside", "elevator", "b1-lift-1")
    info = DeviceInfo(ids[3], ids[0], "lakeside", "b1-lift-1", "elevator", ids[1],
                      Approval.ACTIVE, 300)
    decoder = MapDecoder(load_register_map(REGISTERS / "elevator-std.yaml"))
    polled = PolledDevice(ModbusTarget(ids[3], key, "127.0.0.1", 1502, "elevator-std"),
                          decoder, "test-boot", Backoff())
    car = Elevator(rng=random.Random(7))
    car.start(0.0)
    return Rig(bus, uow, orders, UsageTracker(bus.handle, every=timedelta(minutes=1)),
               Lift(info, car, polled, decoder), *ids)
