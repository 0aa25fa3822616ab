"""One test's estate: the hub built by the composition root (hub.bootstrap) on SQLite in the
test's folder, connected to the broker, polling a Modbus station of simulated lifts over TCP,
running the shipped rule packs and recording what they see; the API in-process over ASGI.

Event time is the hub's clock, and the rules decide by event time (cooldowns, windows): the
test moves one shifted clock that the hub and the simulated lifts share, so "two minutes
later" takes no two minutes and nothing is slept.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from hub.api.app import create_app
from hub.bench.hubjobs import HubJobs
from hub.bootstrap import Hub, bootstrap
from hub.devices.registry_config import DeviceSpec, apply_devices
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.registry import Device
from hub.handlers.work_orders import SetRoster
from hub.settings import load_settings
from hub.store.migrate import upgrade_async
from hub.store.rule_tables import rule_outcomes
from simulators.modbus.elevator import Elevator, Mode
from simulators.modbus.station import Station
from tests.integration.devices.mqtt_support import eventually

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / "config" / "rules"
REGISTERS = REPO / "config" / "registers"
PASSWORD = "e2e-work-orders-password-01"
POLL_S = 0.2  # the lifts' poll period
# The station answers on the test's own event loop: a loaded machine must not make a late
# answer look like a lift gone offline (which would open an order of its own).
REQUEST_TIMEOUT_S = 5.0
WAIT_S = 30.0  # a bound against hangs; the times taken are printed, never asserted


class ShiftedClock:
    """The wall clock plus an offset the test moves: the hub's clock (a datetime) and the
    simulated lifts' clock (seconds) agree."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def seconds(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Estate:
    hub: Hub
    api: httpx.AsyncClient
    clock: ShiftedClock
    station: Station
    lifts: dict[str, Elevator]
    record_file: Path
    site_code: str
    site_id: int = 0
    device_ids: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    async def get(self, path: str, **params: Any) -> Any:
        answer = await self.api.get(path, headers=self.headers, params=params)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def orders(self, lift: str) -> list[dict[str, Any]]:
        page = await self.get("/api/v1/work-orders", device_id=self.device_ids[lift])
        items: list[dict[str, Any]] = page["items"]
        return items

    async def order(self, order_id: int) -> dict[str, Any]:
        detail: dict[str, Any] = await self.get(f"/api/v1/work-orders/{order_id}")
        return detail

    def recorded(self, lift: str, kind: str, **payload: Any) -> int:
        """Events of `kind` for `lift` the rules worker evaluated, whose payload has `payload`."""
        if not self.record_file.exists():
            return 0
        count = 0
        for line in self.record_file.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if (event.get("kind") == kind and event.get("device", {}).get("code") == lift
                    and payload.items() <= event.get("payload", {}).items()):
                count += 1
        return count

    async def evaluated(self, lift: str, kind: str, count: int, **payload: Any) -> float:
        """Until the rules worker has evaluated `count` such events, and everything before."""
        took = await eventually(lambda: self.recorded(lift, kind, **payload) >= count,
                                f"{count} {kind} {payload} of {lift} evaluated", WAIT_S)
        assert self.hub.rules is not None
        await self.hub.rules.drained()
        return took

    async def outcomes(self) -> list[Any]:
        """The rule_outcomes rows, once every outcome the worker finished is written (the
        worker writes them after the event, on its own task)."""
        assert self.hub.rules is not None
        stats = self.hub.rules.stats
        started = time.monotonic()
        while True:
            async with self.hub.engine.connect() as connection:
                rows = list(await connection.execute(
                    select(rule_outcomes).order_by(rule_outcomes.c.id)))
            finished = stats.done + stats.skipped + stats.refused + stats.dead_letters
            if len(rows) >= finished or time.monotonic() - started > WAIT_S:
                return rows
            await asyncio.sleep(0.02)

    def inject(self, lift: str, code: int, seconds: float) -> float:
        """Raise fault `code` in the simulated lift for `seconds` of its clock; the wall time."""
        self.lifts[lift].inject_fault(code, seconds, self.clock.seconds())
        return time.monotonic()

    def set_mode(self, lift: str, mode: Mode) -> None:
        self.lifts[lift].set_mode(mode, self.clock.seconds())


