"""The InfluxDB exporter's buffer, batches and retries, with a writer the test controls."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from hub.devices.backoff import Backoff
from hub.domain.observations import DeviceKey, Sample
from hub.health import HealthBoard
from hub.settings import InfluxSettings
from hub.telemetry.influx import InfluxExport, WriteFailed, WriteRefused

MORNING = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
LIFT = DeviceKey("lakeside", "elevator", "lift-1")
WAIT_S = 10.0  # a bound on waiting for the exporter, never a measured expectation


def floors(count: int, start: int = 0) -> list[Sample]:
    """Lift 1's floor, one reading a second: value i at second i."""
    return [Sample(1, "floor", MORNING + timedelta(seconds=i), value=i)
            for i in range(start, start + count)]


@dataclass
class FakeWriter:
    """Records what it is sent; `fail`/`refuse` make the next attempts fail; `gate` holds them."""

    batches: list[list[str]] = field(default_factory=list)
    fail: int = 0
    refuse: int = 0
    gate: threading.Event | None = None
    attempts: int = 0

    def write(self, lines: list[str]) -> None:
        self.attempts += 1
        if self.gate is not None:
            self.gate.wait(WAIT_S)
        if self.refuse:
            self.refuse -= 1
            raise WriteRefused("HTTP 400 Bad Request")
        if self.fail:
            self.fail -= 1
            raise WriteFailed("NewConnectionError")
        self.batches.append(lines)

    def close(self) -> None:
        return None

    def values(self) -> list[float]:
        return [float(line.split(" ")[1].split("=")[1]) for b in self.batches for line in b]


async def names(ids: Collection[int]) -> Mapping[int, DeviceKey]:
    return {1: LIFT} if 1 in ids else {}


def exporter(writer: FakeWriter, health: HealthBoard | None = None,
             **settings: object) -> InfluxExport:
    config = InfluxSettings(url="http://127.0.0.1:9", org="estate", bucket="telemetry",
                            token="lakeside-token", **{"flush_interval_s": 0.05, **settings})
    return InfluxExport(config, names, health or HealthBoard(), writer=lambda: writer,
                        backoff=Backoff(base=0.01, cap=0.05))


@asynccontextmanager
async def running(export: InfluxExport) -> AsyncIterator[None]:
    task = asyncio.create_task(export.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(condition: Callable[[], bool]) -> None:
    """Wait for what the test then asserts on; fail (not hang) if it never happens."""
    try:
        async with asyncio.timeout(WAIT_S):
            while not condition():  # noqa: ASYNC110 - the counters have no event to wait on
                await asyncio.sleep(0.005)
    except TimeoutError:
        pytest.fail("the exporter never got there", pytrace=False)


async def test_offered_samples_are_sent_in_batches_of_the_configured_size() -> None:
    writer = FakeWriter()
    export = exporter(writer, batch_size=40)
    export.offer(floors(100))

    async with running(export):
        await until(lambda: export.stats().sent == 100)

    assert [len(b) for b in writer.batches] == [40, 40, 20]
    assert writer.values() == [float(i) for i in range(100)]


async def test_a_few_samples_are_sent_after_the_flush_interval() -> None:
    writer = FakeWriter()
    export = exporter(writer, batch_size=1000)

    async with running(export):
        export.offer(floors(3))
        await until(lambda: export.stats().sent == 3)

    assert writer.values() == [0.0, 1.0, 2.0]


async def test_a_full_buffer_drops_the_oldest_and_counts_them() -> None:
    writer = FakeWriter()
    export = exporter(writer, batch_size=10, buffer_max=50)

    export.offer(floors(80))  # nothing runs yet: as if InfluxDB were slow
    stats = export.stats()
    async with running(export):
        await until(lambda: export.stats().buffered == 0)

    assert (stats.offered, stats.buffered, stats.dropped) == (80, 50, 30)
    assert writer.values() == [float(i) for i in range(30, 80)]


async def test_failed_writes_are_retried_until_they_pass_and_health_says_why() -> None:
    writer, health = FakeWriter(fail=3), HealthBoard()
    export = exporter(writer, health, batch_size=10)
    export.offer(floors(25))

    async with running(export):
        await until(lambda: export.stats().sent == 25)
        beat = health.beats["telemetry.influx"]

    stats = export.stats()
    assert writer.values() == [float(i) for i in range(25)]
    assert (stats.failures, stats.dropped, stats.last_error) == (3, 0, "NewConnectionError")
    assert beat.status == "ok"
    assert "sent=25" in beat.detail
    assert "last_error=NewConnectionError" in beat.detail


async def test_health_is_degraded_while_writes_fail() -> None:
    writer, health = FakeWriter(fail=10_000), HealthBoard()
    export = exporter(writer, health)
    export.offer(floors(5))

    async with running(export):
        await until(lambda: export.stats().failures >= 2)

    beat = health.beats["telemetry.influx"]
    assert beat.status == "degraded"
    assert "buffered=5" in beat.detail
    assert export.stats().sent == 0


async def test_a_refused_batch_is_counted_and_the_next_one_goes_through() -> None:
    writer = FakeWriter(refuse=1)
    export = exporter(writer, batch_size=10)
    export.offer(floors(15))

    async with running(export):
        await until(lambda: export.stats().buffered == 0)

    stats = export.stats()
    assert (stats.rejected, stats.sent) == (10, 5)
    assert writer.values() == [float(i) for i in range(10, 15)]


async def test_samples_pushed_out_while_their_batch_is_in_flight_count_once() -> None:
    """The batch being written is the oldest data: overflow eats into it meanwhile."""
    gate = threading.Event()
    writer = FakeWriter(gate=gate)
    export = exporter(writer, batch_size=10, buffer_max=20)
    export.offer(floors(20))

    async with running(export):
        await until(lambda: writer.attempts == 1)
        export.offer(floors(5, start=20))  # evicts 0-4, which are being written
        gate.set()
        await until(lambda: export.stats().buffered == 0)

    stats = export.stats()
    assert writer.values() == [float(i) for i in range(25)]
    assert (stats.sent, stats.dropped) == (25, 0)
    assert stats.offered == stats.sent + stats.dropped + stats.rejected + stats.buffered


async def test_samples_of_unknown_devices_are_skipped_and_counted() -> None:
    writer = FakeWriter()
    export = exporter(writer)
    export.offer([Sample(404, "floor", MORNING, value=1), *floors(2)])

    async with running(export):
        await until(lambda: export.stats().buffered == 0)

    assert (export.stats().skipped, export.stats().sent) == (1, 2)


def test_offering_without_a_running_loop_neither_blocks_nor_grows() -> None:
    export = exporter(FakeWriter(), batch_size=100, buffer_max=1000)

    for second in range(0, 100_000, 1000):
        export.offer(floors(1000, start=second))

    assert (export.stats().buffered, export.stats().dropped) == (1000, 99_000)
