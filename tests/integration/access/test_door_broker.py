"""On the real broker: the simulated door controller presents a resident's card, the hub
ingests the `credential` event, decides, and the door receives `unlock` and opens; a card
the hub does not know leaves it shut."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.bootstrap import Hub, bootstrap
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM
from hub.domain.residents import Relation
from hub.handlers import access as h
from hub.store.access_tables import access_log
from hub.store.device_tables import devices
from simulators.mqtt.device import Link
from simulators.mqtt.doors import DoorController
from tests.integration.access.community import Community
from tests.integration.access.conftest import access_settings
from tests.integration.simulators.conftest import clear_retained
from tests.integration.simulators.watch import Watch, split_url, watching

pytestmark = pytest.mark.mqtt
JOBS = ("ingest", "mqtt", "mqtt.commands", "access.doors")


@contextlib.asynccontextmanager
async def running_hub(hub: Hub) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(hub.jobs[name](), name=name) for name in JOBS]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
async def broker_hub(seeded: tuple[Path, Community], tmp_path: Path,
                     mqtt_url: str) -> AsyncIterator[tuple[Hub, str]]:
    shutil.copy(seeded[0] / "hub.db", tmp_path / "hub.db")
    site = f"t-{uuid.uuid4().hex[:12]}"
    tag = uuid.uuid4().hex[:8]
    hub = bootstrap(access_settings(tmp_path, mqtt={
        "url": mqtt_url, "client_id": f"hub-{tag}", "command_client_id": f"hub-{tag}-cmd",
        "sites": [site], "ack_timeout_s": 5.0}))
    try:
        yield hub, site
    finally:
        await hub.close()


async def test_a_card_at_the_simulated_door_opens_it_through_the_hub(
        broker_hub: tuple[Hub, str], mqtt_url: str) -> None:
    hub, site = broker_hub
    site_id = await hub.bus.handle(c.CreateSite(SYSTEM, code=site, name="Broker Gardens"))
    async with hub.engine.begin() as conn:
        await conn.execute(devices.insert().values(
            site_id=site_id, building_id=None, code="door-1", kind="door", name="door-1",
            protocol="mqtt", connection={}, poll_period_s=1.0, timeout_s=300,
            approval="active", tags=[]))
    # A resident of this site living in one of its units.
    building = await hub.bus.handle(c.CreateBuilding(SYSTEM, site_id=site_id, code="b1",
                                                     name="B1", floors=6))
    unit = await hub.bus.handle(c.CreateUnit(SYSTEM, building_id=building, number="101",
                                             floor=1, gross_area=Decimal("80.00"),
                                             inner_area=Decimal("70.00"), status="occupied"))
    resident = await hub.bus.handle(c.RegisterResident(
        SYSTEM, site_id=site_id, name="张伟",
        residencies=(c.ResidencyIn(unit, Relation.OWNER, date(2020, 1, 1)),)))
    await hub.bus.handle(h.IssueCard(SYSTEM, resident_id=resident, card="CAFE1234"))
    door = DoorController(site, "door-1", Link(mqtt_url), per_minute=0, unlock_s=3600,
                          period_s=3600)
    host, port = split_url(mqtt_url)
    async with watching(host, port, f"estate/{site}/#") as seen, running_hub(hub):
        task = asyncio.create_task(door.run())
        try:
            await seen.wait_for(lambda s: s.topic == door.topic("status"))
            await asyncio.sleep(0.5)  # the hub's subscription is up
            await door.present("CARD:DEADBEEF")
            await door.present("CARD:cafe1234")
            acks = await _acks(seen, door)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await clear_retained(mqtt_url, {s.topic for s in seen.seen if s.retain})
    assert door.unlocks == 1 and not door.locked
    assert len(acks) == 1
    async with hub.engine.connect() as connection:
        rows = (await connection.execute(select(access_log).where(
            access_log.c.site_id == site_id).order_by(access_log.c.id))).all()
    assert [(r.allowed, r.resident_id) for r in rows] == [(False, None), (True, resident)]
    assert rows[1].command_id is not None


async def _acks(seen: Watch, door: DoorController) -> list[bytes]:
    found = await seen.wait_for(lambda s: s.topic == door.topic("cmd/ack"))
    await asyncio.sleep(0.5)  # a second unlock (for the unknown card) would be here by now
    return [s.payload for s in seen.on(door.topic("cmd/ack"))] or [f.payload for f in found]
