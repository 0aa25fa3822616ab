"""One test's car park: the hub built by the composition root (hub.bootstrap) on SQLite in the
test's folder, connected to the broker; a site of the test's own with one lot (two spaces for
temporary cars, a tariff), an entry lane and an exit lane, each with its simulated plate
camera and barrier gate (simulators/mqtt) paired as one lane controller; the registry filled
through its domain records; staff and a resident using the API in-process over ASGI.

Event time is one shifted clock that the hub and the simulators share, so "two hours later"
takes no two hours. Every command the hub sends to the gates is watched on the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select

from hub.api.app import create_app
from hub.bench.hubjobs import HubJobs
from hub.bootstrap import Hub, bootstrap
from hub.devices.registry_config import DeviceSpec, apply_devices
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.parking.registry import Lane, Lot, MonthlyPass, PlateList, PlateListEntry, Vehicle
from hub.domain.parking.standing import Direction
from hub.domain.registry import Device
from hub.domain.residents import Relation
from hub.handlers.tariffs import CreateTariff
from hub.parking.flow import GateFlow
from hub.parking.offline import OfflineLogs
from hub.payments.sandbox import SIGNATURE_HEADER, SandboxProvider, sandbox_secret
from hub.settings import Settings, load_settings
from hub.store.parking_session_tables import parking_charges, parking_gate_decisions
from simulators.mqtt.cameras import PlateCamera, Vehicles, pair_lanes
from simulators.mqtt.device import Link
from simulators.mqtt.gates import BarrierGate
from tests.e2e.work.estate import ShiftedClock
from tests.integration.devices.mqtt_support import eventually
from tests.integration.simulators.conftest import clear_retained
from tests.integration.simulators.watch import Watch, watching

PASSWORD = "e2e-parking-password-01"
WAIT_S = 20.0  # a bound against hangs; never a measurement
# The gates wait this long for the hub before deciding alone: far beyond any decision while
# the hub runs (a loaded machine must not make a slow answer look like an outage).
PATIENT_S = 30.0
TARIFF = {"free_minutes": 15, "first_period_minutes": 60, "first_period_price": "5.00",
          "unit_minutes": 60, "unit_price": "2.00"}


@dataclass
class LaneRig:
    code: str
    direction: Direction
    camera: PlateCamera
    gate: BarrierGate
    lane_id: int = 0


@dataclass
class Parking:
    folder: Path
    settings: Settings
    clock: ShiftedClock
    site_code: str
    watch: Watch
    lanes: dict[Direction, LaneRig]
    hub: Hub
    api: httpx.AsyncClient
    jobs: HubJobs
    site_id: int = 0
    lot_id: int = 0
    unit_id: int = 0
    resident_id: int = 0
    staff: dict[str, str] = field(default_factory=dict)  # the guard's bearer header
    resident: dict[str, str] = field(default_factory=dict)
    reads: int = 0

    # --- the hub ------------------------------------------------------------------------

    @property
    def flow(self) -> GateFlow:
        flow = getattr(self.hub.jobs["parking.gate"], "__self__", None)
        assert isinstance(flow, GateFlow), "the composition root wires no gate flow"
        return flow

    @property
    def offline(self) -> OfflineLogs:
        offline = getattr(self.hub.jobs["parking.offline"], "__self__", None)
        assert isinstance(offline, OfflineLogs), "the composition root wires no offline logs"
        return offline

    async def stop_hub(self) -> None:
        await self.jobs.stop_all()

    async def start_hub(self) -> None:
        """A new hub process, as after a restart: same database, same broker session."""
        await self.api.aclose()
        await self.hub.close()
        self.hub = bootstrap(self.settings, clock=self.clock)
        self.api = httpx.AsyncClient(transport=httpx.ASGITransport(
            app=create_app(self.settings, self.hub)), base_url="http://hub.test")
        self.jobs = HubJobs(self.hub)
        self.jobs.start_all()
        await eventually(lambda: self.jobs.connected, "the hub connected again", WAIT_S)

    # --- cars ---------------------------------------------------------------------------

    async def read(self, direction: Direction, plate: str, *, misread: bool = False) -> None:
        """The lane's camera reads a car once, and the hub has decided it (and the gate has
        what the hub sent it)."""
        camera = self.lanes[direction].camera
        before = self.flow.decided
        if misread:
            await camera.set_fault("misread", True)
        try:
            await camera.see(plate, image=False, repeats=False)
        finally:
            await camera.set_fault("misread", False)
        await self.decided(before + 1)

    async def decided(self, count: int) -> None:
        await eventually(lambda: self.flow.decided >= count, f"{count} reads decided", WAIT_S)
        await self.flow.gate.commands.drain()  # the gates acknowledged what they were sent

    def commands(self, direction: Direction) -> list[dict[str, Any]]:
        """What the hub sent the lane's gate so far: action and args."""
        topic = self.lanes[direction].gate.topic("cmd")
        return [{"action": s.body["action"], **s.body["args"]} for s in self.watch.on(topic)]

    # --- the API ------------------------------------------------------------------------

    async def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        answer = await self.api.get(path, headers=headers or self.staff, params=params)
        assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def post(self, path: str, body: Any, headers: dict[str, str] | None = None,
                   status: int = 200) -> Any:
        answer = await self.api.post(path, json=body, headers=headers or self.staff)
        assert answer.status_code == status, f"POST {path}: {answer.status_code} {answer.text}"
        return answer.json()

    async def session_of(self, plate: str) -> dict[str, Any]:
        """The plate's one session (whatever its state)."""
        page = await self.get("/api/v1/parking/sessions", site_id=self.site_id, plate=plate)
        assert page["total"] == 1, f"{plate}: {page['total']} sessions: {page['items']}"
        session: dict[str, Any] = page["items"][0]
        return session

    async def sessions_of(self, plate: str) -> list[dict[str, Any]]:
        page = await self.get("/api/v1/parking/sessions", site_id=self.site_id, plate=plate)
        items: list[dict[str, Any]] = page["items"]
        return items

    async def pay_in_app(self, session_id: int) -> dict[str, Any]:
        """The resident pays the session in the app; the sandbox provider confirms it."""
        answer = await self.api.post(f"/api/v1/me/parking/sessions/{session_id}/pay",
                                     json={"provider": "sandbox"}, headers={
                                         **self.resident, "Idempotency-Key": uuid.uuid4().hex})
        assert answer.status_code == 201, answer.text
        payment: dict[str, Any] = answer.json()
        provider = SandboxProvider(sandbox_secret(
            self.settings.security.jwt_secret.get_secret_value().encode()))
        body, signature = provider.callback(payment["provider_ref"], Decimal(payment["amount"]))
        confirmed = await self.api.post("/api/v1/parking/payments/callbacks/sandbox",
                                        content=body, headers={SIGNATURE_HEADER: signature})
        assert confirmed.status_code == 200, confirmed.text
        return payment

    # --- the database, for what no API shows --------------------------------------------

    async def charges_per_session(self) -> dict[int, int]:
        async with self.hub.engine.connect() as db:
            rows = await db.execute(select(parking_charges.c.session_id, func.count())
                                    .group_by(parking_charges.c.session_id))
            return {row[0]: row[1] for row in rows}

    async def decisions(self, plate: str) -> list[dict[str, Any]]:
        async with self.hub.engine.connect() as db:
            rows = await db.execute(select(parking_gate_decisions)
                                    .where(parking_gate_decisions.c.plate == plate)
                                    .order_by(parking_gate_decisions.c.id))
            return [dict(row._mapping) for row in rows]


