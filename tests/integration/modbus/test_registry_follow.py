"""The pollers follow the registry: a Modbus device registered, disabled or moved through the
registry is polled, or no longer polled, within one rescan, without restarting the hub; a
device that cannot be polled is refused with its reason while the others go on."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.devices.modbus.registered import plan_polling, poll_registered
from hub.devices.modbus.registers import load_register_maps
from hub.domain.observations import Telemetry
from hub.domain.property import Site
from hub.domain.registry import Approval, Device, Protocol
from hub.health import HealthBoard
from hub.store.db import make_engine, make_sessions
from hub.store.mapping import start_mappers
from hub.store.migrate import upgrade_async
from hub.store.uow import SqlUnitOfWork
from simulators.modbus.elevator import Elevator
from simulators.modbus.meters import Meter
from simulators.modbus.station import Station
from tests.integration.devices.mqtt_support import RecordingIngest, eventually

REGISTERS = Path(__file__).parents[3] / "config" / "registers"
MAPS = load_register_maps(REGISTERS)


def _device(code: str, port: int, unit: int, register_map: str = "elevator-std",
            **overrides: Any) -> Device:
    return Device(site_id=1, code=code, kind=overrides.pop("kind", "elevator"),
                  protocol=Protocol.MODBUS,
                  connection={"host": "127.0.0.1", "port": port, "unit": unit,
                              "request_timeout_s": 0.3},
                  register_map=register_map, poll_period_s=0.1, id=overrides.pop("id", None),
                  **overrides)


def test_the_plan_groups_by_connection_and_refuses_what_cannot_be_polled() -> None:
    devices = [_device("lift-1", 5020, 1, id=1), _device("lift-2", 5020, 2, id=2),
               _device("lift-3", 5021, 1, id=3),
               _device("twin", 5020, 1, id=4),  # unit 1 on 5020 is lift-1's
               _device("odd", 5022, 1, "elevator-x", id=5)]
    bad = _device("no-port", 5023, 1, id=6)
    bad.connection = {"host": "127.0.0.1"}
    plan = plan_polling([*devices, bad], {1: "lakeside"}, MAPS)

    assert {e: sorted(t.key.device for t in g) for e, g in plan.groups.items()} == {
        ("127.0.0.1", 5020): ["lift-1", "lift-2"], ("127.0.0.1", 5021): ["lift-3"]}
    assert set(plan.refused) == {"twin", "odd", "no-port"}
    assert "already polled" in plan.refused["twin"]
    assert "elevator-x" in plan.refused["odd"]
    assert "connection.port" in plan.refused["no-port"]


@pytest.fixture
async def registry(tmp_path: Path) -> Callable[[], SqlUnitOfWork]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    await upgrade_async(url)
    start_mappers()
    engine = make_engine(url)
    uow = lambda: SqlUnitOfWork(make_sessions(engine))  # noqa: E731
    async with uow() as work:
        work.add(Site(code="lakeside", name="Lakeside Gardens"))
        await work.commit()
    yield uow
    await engine.dispose()


def _polled(ingest: RecordingIngest, code: str) -> int:
    return sum(1 for item in ingest.items
               if isinstance(item, Telemetry) and item.envelope.key.device == code)


async def test_a_device_added_then_disabled_is_polled_then_left_alone_without_restart(
        registry: Callable[[], SqlUnitOfWork]) -> None:
    station = Station({1: Elevator(rng=random.Random(1)), 2: Meter("energy")})
    ingest, health = RecordingIngest(), HealthBoard()
    async with station:
        task = asyncio.create_task(poll_registered(
            registry, MAPS, ingest=ingest, health=health, on_reachability=_ignore,
            clock=lambda: datetime.now(UTC), rescan_s=0.2))
        try:
            await eventually(lambda: "modbus" in health.beats, "a first beat")
            async with registry() as work:
                work.add(_device("lift-1", station.port, 1))
                await work.commit()
            await eventually(lambda: _polled(ingest, "lift-1") >= 3, "lift-1 polled")

            async with registry() as work:  # a second device on the same connection
                work.add(_device("meter-1", station.port, 2, "meter-energy", kind="meter"))
                await work.commit()
            await eventually(lambda: _polled(ingest, "meter-1") >= 3, "meter-1 polled")

            async with registry() as work:
                lift = await work.find_one(Device, code="lift-1")
                assert lift is not None
                lift.approval = Approval.DISABLED
                await work.commit()
            await asyncio.sleep(0.6)  # three rescans: enough for the change to apply
            stopped_at = _polled(ingest, "lift-1")
            await asyncio.sleep(0.5)
            after = _polled(ingest, "lift-1")
            meters = _polled(ingest, "meter-1")
            beat = health.beats["modbus"]
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    print(f"\nfollowing the registry: lift-1 polled {stopped_at} times until disabled, "
          f"{after - stopped_at} after; meter-1 polled {meters} times")
    assert after == stopped_at
    assert meters >= 3
    assert (beat.status, beat.detail) == ("ok", "1 devices on 1 connections")


def _ignore(device_id: int, reachable: bool, reason: str) -> None:
    return None
