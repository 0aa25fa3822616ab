"""A test rig: simulated stations on loopback, one ModbusPolling over them, and everything it
emits, reports and logs recorded for the test to read."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from hub.devices.backoff import Backoff
from hub.devices.modbus.polling import ModbusPolling
from hub.devices.modbus.registers import load_register_maps
from hub.devices.modbus.stats import DeviceStats, PollRecord
from hub.devices.modbus.targets import ModbusTarget
from hub.domain.observations import DeviceKey, Fault, Observation, Rejected, Telemetry
from hub.health import HealthBoard
from hub.ports import Ack
from simulators.modbus.station import Station

REGISTERS = Path(__file__).resolve().parents[3] / "config" / "registers"
WAIT_S = 15.0  # the longest any wait in these tests may take before it fails


class RecordingIngest:
    def __init__(self) -> None:
        self.items: list[Observation | Rejected] = []
        self.fail_once: Exception | None = None  # raised by the next put, as a bug would

    async def put(self, item: Observation | Rejected, ack: Ack | None = None) -> None:
        if self.fail_once is not None:
            error, self.fail_once = self.fail_once, None
            raise error
        self.items.append(item)


@dataclass
class Rig:
    """`devices` maps a device code to (station, unit, register map)."""

    devices: Mapping[str, tuple[Station, int, str]]
    period_s: float = 0.25
    request_timeout_s: float = 0.3
    retries: int = 1
    ingest: RecordingIngest = field(default_factory=RecordingIngest)
    health: HealthBoard = field(default_factory=HealthBoard)
    reachability: list[tuple[int, bool, str]] = field(default_factory=list)
    polls: list[PollRecord] = field(default_factory=list)
    polling: ModbusPolling | None = None
    _task: asyncio.Task[None] | None = None
    _polled: asyncio.Event = field(default_factory=asyncio.Event)

    def key(self, code: str) -> DeviceKey:
        kind = "elevator" if self.devices[code][2] == "elevator-std" else "meter"
        return DeviceKey("lakeside", kind, code)

    def device_id(self, code: str) -> int:
        return list(self.devices).index(code) + 1

    async def start(self) -> None:
        targets = [ModbusTarget(
            device_id=self.device_id(code), key=self.key(code), host=station.host,
            port=station.port, register_map=regmap, unit=unit, period_s=self.period_s,
            request_timeout_s=self.request_timeout_s, retries=self.retries)
            for code, (station, unit, regmap) in self.devices.items()]
        seeds = random.Random(1794)
        self.polling = ModbusPolling(
            targets, load_register_maps(REGISTERS), ingest=self.ingest, health=self.health,
            on_reachability=lambda *change: self.reachability.append(change),
            backoff=lambda: Backoff(base=0.5, cap=2.0, _rng=random.Random(seeds.random())),
            observer=self._observe, boot="modbus-rig")
        self._task = asyncio.create_task(self.polling.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    def _observe(self, poll: PollRecord) -> None:
        self.polls.append(poll)
        self._polled.set()

    def stats(self, code: str) -> DeviceStats:
        assert self.polling is not None
        return self.polling.devices[self.key(code)].stats

    def telemetry(self, code: str) -> list[Telemetry]:
        key = self.key(code)
        return [i for i in self.ingest.items if isinstance(i, Telemetry) and i.envelope.key == key]

    def faults(self, code: str) -> list[Fault]:
        key = self.key(code)
        return [i for i in self.ingest.items if isinstance(i, Fault) and i.envelope.key == key]

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        """Wait for `condition`, re-checked after every poll, for at most WAIT_S."""
        try:
            async with asyncio.timeout(WAIT_S):
                while not condition():
                    self._polled.clear()
                    await self._polled.wait()
        except TimeoutError:
            raise AssertionError(f"waited {WAIT_S}s for {what}") from None

    async def next_telemetry(self, code: str, *, fresh: bool = False) -> Telemetry:
        """The next telemetry of `code`; `fresh`: one whose read surely started after this
        call (the read in flight, if any, is not it: reads on a connection are sequential)."""
        wanted = len(self.telemetry(code)) + (2 if fresh else 1)
        await self.until(lambda: len(self.telemetry(code)) >= wanted, f"telemetry of {code}")
        return self.telemetry(code)[-1]
