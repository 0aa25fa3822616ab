"""End to end on the real broker (ESTATE_TEST_MQTT_URL): a simulated camera that sends only
a picture (a scene drawn by hub.devices.plates, no plate text), the hub as `hub run` builds it
(bootstrap: ingestion, the gate flow, the plate reader's worker process, the evidence store),
and a simulated barrier gate.

A corrupt picture is held for a guard with its reason and the barrier stays down; the
registered car's picture opens the barrier; a temporary car's picture starts its session; the
snapshot and the plate crop of each read decision are served by the API to a guard."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from sqlalchemy import insert, select

from hub.api.app import create_app
from hub.bootstrap import Hub, bootstrap
from hub.devices.plates.camera_images import plate_image_source
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.parking.sessions import GateDecision, ParkingSession, SessionState, Verdict
from hub.handlers.tariffs import CreateTariff
from hub.settings import load_settings
from hub.store.device_tables import devices
from hub.store.migrate import upgrade
from hub.store.parking_registry_tables import parking_lanes, parking_lots, parking_vehicles
from hub.supervise import supervised
from simulators.mqtt.cameras import PlateCamera, Vehicles, pair_lanes
from simulators.mqtt.device import Link
from simulators.mqtt.gates import BarrierGate

MODEL = Path(__file__).parents[3] / "hub/devices/plates/models/chars.onnx"
pytestmark = pytest.mark.skipif(not MODEL.exists(),
                                reason=f"the plate reader's model {MODEL} is not there")

RESIDENT, TEMPORARY = "沪A12345", "苏E54321"
PASSWORD = "evidence-guard-password-0001"
JOBS = ("ingest", "mqtt", "mqtt.commands", "parking.gate")
WAIT_S = 30.0  # a bound against hangs on a busy machine; never a speed claim
SLOW = 3600.0


async def eventually(check: Callable[[], Any], what: str) -> Any:
    started = time.monotonic()
    while True:
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return found
        if time.monotonic() - started > WAIT_S:
            raise AssertionError(f"{what}: not within {WAIT_S} s")
        await asyncio.sleep(0.05)


@dataclass
class Site:
    hub: Hub
    code: str
    camera: PlateCamera
    gate: BarrierGate
    api: httpx.AsyncClient
    guard: dict[str, str]

    async def decisions(self) -> list[GateDecision]:
        async with self.hub.sessions() as db:
            return list(await db.scalars(select(GateDecision).order_by(
                GateDecision.id)))  # type: ignore[arg-type]

    async def sessions(self) -> list[ParkingSession]:
        async with self.hub.sessions() as db:
            return list(await db.scalars(select(ParkingSession)))


async def _seed(hub: Hub, code: str) -> None:
    bus = hub.bus
    site = await bus.handle(c.CreateSite(SYSTEM, code=code, name="Lakeside"))
    building = await bus.handle(c.CreateBuilding(SYSTEM, site_id=site, code="b1",
                                                 name="Building 1", floors=18))
    unit = await bus.handle(c.CreateUnit(SYSTEM, building_id=building, number="1-0301",
                                         floor=3, gross_area=Decimal("98.5"),
                                         inner_area=Decimal("80.1")))
    tariff = await bus.handle(CreateTariff(
        SYSTEM, site_id=site, code="temp", name="临停", effective_from=datetime(2026, 1, 1,
                                                                              tzinfo=UTC),
        rules={"free_minutes": 15, "first_period_minutes": 60, "first_period_price": "5.00",
               "unit_minutes": 60, "unit_price": "2.00"}))
    await bus.handle(c.CreateAccount(SYSTEM, username="guard", password=PASSWORD,
                                     role=Role.SECURITY, grants=(c.GrantIn(site, None),)))
    async with hub.engine.begin() as db:
        ids = {}
        for device, kind in (("cam-north-in", "camera"), ("gate-north", "gate")):
            ids[device] = (await db.execute(insert(devices).values(
                site_id=site, code=device, kind=kind, name=device, protocol="mqtt",
                connection={}, poll_period_s=1.0, timeout_s=300, approval="active",
                tags=[]).returning(devices.c.id))).scalar_one()
        lot = (await db.execute(insert(parking_lots).values(
            site_id=site, code="north", name="北门 north lot", temporary_capacity=20,
            tariff_id=tariff).returning(parking_lots.c.id))).scalar_one()
        await db.execute(insert(parking_lanes).values(
            site_id=site, lot_id=lot, code="north", direction="in",
            camera_device_id=ids["cam-north-in"], barrier_device_id=ids["gate-north"],
            vehicle_classes=[], plate_colors=[]))
        await db.execute(insert(parking_vehicles).values(
            site_id=site, unit_id=unit, plate=RESIDENT, plate_color="blue",
            vehicle_class="small", new_energy=False, note=""))


@contextlib.asynccontextmanager
async def _running(*coroutines: Any) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(co) for co in coroutines]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
async def site(tmp_path: Path, mqtt_url: str) -> AsyncIterator[Site]:
    code = f"t-{uuid.uuid4().hex[:12]}"
    settings = load_settings(
        None, mode="demo", data_dir=tmp_path,
        mqtt={"url": mqtt_url, "client_id": f"hub-{code}", "command_client_id": f"cmd-{code}",
              "sites": [code]},
        ingest={"devices_file": ""}, parking={"reader_workers": 1, "reader_timeout_s": 30.0})
    await asyncio.to_thread(upgrade, settings.database_url)
    hub = bootstrap(settings)
    await _seed(hub, code)
    pictures = plate_image_source(share=1.0, hard_share=0.0, seed=2026)
    # The hub is given all the time it needs: a gate deciding alone is another test's subject.
    gate = BarrierGate(code, "gate-north", Link(mqtt_url), lane="north", period_s=SLOW,
                       pass_after_s=SLOW, hold_s=SLOW, hub_timeout_s=SLOW)
    camera = PlateCamera(code, "cam-north-in", Link(mqtt_url), lane="north", direction="in",
                         vehicles=Vehicles([]), per_minute=0, repeat_probability=0,
                         misread_probability=0, period_s=SLOW, image_source=pictures)
    pair_lanes([gate], [camera])
    jobs = [supervised(name, hub.jobs[name], hub.health) for name in JOBS]
    app = create_app(settings, hub)
    try:
        async with _running(*jobs, gate.run(), camera.run()), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as api:
            tokens = await hub.bus.handle(c.Login("guard", PASSWORD))
            guard = {"Authorization": f"Bearer {tokens.access_token}"}
            await eventually(lambda: _linked(hub), "the hub's broker links")
            await asyncio.sleep(0.5)  # the simulators subscribed
            yield Site(hub, code, camera, gate, api, guard)
    finally:
        await hub.close()


async def _linked(hub: Hub) -> bool:
    report = await hub.health.report()
    return all(report.get(name, {}).get("status") == "ok" for name in ("mqtt", "mqtt-commands"))


async def _picture(api: httpx.AsyncClient, guard: dict[str, str], decision_id: int,
                   kind: str) -> Any:
    async def served() -> httpx.Response | None:
        response = await api.get(f"/api/v1/parking/decisions/{decision_id}/{kind}",
                                 headers=guard)
        return response if response.status_code == 200 else None

    response = await eventually(served, f"the {kind} of decision {decision_id}")
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


async def test_a_camera_sending_only_pictures(site: Site) -> None:
    # A picture the reader refuses: held for a guard, with the reason; the barrier stays down.
    site.camera.image_source = lambda plate, color: b"\xff\xd8\xff\xe0" + b"\x00" * 64
    await site.camera.see(RESIDENT, image=True, repeats=False)
    (held,) = await eventually(site.decisions, "the decision on the corrupt picture")
    assert held.verdict is Verdict.HOLD and held.snapshot_ref is None
    assert any("refused by the plate reader" in r for r in held.reasons), held.reasons
    assert site.gate.state == "closed"

    # The registered car's picture alone: read by the hub, the barrier rises.
    site.camera.image_source = plate_image_source(share=1.0, hard_share=0.0, seed=2026)
    await site.camera.see(RESIDENT, image=True, repeats=False)
    await eventually(lambda: site.gate.state == "open", "the barrier rising for the resident")
    decisions = await site.decisions()
    opened = decisions[-1]
    assert (opened.verdict, opened.plate) == (Verdict.OPEN, RESIDENT)
    assert any("read from the snapshot" in r for r in opened.reasons)

    # A temporary car's picture: its session starts.
    await site.camera.see(TEMPORARY, image=True, repeats=False)
    inside = await eventually(lambda: _inside(site, TEMPORARY), "the temporary car's session")
    assert inside.state is SessionState.INSIDE and inside.entry_decision_id is not None

    # The evidence of both reads, served to the site's guard.
    for decision_id in (opened.id, inside.entry_decision_id):
        assert decision_id is not None
        snapshot = await _picture(site.api, site.guard, decision_id, "snapshot")
        crop = await _picture(site.api, site.guard, decision_id, "crop")
        assert max(snapshot.shape[:2]) <= 1280 and crop.shape[1] > crop.shape[0]
    assert site.hub.plate_evidence is not None and site.hub.plate_evidence.failed == 0


async def _inside(site: Site, plate: str) -> ParkingSession | None:
    return next((s for s in await site.sessions() if s.plate == plate), None)