@asynccontextmanager
async def estate(folder: Path, broker_url: str,
                 lifts: dict[str, Elevator]) -> AsyncIterator[Estate]:
    """Lifts on one Modbus station (unit 1, 2, ... in order), registered in building b3 of a
    site of the test's own; the hub's jobs running; an administrator logged in via the API."""
    run = uuid.uuid4().hex[:6]
    site_code = f"lakeside-{run}"
    database = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    record_file = folder / "rule-events.jsonl"
    await upgrade_async(database)
    settings = load_settings(
        None, mode="demo", data_dir=folder, log_level="WARNING", database={"url": database},
        mqtt={"url": broker_url, "client_id": f"e2e-work-{run}",
              "command_client_id": f"e2e-work-{run}-cmd", "sites": [site_code]},
        ingest={"devices_file": ""},
        rules={"directory": str(RULES), "record_file": str(record_file)})
    clock = ShiftedClock()
    station = Station(dict(enumerate(lifts.values(), start=1)), clock=clock.seconds,
                      rng=random.Random(7))
    async with station:
        hub = bootstrap(settings, clock=clock, registers=REGISTERS)
        app = create_app(settings, hub)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as api:
            world = Estate(hub, api, clock, station, lifts, record_file, site_code)
            await _furnish(world)
            jobs = HubJobs(hub)
            jobs.start_all()
            try:
                await eventually(lambda: jobs.connected, "the hub connected to the broker",
                                 WAIT_S)
                await _log_in(world)
                yield world
            finally:
                await jobs.stop_all()
                await hub.close()


async def _furnish(world: Estate) -> None:
    """The site, building b3 and its lifts; a roster where only one account is an on-duty
    elevator technician (another is off duty, a third on duty for lighting only)."""
    bus = world.hub.bus
    world.site_id = await bus.handle(c.CreateSite(SYSTEM, code=world.site_code,
                                                  name="Lakeside Gardens"))
    await bus.handle(c.CreateBuilding(SYSTEM, site_id=world.site_id, code="b3",
                                      name="Building 3", floors=18))
    specs = [DeviceSpec(code=code, kind="elevator", site=world.site_code, building="b3",
                        protocol="modbus", register_map="elevator-std", poll_period_s=POLL_S,
                        connection={"host": "127.0.0.1", "port": world.station.port,
                                    "unit": unit, "request_timeout_s": REQUEST_TIMEOUT_S})
             for unit, code in enumerate(world.lifts, start=1)]
    async with world.hub.uow() as uow:
        await apply_devices(uow, specs, source="e2e", clock=world.clock)
    async with world.hub.uow() as uow:
        for code in world.lifts:
            device = await uow.find_one(Device, code=code)
            assert device is not None and device.id is not None
            world.device_ids[code] = device.id
    world.hub.pipeline.registry_changed()
    grant = (c.GrantIn(world.site_id),)
    for username, role in (("zhao-off-duty", Role.MAINTENANCE), ("li-lighting", Role.MAINTENANCE),
                           ("wang-lifts", Role.MAINTENANCE), ("e2e-admin", Role.ADMIN)):
        world.accounts[username] = await bus.handle(c.CreateAccount(
            SYSTEM, username=username, password=PASSWORD, role=role, grants=grant))
    for username, skills, on_duty in (("zhao-off-duty", ("elevator",), False),
                                      ("li-lighting", ("lighting",), True),
                                      ("wang-lifts", ("elevator", "gate"), True)):
        await bus.handle(SetRoster(SYSTEM, site_id=world.site_id,
                                   account_id=world.accounts[username], skills=skills,
                                   on_duty=on_duty))


async def _log_in(world: Estate) -> None:
    answer = await world.api.post("/api/v1/auth/login",
                                  data={"username": "e2e-admin", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    world.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
