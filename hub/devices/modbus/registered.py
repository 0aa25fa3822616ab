"""Polling what the registry holds, kept in step with it.

The registry is read again every `rescan_s`: a device registered, approved, changed or
disabled through the API is polled (or no longer polled) within that time, without a restart.
Each connection (host, port) has its own pollers; only the connections whose devices changed
are restarted, so a change elsewhere never interrupts a healthy device's period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hub.devices.modbus.poller import Reachability
from hub.devices.modbus.polling import ModbusPolling
from hub.devices.modbus.registers import RegisterMap
from hub.devices.modbus.targets import ModbusTarget, target_for
from hub.domain.property import Site
from hub.domain.registry import Approval, Device, Protocol
from hub.health import HealthBoard
from hub.ports import Clock, Ingest, UnitOfWork

log = logging.getLogger(__name__)

RESCAN_S = 10.0
Endpoint = tuple[str, int]


@dataclass
class Plan:
    """What should be polled: targets by connection, and the devices that cannot be."""

    groups: dict[Endpoint, frozenset[ModbusTarget]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # device code → why


def plan_polling(devices: Sequence[Device], sites: Mapping[int, str],
                 maps: Mapping[str, RegisterMap]) -> Plan:
    """Pure: the registry's approved Modbus devices as groups per connection. A device with
    a bad connection, an unknown register map or a unit already taken on its connection is
    refused with a reason; the others are polled."""
    plan = Plan()
    groups: dict[Endpoint, set[ModbusTarget]] = {}
    for device in sorted(devices, key=lambda d: d.id or 0):
        try:
            target = target_for(device, sites[device.site_id])
        except ValueError as err:
            plan.refused[device.code] = str(err)
            continue
        if target.register_map not in maps:
            plan.refused[device.code] = f"no register map named {target.register_map!r}"
            continue
        group = groups.setdefault(target.endpoint, set())
        if any(other.unit == target.unit for other in group):
            plan.refused[device.code] = (f"{target.host}:{target.port} unit {target.unit} is "
                                         "already polled for another device")
            continue
        group.add(target)
    plan.groups = {endpoint: frozenset(group) for endpoint, group in groups.items()}
    return plan


def endpoint_phase(endpoint: Endpoint) -> float:
    """Where in the period a connection's polls start: spread by a stable hash, so that a
    thousand single-device connections do not all read at the top of each second."""
    return zlib.crc32(f"{endpoint[0]}:{endpoint[1]}".encode()) / 2**32


async def poll_registered(uow: Callable[[], UnitOfWork], maps: Mapping[str, RegisterMap], *,
                          ingest: Ingest, health: HealthBoard, on_reachability: Reachability,
                          clock: Clock, rescan_s: float = RESCAN_S) -> None:
    """Poll every approved Modbus device until cancelled, following the registry."""
    running: dict[Endpoint, tuple[frozenset[ModbusTarget], asyncio.Task[None]]] = {}
    refused: dict[str, str] = {}

    def start(endpoint: Endpoint, targets: frozenset[ModbusTarget]) -> None:
        polling = ModbusPolling(sorted(targets, key=lambda t: t.unit), maps, ingest=ingest,
                                health=health, on_reachability=on_reachability, clock=clock,
                                phase_offset=endpoint_phase(endpoint))
        running[endpoint] = (targets, asyncio.create_task(
            polling.run(), name=f"modbus {endpoint[0]}:{endpoint[1]}"))

    try:
        while True:
            async with uow() as work:
                devices = await work.find(Device, protocol=Protocol.MODBUS,
                                          approval=Approval.ACTIVE)
                sites = {site.id: site.code for site in await work.find(Site)
                         if site.id is not None}
            plan = plan_polling(devices, sites, maps)
            # Changed, gone, or (it should not) ended: stopped, and started again below.
            for endpoint in [e for e, (targets, task) in running.items()
                             if plan.groups.get(e) != targets or task.done()]:
                await _stop(running.pop(endpoint)[1])
            for endpoint, targets in plan.groups.items():
                if endpoint not in running:
                    start(endpoint, targets)
            if plan.refused != refused:  # logged when it changes, not every rescan
                refused = plan.refused
                if refused:
                    log.warning("Modbus devices not polled: %s", _reasons(refused))
            _report(health, plan, len(running))
            await asyncio.sleep(rescan_s)
    finally:
        for _, task in running.values():
            await _stop(task)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _reasons(refused: Mapping[str, str]) -> str:
    return "; ".join(f"{code}: {why}" for code, why in sorted(refused.items()))


def _report(health: HealthBoard, plan: Plan, connections: int) -> None:
    polled = sum(len(group) for group in plan.groups.values())
    detail = f"{polled} devices on {connections} connections"
    if plan.refused:
        health.beat("modbus", "degraded", f"{detail}; not polled: {_reasons(plan.refused)}"[:500])
    else:
        health.beat("modbus", "ok", detail if polled else "no Modbus devices registered")
