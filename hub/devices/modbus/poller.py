"""One coordinator per connection (host, port): polls the devices (units) behind it, one read
at a time, each on its own fixed-rate schedule.

Connections are separate tasks, so a sick device delays only the units that share its
connection (as on a real RS-485 bus behind a gateway). A transport failure closes the
connection and backs the whole connection off; an exception response backs off only the
device that gave it. Outages and recoveries are logged once each; the next attempt after a
backoff always opens a new connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from hub.devices.backoff import Backoff
from hub.devices.modbus.device import PolledDevice
from hub.devices.modbus.link import DeviceRefused, Link, LinkError, Registers
from hub.devices.modbus.stats import LinkStats, Observer, PollRecord
from hub.health import HealthBoard, Status
from hub.ports import Clock, Ingest

log = logging.getLogger(__name__)

# on_reachability(device_id, reachable, reason): called on every change (and the first
# verdict). It runs on the poller's task: it must not block (schedule slow work elsewhere).
Reachability = Callable[[int, bool, str], None]

# Health beats repeat at least this often while nothing changes; a change beats at once.
BEAT_EVERY_S = 5.0


class Coordinator:
    def __init__(self, host: str, port: int, devices: Sequence[PolledDevice], *, link: Link,
                 backoff: Backoff, ingest: Ingest, health: HealthBoard,
                 on_reachability: Reachability, clock: Clock,
                 observer: Observer | None = None) -> None:
        self.host, self.port = host, port
        self.devices = list(devices)
        self.stats = LinkStats()
        self._link, self._backoff = link, backoff
        self._ingest, self._health = ingest, health
        self._on_reachability, self._clock, self._observer = on_reachability, clock, observer
        self._last_beat = float("-inf")

    @property
    def name(self) -> str:
        return f"modbus {self.host}:{self.port}"

    def start(self, at: float) -> None:
        for device in self.devices:
            device.start(at)

    async def run(self) -> None:
        """Poll forever. A restart (after a crash) keeps schedules, counters and seqs."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                device = min(self.devices, key=lambda d: d.schedule.due)
                delay = device.schedule.due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                now = loop.time()
                if missed := device.schedule.skip_late(now):
                    device.stats.missed += missed
                    continue
                due = device.schedule.due
                device.schedule.advance()
                await self._poll(device, due, now)
                _stop_if_cancelled()
        finally:
            self._link.close()

    async def _poll(self, device: PolledDevice, due: float, started: float) -> None:
        device.stats.attempts += 1
        error = ""
        try:
            answers = await self._read(device)
        except LinkError as err:
            error = err.kind
            self._link_failed(device, err)
        except DeviceRefused as err:
            error = err.kind
            self._link_ok()
            self._device_refused(device, err)
        else:
            self._link_ok()
            await self._deliver(device, answers)
        loop_now = asyncio.get_running_loop().time()
        if self._observer is not None:
            self._observer(PollRecord(device.target.key, due, started, loop_now, not error, error))
        self._beat(device, loop_now)

    async def _read(self, device: PolledDevice) -> list[Registers]:
        target = device.target
        for attempt in range(target.retries + 1):
            try:
                if not self._link.connected:
                    self._link.close()  # lost while idle: pymodbus may be reconnecting by itself
                    await self._link.connect()
                    self.stats.connects += 1
                return [await self._link.read(block, target.unit, target.request_timeout_s)
                        for block in device.decoder.blocks]
            except LinkError as err:
                self._link.close()
                self.stats.error(err.kind, err.detail)
                if attempt == target.retries:
                    raise
        raise AssertionError("unreachable: the last attempt re-raises")

    async def _deliver(self, device: PolledDevice, answers: list[Registers]) -> None:
        raw = device.decoder.decode(answers)
        observations = device.observe(raw, self._clock())
        device.stats.polls_ok += 1
        device.backoff.reset()
        device.stats.backoff_until = 0.0
        self._set_reachable(device, True, "answered")
        for observation in observations:
            await self._ingest.put(observation)

    def _link_failed(self, device: PolledDevice, err: LinkError) -> None:
        now = asyncio.get_running_loop().time()
        resume = now + self._backoff.next()
        self.stats.backoff_until = resume
        device.stats.error(err.kind, err.detail)
        if self.stats.up is not False:
            log.warning("%s down (%s); backing off, retrying by itself", self.name, err)
            self.stats.up, self.stats.down_since = False, now
        else:
            log.debug("%s still down (%s)", self.name, err)
        for each in self.devices:
            each.stats.skipped_in_backoff += each.schedule.skip_until(resume)
            self._set_reachable(each, False, f"connection {err}")

    def _link_ok(self) -> None:
        if self.stats.up is False:
            now = asyncio.get_running_loop().time()
            log.info("%s back after %.1fs down", self.name, now - (self.stats.down_since or now))
        self.stats.up, self.stats.down_since = True, None
        self.stats.backoff_until = 0.0
        self._backoff.reset()

    def _device_refused(self, device: PolledDevice, err: DeviceRefused) -> None:
        now = asyncio.get_running_loop().time()
        resume = now + device.backoff.next()
        if device.stats.reachable is not False:
            log.warning("modbus device %s answers %s; backing off", device.target.key, err)
        device.stats.error(err.kind, err.name)
        device.stats.backoff_until = resume
        device.stats.skipped_in_backoff += device.schedule.skip_until(resume)
        self._set_reachable(device, False, str(err))

    def _set_reachable(self, device: PolledDevice, reachable: bool, reason: str) -> None:
        if device.stats.reachable is reachable:
            return
        now = asyncio.get_running_loop().time()
        key = device.target.key
        if not reachable:
            device.down_since = now
            log.info("modbus device %s unreachable: %s", key, reason)
        elif device.stats.reachable is False:
            log.info("modbus device %s reachable again after %.1fs", key,
                     now - (device.down_since or now))
        device.stats.reachable = reachable
        device.last_beat = float("-inf")  # a change beats at once
        self._last_beat = float("-inf")
        self._on_reachability(device.target.device_id, reachable, reason)

    def _beat(self, device: PolledDevice, now: float) -> None:
        if now - device.last_beat >= BEAT_EVERY_S:
            device.last_beat = now
            status: Status = "ok" if device.stats.reachable else "degraded"
            self._health.beat(f"modbus {device.target.key}", status, device.stats.detail(now))
        if now - self._last_beat >= BEAT_EVERY_S:
            self._last_beat = now
            status = "degraded" if self.stats.up is False else "ok"
            self._health.beat(self.name, status, self.stats.detail(now, len(self.devices)))


def _stop_if_cancelled() -> None:
    """Python 3.11's `asyncio.wait_for` (inside pymodbus) swallows a cancellation that arrives
    as its future completes (cpython gh-86296); the request to cancel stays counted on the
    task, so honour it here, or shutdown would wait for this task forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
