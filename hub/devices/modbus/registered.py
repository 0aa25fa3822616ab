"""Polling what the registry holds: the Modbus devices approved at start-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from hub.devices.modbus.poller import Reachability
from hub.devices.modbus.polling import ModbusPolling
from hub.devices.modbus.registers import RegisterMap
from hub.devices.modbus.targets import target_for
from hub.domain.property import Site
from hub.domain.registry import Approval, Device, Protocol
from hub.health import HealthBoard
from hub.ports import Clock, Ingest, UnitOfWork


async def poll_registered(uow: Callable[[], UnitOfWork], maps: Mapping[str, RegisterMap], *,
                          ingest: Ingest, health: HealthBoard, on_reachability: Reachability,
                          clock: Clock) -> None:
    """Poll every approved Modbus device until cancelled. A device registered or changed
    later is polled after the next start (the pollers are built once, from this list)."""
    async with uow() as work:
        devices = await work.find(Device, protocol=Protocol.MODBUS, approval=Approval.ACTIVE)
        sites = {site.id: site.code for site in await work.find(Site)}
    targets = [target_for(device, sites[device.site_id]) for device in devices]
    if not targets:
        health.beat("modbus", "ok", "no Modbus devices registered")
        await asyncio.Event().wait()  # nothing to do, but stay a well-behaved job
    unknown = sorted({t.register_map for t in targets} - set(maps))
    if unknown:
        raise LookupError(f"no register map named {', '.join(unknown)}")
    polling = ModbusPolling(targets, maps, ingest=ingest, health=health,
                            on_reachability=on_reachability, clock=clock)
    await polling.run()