@asynccontextmanager
async def car_park(folder: Path, broker_url: str, migrated: Path) -> AsyncIterator[Parking]:
    """`migrated`: an empty database at the schema's head, copied for this test."""
    run = uuid.uuid4().hex[:6]
    site_code = f"lakeside-{run}"
    shutil.copyfile(migrated, folder / "hub.db")
    database = f"sqlite+aiosqlite:///{folder / 'hub.db'}"
    settings = load_settings(
        None, mode="demo", data_dir=folder, log_level="WARNING", database={"url": database},
        mqtt={"url": broker_url, "client_id": f"e2e-parking-{run}",
              "command_client_id": f"e2e-parking-{run}-cmd", "sites": [site_code]},
        ingest={"devices_file": ""}, rules={"enabled": False},
        gates={"allowlist_poll_s": 0.2, "allowlist_refresh_s": 1.0,
               "allowlist_validity_s": 600.0})
    clock = ShiftedClock()
    host = urlsplit(broker_url)
    async with watching(host.hostname or "127.0.0.1", host.port or 1883,
                        f"estate/{site_code}/gate/+/cmd") as watch:
        lanes = _lanes(site_code, broker_url, clock)
        devices = [d for lane in lanes.values() for d in (lane.gate, lane.camera)]
        running = [asyncio.create_task(d.run()) for d in devices]
        hub = bootstrap(settings, clock=clock)
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, hub)),
                                base_url="http://hub.test")
        world = Parking(folder, settings, clock, site_code, watch, lanes, hub, api,
                        HubJobs(hub))
        try:
            await _furnish(world)
            world.jobs.start_all()
            await eventually(lambda: world.jobs.connected, "the hub connected", WAIT_S)
            await asyncio.gather(*(d.first_connected() for d in devices))
            await _log_in(world)
            yield world
        finally:
            await world.jobs.stop_all()
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await world.api.aclose()
            await world.hub.close()
            await clear_retained(broker_url, {lane.gate.topic(s) for lane in lanes.values()
                                              for s in ("status", "allowlist")}
                                 | {lane.camera.topic("status") for lane in lanes.values()})


