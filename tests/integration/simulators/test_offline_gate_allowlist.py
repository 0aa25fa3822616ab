"""The hub's side of the offline gates: the retained, versioned allow-list of each gate
(hub.parking.allowlist) on a real broker, read by the simulated gate."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from hub.devices.mqtt.link import MqttConfig
from hub.domain.parking.standing import AllowedPlate, LaneInfo, LotInfo, PlateStanding, Standing
from hub.health import HealthBoard
from hub.parking.allowlist import AllowListPublisher, GateTarget, entries_for
from simulators.mqtt.device import Link
from simulators.mqtt.gates import BarrierGate
from tests.integration.devices.mqtt_support import eventually
from tests.integration.simulators.conftest import clear_retained, running
from tests.integration.simulators.watch import Watch

pytestmark = pytest.mark.mqtt
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
RESIDENT, MONTHLY, VISITOR = "沪A12345", "沪B67890", "粤BD12345"
NORTH, BASEMENT = 1, 2


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


class Directory:
    """ParkingDirectory of a dict: only the allow-list matters here."""

    def __init__(self, *plates: AllowedPlate) -> None:
        self.plates = list(plates)
        self.asked: list[int] = []

    async def lane_of_camera(self, camera_device_id: int, lane_code: str) -> LaneInfo | None:
        return None

    async def lane_of_barrier(self, barrier_device_id: int, lane_code: str | None
                              ) -> LaneInfo | None:
        return None

    async def lot(self, lot_id: int) -> LotInfo | None:
        return None

    async def standing(self, site_id: int, plate: str, at: datetime) -> PlateStanding:
        return PlateStanding(plate, Standing.TEMPORARY, ())

    async def allow_list(self, site_id: int, at: datetime) -> Sequence[AllowedPlate]:
        self.asked.append(site_id)
        return [p for p in self.plates if p.until is None or p.until > at]


def test_one_line_per_plate_for_the_lots_of_the_gate() -> None:
    later = NOW + timedelta(days=3)
    allowed = [AllowedPlate(MONTHLY, Standing.MONTHLY, NOW, (BASEMENT,)),
               AllowedPlate(MONTHLY, Standing.WHITELISTED, later),
               AllowedPlate(RESIDENT, Standing.REGISTERED, None),
               AllowedPlate(RESIDENT, Standing.WHITELISTED, later),
               AllowedPlate(VISITOR, Standing.MONTHLY, later, (BASEMENT,))]

    assert entries_for(allowed, frozenset({NORTH})) == [(RESIDENT, None), (MONTHLY, later)]
    assert entries_for(allowed, frozenset({NORTH, BASEMENT})) == [
        (RESIDENT, None), (MONTHLY, later), (VISITOR, later)]
    # A gate no lane names: every plate of the site, whatever lot its pass is for.
    assert [p for p, _ in entries_for(allowed, frozenset())] == [RESIDENT, MONTHLY, VISITOR]


@contextlib.asynccontextmanager
async def publishing(url: str, site: str, directory: Directory, clock: Clock,
                     gates: list[GateTarget]) -> AsyncIterator[AllowListPublisher]:
    config = MqttConfig(url=url, client_id=f"t-allowlist-{uuid.uuid4().hex[:8]}",
                        sites=(site,), backoff_base_s=0.1, backoff_cap_s=0.5)

    async def targets() -> list[GateTarget]:
        return gates

    publisher = AllowListPublisher(config, directory, targets, HealthBoard(), clock,
                                   poll_s=0.05, refresh_s=60, validity_s=600)
    task = asyncio.create_task(publisher.run())
    try:
        yield publisher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_versions_go_up_with_changes_and_survive_a_restart_of_the_publisher(
        site: str, mqtt_url: str, watch: Watch) -> None:
    clock = Clock()
    directory = Directory(AllowedPlate(RESIDENT, Standing.REGISTERED, None))
    north = GateTarget(7, 1, site, "gate-north")
    gate = BarrierGate(site, "gate-north", Link(mqtt_url), lane="north", period_s=3600)
    topic = north.topic
    try:
        async with publishing(mqtt_url, site, directory, clock, [north]) as publisher, \
                running(gate, watch):
            await eventually(lambda: gate.allowlist is not None, "the first list")
            assert gate.allowlist is not None
            assert (gate.allowlist.version, dict(gate.allowlist.plates)) == (1, {RESIDENT: None})
            assert gate.allowlist.valid_until == clock.now + timedelta(seconds=600)

            pass_end = clock.now + timedelta(days=30)
            directory.plates.append(AllowedPlate(MONTHLY, Standing.MONTHLY, pass_end))
            await eventually(lambda: publisher.stats.versions.get(topic) == 2, "version 2")
            await eventually(lambda: gate.allowlist is not None and gate.allowlist.version == 2,
                             "the gate has version 2")
            assert gate.allowlist.plates[MONTHLY] == pass_end
            polls = len(directory.asked)
            await eventually(lambda: len(directory.asked) > polls + 3, "more polls")
            assert publisher.stats.published == 2  # nothing changed, no refresh due

            clock.now += timedelta(seconds=61)  # a refresh: same version, later validity
            await eventually(lambda: publisher.stats.published == 3, "the refresh")
            assert publisher.stats.versions[topic] == 2

        # Another worker takes over (or the hub restarted): it reads version 2 back.
        directory.plates.pop(0)
        async with publishing(mqtt_url, site, directory, clock, [north]) as publisher:
            await eventually(lambda: publisher.stats.published == 1, "the new worker's list")
            assert publisher.stats.versions[topic] == 3
    finally:
        await clear_retained(mqtt_url, {topic})

    lists = [s for s in watch.on(topic) if s.payload]
    assert [(s.body["version"], [p["plate"] for p in s.body["plates"]]) for s in lists] == [
        (1, [RESIDENT]), (2, [RESIDENT, MONTHLY]), (2, [RESIDENT, MONTHLY]), (3, [MONTHLY])]
    assert all(s.retain and s.qos == 1 for s in lists)
