"""One polled device: its schedule, backoff and counters, and the translation of a decoded read
into observations — Telemetry every time, a Fault when a fault register changes.

Every observation carries `seq` from a counter of this device in this poller and `boot`, the
poller's instance id: the inbox's `(device, boot, seq)` is then unique per observation, and a
hub restart (a new boot) never collides with the seqs of the previous run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hub.devices.backoff import Backoff
from hub.devices.modbus.codec import MapDecoder, Raw, present
from hub.devices.modbus.counters import Counter
from hub.devices.modbus.registers import RegisterEntry
from hub.devices.modbus.schedule import Schedule
from hub.devices.modbus.stats import DeviceStats
from hub.devices.modbus.targets import ModbusTarget
from hub.domain.observations import Envelope, Fault, Scalar, Telemetry

TOTAL_SUFFIX = "_total"


class PolledDevice:
    def __init__(self, target: ModbusTarget, decoder: MapDecoder, boot: str,
                 backoff: Backoff, phase: float = 0.0) -> None:
        self.target = target
        self.decoder = decoder
        self.boot = boot
        self.backoff = backoff
        self.phase = phase  # fraction of a period: spreads devices over the period
        self.schedule = Schedule(start=0.0, period=target.period_s)
        self.stats = DeviceStats()
        self.down_since: float | None = None
        self.last_beat = float("-inf")
        self._seq = 0
        self._counters = {e.key: Counter.for_type(e.value_type)
                          for e in decoder.regmap.registers if e.counter}
        self._faults: dict[str, int] = {}

    def start(self, at: float) -> None:
        """Anchor the schedule: slot 0 at `at` plus this device's phase."""
        self.schedule = Schedule(start=at + self.phase * self.target.period_s,
                                 period=self.target.period_s)

    def observe(self, raw: Mapping[str, Raw | None], at: datetime) -> list[Telemetry | Fault]:
        """The observations of one successful read, in order; updates counters and faults."""
        metrics: dict[str, Scalar] = {}
        changes: list[tuple[str, bool]] = []
        for entry in self.decoder.regmap.registers:
            value = raw[entry.key]
            if value is None:
                self.stats.invalid_values += 1
                continue
            metrics[entry.key] = present(entry, value)
            if entry.counter:
                metrics[entry.key + TOTAL_SUFFIX] = self._total(entry, value)
            if entry.fault:
                changes += self._fault_changes(entry, int(value))
        observations: list[Telemetry | Fault] = [Telemetry(self._envelope(at), metrics)]
        for code, active in changes:
            observations.append(Fault(self._envelope(at), code, active,
                                      {"source": "modbus", "register": "fault"}))
        return observations

    def _total(self, entry: RegisterEntry, raw: Raw) -> Scalar:
        counter = self._counters[entry.key]
        wraps, resets = counter.wraps, counter.resets
        total = counter.update(float(raw) if isinstance(raw, float) else int(raw))
        self.stats.counter_wraps += counter.wraps - wraps
        self.stats.counter_resets += counter.resets - resets
        return total if entry.scale == 1.0 else total * entry.scale

    def _fault_changes(self, entry: RegisterEntry, code: int) -> list[tuple[str, bool]]:
        """A code that appears is raised; one that goes (to 0 or to another code) is cleared.
        The first read only raises: before it, this poller knew of no fault to clear."""
        previous = self._faults.get(entry.key)
        self._faults[entry.key] = code
        if previous == code:
            return []
        changes = []
        if previous:
            changes.append((self._name(entry, previous), False))
        if code:
            changes.append((self._name(entry, code), True))
        return changes

    @staticmethod
    def _name(entry: RegisterEntry, code: int) -> str:
        return str(present(entry, code))

    def _envelope(self, at: datetime) -> Envelope:
        self._seq += 1
        return Envelope(key=self.target.key, received_at=at, ts=at, seq=self._seq,
                        boot=self.boot)