def _lanes(site: str, broker_url: str, clock: ShiftedClock) -> dict[Direction, LaneRig]:
    lanes = {}
    for direction in Direction:
        code = f"north-{direction.value}"
        gate = BarrierGate(site, f"gate-{code}", Link(broker_url), lane=code, period_s=3600,
                           pass_after_s=0.0, hold_s=0.5, hub_timeout_s=PATIENT_S,
                           clock=clock)
        camera = PlateCamera(site, f"cam-{code}", Link(broker_url), vehicles=Vehicles([]),
                             lane=code, direction=direction.value, per_minute=0,
                             repeat_probability=0, misread_probability=0, period_s=3600,
                             clock=clock)
        pair_lanes([gate], [camera])
        lanes[direction] = LaneRig(code, direction, camera, gate)
    return lanes


async def _furnish(world: Parking) -> None:
    """Site, a building with the resident's unit, the lanes' devices, the lot and its lanes,
    a guard (security, the site's) and the resident's account."""
    bus = world.hub.bus
    world.site_id = await bus.handle(c.CreateSite(SYSTEM, code=world.site_code,
                                                  name="Lakeside Gardens"))
    building = await bus.handle(c.CreateBuilding(SYSTEM, site_id=world.site_id, code="b3",
                                                 name="Building 3", floors=18))
    world.unit_id = await bus.handle(c.CreateUnit(
        SYSTEM, building_id=building, number="3-0701", floor=7, gross_area=Decimal("89.75"),
        inner_area=Decimal("72.10"), status="occupied"))
    world.resident_id = await bus.handle(c.RegisterResident(
        SYSTEM, site_id=world.site_id, name="张伟", phone="13812345678",
        residencies=(c.ResidencyIn(world.unit_id, Relation.OWNER, date(2020, 5, 1)),)))
    specs = [DeviceSpec(code=device.key.device, kind=device.kind, site=world.site_code)
             for lane in world.lanes.values() for device in (lane.camera, lane.gate)]
    async with world.hub.uow() as uow:
        await apply_devices(uow, specs, source="e2e", clock=world.clock)
    async with world.hub.uow() as uow:
        ids = {d.code: d.id for d in await uow.find(Device, site_id=world.site_id)
               if d.id is not None}
    now = world.clock()
    tariff = await bus.handle(CreateTariff(SYSTEM, site_id=world.site_id, code="temporary",
                                           name="Temporary cars",
                                           effective_from=now - timedelta(days=30),
                                           rules=TARIFF))
    async with world.hub.uow() as uow:
        lot = Lot(world.site_id, "main", "Main lot", temporary_capacity=2, tariff_id=tariff)
        uow.add(lot)
        await uow.commit()
    assert lot.id is not None
    world.lot_id = lot.id
    async with world.hub.uow() as uow:
        for rig in world.lanes.values():
            lane = Lane(world.site_id, lot.id, rig.code, rig.direction,
                        ids[rig.camera.key.device], ids[rig.gate.key.device])
            uow.add(lane)
            await uow.commit()
            assert lane.id is not None
            rig.lane_id = lane.id
    world.hub.pipeline.registry_changed()
    await bus.handle(c.CreateAccount(SYSTEM, username="guard", password=PASSWORD,
                                     role=Role.SECURITY, grants=(c.GrantIn(world.site_id),)))
    await bus.handle(c.CreateAccount(SYSTEM, username="zhangwei", password=PASSWORD,
                                     role=Role.RESIDENT, resident_id=world.resident_id))


