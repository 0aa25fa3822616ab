"""Live counters for usage-triggered maintenance: what the devices linked to an asset report
(elevator `trips`, `run_seconds`), kept per device with the asset's own baseline.

`UsageTracker` is an ingestion observer (hub.ingest.observers). Observers run on the writer's
task and must return quickly, so it stores nothing itself for most messages: it remembers the
latest reading per device and hands it to the bus (RecordUsage, one short transaction) at most
once per `every` of the device's own time, at once when the device's mode changes, and when a
device goes offline or comes back (RefreshAssetStatus). Devices linked to no asset are asked
about again only after `recheck`.

It reads the raw counter, not the poller's `_total`: that total starts again from the raw
value when the hub restarts, while the raw value with wrap/reset handling
(hub.domain.maintenance.UsageCounter) keeps counting across restarts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hub.domain.accounts import SYSTEM, Actor
from hub.domain.commands import Command
from hub.domain.device_events import DeviceCameOnline, DeviceWentOffline
from hub.domain.maintenance import COUNTER_METRICS, UsageCounter
from hub.domain.observations import Telemetry
from hub.domain.registry import Asset, Device
from hub.handlers.facilities import RefreshAssetStatus, refresh_status
from hub.ingest.observers import Delivered, Published
from hub.ports import UnitOfWork

Reading = tuple[str, float, datetime]  # metric, raw value, when
Handle = Callable[[object], Awaitable[Any]]


@dataclass(frozen=True, kw_only=True)
class RecordUsage(Command):
    """The latest counter readings (and mode) of one device. Answers whether the device is
    linked to an asset."""

    device_id: int
    readings: tuple[Reading, ...] = ()
    mode_changed: bool = False
    at: datetime
    actor: Actor = SYSTEM


async def record_usage(cmd: RecordUsage, uow: UnitOfWork) -> bool:
    device = await uow.get(Device, cmd.device_id)
    if device is None or device.asset_id is None:
        return False
    for metric, raw, at in cmd.readings:
        counter = await uow.get(UsageCounter, (cmd.device_id, metric))
        if counter is None:
            uow.add(UsageCounter(device_id=cmd.device_id, metric=metric,
                                 asset_id=device.asset_id, last_raw=raw, total=raw, at=at))
        else:
            counter.asset_id = device.asset_id
            counter.update(raw, at)
    if cmd.mode_changed:
        asset = await uow.get(Asset, device.asset_id)
        if asset is not None:
            await uow.flush()
            await refresh_status(uow, asset, cmd.at)
    await uow.commit()
    return True


async def asset_totals(uow: UnitOfWork, asset_id: int) -> dict[str, float]:
    """The asset's counters now: the sum over its devices, per metric."""
    totals: dict[str, float] = {}
    for counter in await uow.find(UsageCounter, asset_id=asset_id):
        totals[counter.metric] = totals.get(counter.metric, 0.0) + counter.total
    return totals


@dataclass
class _Seen:
    sent_at: datetime | None = None
    mode: str | None = None
    unlinked_until: datetime | None = None


@dataclass
class UsageTracker:
    handle: Handle
    every: timedelta = timedelta(minutes=1)
    recheck: timedelta = timedelta(minutes=10)
    _seen: dict[int, _Seen] = field(default_factory=dict)

    KINDS = (Telemetry, DeviceWentOffline, DeviceCameOnline)

    async def observe(self, message: Published) -> None:
        if isinstance(message, (DeviceWentOffline, DeviceCameOnline)):  # per message: no union
            await self.handle(RefreshAssetStatus(device_id=message.device_id, at=message.at))
        elif isinstance(message, Delivered) and isinstance(message.observation, Telemetry):
            await self._telemetry(message.device.id, message.observation)

    async def _telemetry(self, device_id: int, telemetry: Telemetry) -> None:
        at = telemetry.envelope.ts or telemetry.envelope.received_at
        metrics = telemetry.metrics
        readings = tuple((m, float(v), at) for m in sorted(COUNTER_METRICS)
                         if isinstance(v := metrics.get(m), int | float)
                         and not isinstance(v, bool))
        mode = metrics.get("mode")
        seen = self._seen.setdefault(device_id, _Seen())
        mode_changed = isinstance(mode, str) and mode != seen.mode
        if mode_changed:
            seen.mode = str(mode)
        if seen.unlinked_until is not None and at < seen.unlinked_until:
            return
        due = readings and (seen.sent_at is None or at - seen.sent_at >= self.every)
        if not (due or mode_changed):
            return
        linked = await self.handle(RecordUsage(device_id=device_id, readings=readings,
                                               mode_changed=mode_changed, at=at))
        seen.sent_at = at
        seen.unlinked_until = None if linked else at + self.recheck
