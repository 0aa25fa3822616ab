"""Running a scenario: build its devices, keep them connected, and let its faults happen."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from hub.devices.mosquitto_auth import device_username
from hub.domain.observations import DeviceKey
from simulators.mqtt.cameras import ImageSource, PlateCamera, Vehicles, pair_lanes
from simulators.mqtt.device import Link, SimulatedDevice
from simulators.mqtt.doors import DoorController
from simulators.mqtt.gates import BarrierGate
from simulators.mqtt.lights import StreetLight
from simulators.mqtt.scenario import (
    CameraSpec,
    DeviceSpec,
    DoorSpec,
    FaultSpec,
    GateSpec,
    LightSpec,
    Scenario,
    ScenarioError,
    scenario_from,
)

log = logging.getLogger(__name__)


def build_devices(scenario: Scenario, broker: str, passwords: Mapping[str, str] | None = None,
                  *, seed: int | None = None, image_source: ImageSource | None = None,
                  protocol: Literal["5", "3.1.1"] = "5") -> dict[str, SimulatedDevice]:
    """The scenario's devices by id, not yet running. `passwords` maps a device's username
    (`{site}.{kind}.{device}`) to its password, as `hub mosquitto config` writes them."""
    passwords = passwords or {}
    vehicles = Vehicles(scenario.plates.residents, scenario.plates.visitors,
                        visitor_share=scenario.plates.visitor_share, rng=_rng(seed, "vehicles"))
    devices = {}
    for spec in scenario.devices:
        username = device_username(DeviceKey(scenario.site, spec.kind, spec.device))
        link = Link(broker, password=passwords.get(username), protocol=protocol)
        common: dict[str, Any] = {"period_s": spec.period, "rng": _rng(seed, spec.device)}
        devices[spec.device] = _device(scenario, spec, link, common, vehicles, image_source)
    # One lane controller per lane: each camera tells its lane's gate of every read, so the
    # gate can decide from its allow-list when the hub does not answer.
    pair_lanes([d for d in devices.values() if isinstance(d, BarrierGate)],
               [d for d in devices.values() if isinstance(d, PlateCamera)])
    return devices


def _device(scenario: Scenario, spec: DeviceSpec, link: Link, common: dict[str, Any],
            vehicles: Vehicles, image_source: ImageSource | None) -> SimulatedDevice:
    site = scenario.site
    if isinstance(spec, LightSpec):
        return StreetLight(site, spec.device, link, rated_w=spec.rated_w, on=spec.lit,
                           **common)
    if isinstance(spec, GateSpec):
        return BarrierGate(site, spec.device, link, lane=spec.lane, hold_s=spec.hold,
                           pass_after_s=spec.pass_after,
                           pass_probability=spec.pass_probability, **common)
    if isinstance(spec, CameraSpec):
        return PlateCamera(site, spec.device, link, vehicles=vehicles, lane=spec.lane,
                           direction=spec.direction, per_minute=spec.per_minute,
                           repeat_probability=spec.repeat_probability,
                           misread_probability=spec.misread_probability,
                           image_source=image_source, **common)
    assert isinstance(spec, DoorSpec)
    credentials = scenario.credentials if spec.credentials is None else spec.credentials
    return DoorController(site, spec.device, link, credentials=credentials,
                          per_minute=spec.per_minute, unlock_s=spec.unlock, **common)


def _rng(seed: int | None, name: str) -> random.Random:
    # One generator per device, so that a seeded run repeats whatever the scheduling order.
    return random.Random(None if seed is None else f"{seed}:{name}")  # noqa: S311


async def run_faults(faults: list[FaultSpec], devices: Mapping[str, SimulatedDevice]) -> None:
    """Begin and end each fault at its times, counted from the device's first connection
    (a fault at 0s would otherwise be announced before anyone can hear it)."""
    async with asyncio.TaskGroup() as group:
        for fault in faults:
            group.create_task(_fault_timeline(fault, devices[fault.device]))


async def _fault_timeline(fault: FaultSpec, device: SimulatedDevice) -> None:
    await device.first_connected()
    await asyncio.sleep(fault.at)
    while True:
        await device.set_fault(fault.fault, True)
        if fault.for_ is None:
            return
        await asyncio.sleep(fault.for_)
        await device.set_fault(fault.fault, False)
        if fault.every is None:
            return
        await asyncio.sleep(fault.every - fault.for_)


async def run_scenario(scenario: Scenario, broker: str,
                       passwords: Mapping[str, str] | None = None, *,
                       seed: int | None = None, protocol: Literal["5", "3.1.1"] = "5") -> None:
    """Run every device of the scenario and its faults until cancelled."""
    devices = build_devices(scenario, broker, passwords, seed=seed, protocol=protocol)
    log.info("simulating %d MQTT devices of site %s on %s", len(devices), scenario.site, broker)
    async with asyncio.TaskGroup() as group:
        for device in devices.values():
            group.create_task(device.run(), name=f"simulator {device.key}")
        group.create_task(run_faults(scenario.faults, devices))


def read_passwords(path: Path) -> dict[str, str]:
    """The `credentials.yaml` written by `hub mosquitto config`: username -> password."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ScenarioError(f"{path}: cannot read: {err}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected username: password lines")
    return {str(user): str(password) for user, password in data.items()}


def community(site: str = "lakeside", *, lights: int = 4, gates: int = 2, doors: int = 2,
              fault_every: float | None = 600.0) -> Scenario:
    """A small community as the demo shows it: street lights, gates each with an entry and
    an exit camera, door controllers, and — unless `fault_every` is None — a fault every
    few minutes (a dead lamp, a stuck barrier, a misreading camera, a light going offline).
    """
    gate_names = ["north", "south", "east", "west"][:gates] + \
        [f"g{n}" for n in range(5, gates + 1)]
    devices: list[dict[str, Any]] = [
        {"kind": "light", "device": f"light-{n}", "lit": True} for n in range(1, lights + 1)]
    for name in gate_names:
        devices.append({"kind": "gate", "device": f"gate-{name}", "lane": name})
        # A lane per camera ("north-in", "north-out"): the hub's lanes are unique in a site.
        devices += [{"kind": "camera", "device": f"cam-{name}-{way}", "lane": f"{name}-{way}",
                     "direction": way} for way in ("in", "out")]
    devices += [{"kind": "door", "device": f"door-{n}"} for n in range(1, doors + 1)]
    return scenario_from({"site": site, "devices": devices,
                          "faults": _recurring_faults(lights, gate_names, fault_every)})


def _recurring_faults(lights: int, gate_names: list[str],
                      every: float | None) -> list[dict[str, Any]]:
    if every is None:
        return []
    plan: list[tuple[float, str, str]] = []
    if lights:
        plan += [(0.1, "light-1", "lamp_failure"), (0.7, f"light-{lights}", "offline")]
    if gate_names:
        plan += [(0.3, f"gate-{gate_names[0]}", "stuck"),
                 (0.5, f"cam-{gate_names[0]}-in", "misread")]
    # Each fault lasts a fifth of the cycle, staggered so that they rarely overlap.
    return [{"at": every * start, "device": device, "fault": fault, "for": every / 5,
             "every": every} for start, device, fault in plan]
