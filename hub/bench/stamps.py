"""What the benchmark learns from the hub itself: an observer in the rules' slot, called after
each commit, and the database's own account of what was stored."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.ingest.observers import Delivered, Published
from hub.store.device_tables import devices, inbox, telemetry
from hub.store.tables import sites

COUNTER_METRIC = "energy_kwh"  # seq / 100 in every benchmark message: one value per message


class Stamp(NamedTuple):
    device: str
    seq: int
    sent: float  # the payload's ts, epoch seconds
    stored: float  # time.time() when the observer heard of the commit


@dataclass
class Stamps:
    """The observer: one stamp per new message of this run (`boot`), after its commit.
    It keeps raw tuples, as cheap as a real observer handing a message to its queue."""

    boot: str
    _raw: list[tuple[str, int | None, datetime | None, float]] = field(default_factory=list)

    async def on_delivered(self, message: Published) -> None:
        if isinstance(message, Delivered):
            envelope = message.observation.envelope
            if envelope.boot == self.boot:
                self._raw.append((envelope.key.device, envelope.seq, envelope.ts, time.time()))

    def __len__(self) -> int:
        return len(self._raw)

    def raw_since(self, start: int) -> list[tuple[str, int | None, datetime | None, float]]:
        """The stamps from the `start`-th on, as kept (a worker hands them to the benchmark)."""
        return self._raw[start:]

    def extend(self, raw: list[tuple[str, int | None, datetime | None, float]]) -> None:
        self._raw.extend(raw)

    @property
    def stamps(self) -> list[Stamp]:
        return [Stamp(device, seq, ts.timestamp(), stored)
                for device, seq, ts, stored in self._raw if seq is not None and ts is not None]

    def repeated(self) -> int:
        """Messages the observer heard of twice: a redelivery that took effect again."""
        counts = Counter((raw[0], raw[1]) for raw in self._raw)
        return sum(n - 1 for n in counts.values() if n > 1)


@dataclass
class Window:
    """What the stamps say about the sustained phase, measured over [start, end)."""

    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    measured: int


def sustained(stamps: list[Stamp], start: float, end: float, below_seq: int) -> Window:
    """Throughput: messages stored within the window. Latency: of the messages sent within
    the window, however late they were stored."""
    phase = [s for s in stamps if s.seq < below_seq]
    stored = sum(1 for s in phase if start <= s.stored < end)
    latencies = sorted((s.stored - s.sent) * 1000 for s in phase if start <= s.sent < end)
    return Window(round(stored / (end - start), 1), round(percentile(latencies, 0.50), 1),
                  round(percentile(latencies, 0.99), 1),
                  round(latencies[-1], 1) if latencies else math.nan, len(latencies))


def drain_rate(stamps: list[Stamp], from_seq: int, started: float) -> float:
    """Messages per second of a backlog drained from `started` (time.time() when the hub's
    input was started) to the last commit; the bare subscribers are timed the same way."""
    times = [s.stored for s in stamps if s.seq >= from_seq]
    if not times or max(times) <= started:
        return 0.0
    return len(times) / (max(times) - started)


def percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass
class Stored:
    keys: set[tuple[str, int]]  # (device code, seq) in the inbox for this run
    duplicates: int  # messages whose telemetry rows exist more than once


async def stored(engine: AsyncEngine, site: str, boot: str, since: datetime) -> Stored:
    """The database's account: the inbox rows of this run, and how many messages left their
    readings twice (the counter metric holds a value of its own per message of a run that
    started at `since`)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(devices.c.code, inbox.c.seq)
            .join(devices, devices.c.id == inbox.c.device_id)
            .join(sites, sites.c.id == devices.c.site_id)
            .where(sites.c.code == site, inbox.c.boot == boot))
        keys = {(row.code, row.seq) for row in rows}
        repeats = select(func.count().label("n")).select_from(telemetry) \
            .join(devices, devices.c.id == telemetry.c.device_id) \
            .join(sites, sites.c.id == devices.c.site_id) \
            .where(sites.c.code == site, telemetry.c.metric == COUNTER_METRIC,
                   telemetry.c.at >= since) \
            .group_by(telemetry.c.device_id, telemetry.c.value) \
            .having(func.count() > 1).subquery()
        extra = await connection.scalar(select(func.coalesce(func.sum(repeats.c.n - 1), 0)))
    return Stored(keys, int(extra or 0))
