"""Faults from a scenario, on a real broker: a barrier sticks and frees itself, a lamp dies
while it is on, a device goes offline and comes back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulators.mqtt.device import SimulatedDevice
from simulators.mqtt.runner import build_devices, run_faults
from simulators.mqtt.scenario import Scenario, load_scenario
from tests.integration.simulators.conftest import events, is_status, online, telemetry_of
from tests.integration.simulators.watch import Watch

pytestmark = pytest.mark.mqtt


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def scenario_running(scenario: Scenario, url: str,
                           watch: Watch) -> AsyncIterator[dict[str, SimulatedDevice]]:
    devices = build_devices(scenario, url, seed=7)
    tasks = [asyncio.create_task(d.run()) for d in devices.values()]
    try:
        for device in devices.values():  # up and reporting before the first fault begins
            await watch.wait_for(telemetry_of(device))
        tasks.append(asyncio.create_task(run_faults(scenario.faults, devices)))
        yield devices
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_stuck_barrier_from_a_scenario_appears_then_clears(
        tmp_path: Path, site: str, mqtt_url: str, watch: Watch) -> None:
    scenario = load_scenario(write(tmp_path, """
        devices:
          - {kind: gate, device: gate-north, lane: north, period: 1h}
        faults:
          - {at: 0s, device: gate-north, fault: stuck, for: 200ms}
    """), site=site)
    async with scenario_running(scenario, mqtt_url, watch) as devices:
        gate = devices["gate-north"]
        await watch.wait_for(lambda s: s.topic == gate.topic("event"), count=2)

    assert [e["state"] for e in events(watch, gate, "barrier")] == ["stuck", "closed"]
    assert gate.active_faults == set()


async def test_lamp_failure_from_a_scenario_reports_on_with_almost_no_power(
        tmp_path: Path, site: str, mqtt_url: str, watch: Watch) -> None:
    scenario = load_scenario(write(tmp_path, """
        devices:
          - {kind: light, device: light-b3-1, lit: true, rated_w: 60, period: 1h}
        faults:
          - {at: 0s, device: light-b3-1, fault: lamp_failure, for: 200ms}
    """), site=site)
    async with scenario_running(scenario, mqtt_url, watch) as devices:
        light = devices["light-b3-1"]
        readings = await watch.wait_for(lambda s: s.topic == light.topic("telemetry"), count=3)

    (healthy, failed, repaired) = [s.body["metrics"] for s in readings]
    print(f"power_w healthy {healthy['power_w']}, failed {failed['power_w']}, "
          f"repaired {repaired['power_w']}")
    assert healthy["on"] and failed["on"] and repaired["on"]
    assert 55 < healthy["power_w"] < 65 and 55 < repaired["power_w"] < 65
    assert failed["power_w"] < 1.0


async def test_offline_fault_reports_offline_and_the_device_comes_back(
        tmp_path: Path, site: str, mqtt_url: str, watch: Watch) -> None:
    scenario = load_scenario(write(tmp_path, """
        devices:
          - {kind: door, device: door-b3-1, per_minute: 0, period: 1h}
        faults:
          - {at: 0s, device: door-b3-1, fault: offline, for: 200ms}
    """), site=site)
    async with scenario_running(scenario, mqtt_url, watch) as devices:
        door = devices["door-b3-1"]
        await watch.wait_for(lambda s: is_status(s, door, "offline"))
        await watch.wait_for(lambda s: is_status(s, door, "online"), count=2)

    assert len(online(watch, door)) >= 2
    assert door.counters["connects"] == 2


async def test_recurring_fault_begins_again_every_period(
        tmp_path: Path, site: str, mqtt_url: str, watch: Watch) -> None:
    scenario = load_scenario(write(tmp_path, """
        devices:
          - {kind: gate, device: gate-north, period: 1h}
        faults:
          - {at: 0s, device: gate-north, fault: stuck, for: 50ms, every: 150ms}
    """), site=site)
    async with scenario_running(scenario, mqtt_url, watch) as devices:
        gate = devices["gate-north"]
        await watch.wait_for(lambda s: s.topic == gate.topic("event"), count=4)

    assert [e["state"] for e in events(watch, gate, "barrier")][:4] == [
        "stuck", "closed", "stuck", "closed"]