async def _log_in(world: Parking) -> None:
    for username, headers in (("guard", world.staff), ("zhangwei", world.resident)):
        answer = await world.api.post("/api/v1/auth/login",
                                      data={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        headers["Authorization"] = f"Bearer {answer.json()['access_token']}"


async def register(world: Parking, *, residents: Sequence[str] = (),
                   monthly: Sequence[str] = (), in_grace: Sequence[str] = (),
                   blacklisted: Sequence[str] = ()) -> None:
    """Cars of the registry: the resident's, monthly passes valid now, passes expired two
    days ago with three grace days, black-listed plates."""
    today = world.clock().astimezone().date()
    async with world.hub.uow() as uow:
        for plate in residents:
            uow.add(Vehicle(world.site_id, world.unit_id, plate,
                            resident_id=world.resident_id))
        for plate in monthly:
            uow.add(MonthlyPass(world.site_id, plate, today - timedelta(days=10),
                                today + timedelta(days=20)))
        for plate in in_grace:
            uow.add(MonthlyPass(world.site_id, plate, today - timedelta(days=32),
                                today - timedelta(days=2), grace_days=3))
        for plate in blacklisted:
            uow.add(PlateListEntry(world.site_id, PlateList.BLACK, plate, "unpaid fees",
                                   world.clock() - timedelta(days=1)))
        await uow.commit()


async def visitor_pass(world: Parking, plate: str, free_minutes: int) -> None:
    """The resident invites a visitor by car through the app."""
    now = world.clock()
    await world.post("/api/v1/me/visitor-passes", {
        "visitor_name": "王芳", "visitor_phone": "13900001111",
        "valid_from": (now - timedelta(minutes=5)).isoformat(),
        "valid_until": (now + timedelta(hours=6)).isoformat(), "entries": 2,
        "plate": plate, "free_minutes": free_minutes}, headers=world.resident, status=201)


def json_of(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@contextlib.contextmanager
def patience(world: Parking, seconds: float) -> Any:
    """The gates wait `seconds` for the hub before deciding alone, inside the block."""
    for lane in world.lanes.values():
        lane.gate.hub_timeout_s = seconds
    try:
        yield
    finally:
        for lane in world.lanes.values():
            lane.gate.hub_timeout_s = PATIENT_S


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
