"""The InfluxDB exporter against a real server speaking the v2 write API (VictoriaMetrics):
what is offered is read back, an outage is buffered and delivered after it, overflow counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.devices.backoff import Backoff
from hub.domain.observations import DeviceKey, Sample
from hub.health import HealthBoard
from hub.settings import InfluxSettings
from hub.store.db import make_engine
from hub.store.migrate import upgrade_async
from hub.store.telemetry import device_keys
from hub.telemetry.influx import DeviceNames, InfluxExport
from tests.integration.telemetry.conftest import add_device
from tests.integration.telemetry.victoria import Victoria
from tests.services import require_binary

LIFT = DeviceKey("lakeside", "elevator", "lift-1")
METER = DeviceKey("lakeside", "meter", "meter-7")
WAIT_S = 30.0  # a bound on waiting, never an expectation about speed


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[Victoria]:
    server = Victoria(require_binary("victoria-metrics"), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def names(ids: Collection[int]) -> Mapping[int, DeviceKey]:
    return {i: key for i, key in ((1, LIFT), (2, METER)) if i in ids}


def exporter(server: Victoria, health: HealthBoard, lookup: DeviceNames = names,
             **settings: object) -> InfluxExport:
    config = InfluxSettings(**{"url": server.url, "org": "estate", "bucket": "telemetry",
                               "token": "lakeside-token", "batch_size": 50,
                               "flush_interval_s": 0.05, "timeout_s": 2.0, **settings})
    return InfluxExport(config, lookup, health, backoff=Backoff(base=0.05, cap=0.5))


@asynccontextmanager
async def running(export: InfluxExport) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(export.run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(condition: Callable[[], bool], what: str) -> None:
    try:
        async with asyncio.timeout(WAIT_S):
            while not condition():  # noqa: ASYNC110 - polling counters and a server
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"never happened: {what}", pytrace=False)


async def stored(server: Victoria, count: int, metric: str = "telemetry_floor",
                 **labels: str) -> dict[int, float]:
    """The server's points once `count` of them are searchable (it indexes within a second)."""
    found: dict[int, float] = {}
    try:
        async with asyncio.timeout(WAIT_S):
            while len(found) < count:
                found = await asyncio.to_thread(server.points, metric, **labels)
                await asyncio.sleep(0.1)
    except TimeoutError:
        pass  # the caller's assertion shows what arrived
    return found


def rides(start: datetime, count: int, first: int = 0) -> list[Sample]:
    """Lift 1's floor once a second: reading i is floor i % 18, stamped start + i seconds."""
    return [Sample(1, "floor", start + timedelta(seconds=i), value=i % 18)
            for i in range(first, first + count)]


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# Recent stamps: the server refuses samples far in the future, and these must never be.
def an_hour_ago() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


async def test_offered_samples_are_read_back_from_the_server(victoria: Victoria) -> None:
    start, health = an_hour_ago(), HealthBoard()
    export = exporter(victoria, health)
    export.offer(rides(start, 120))
    export.offer([Sample(2, "kwh", start, value=1042.5), Sample(1, "door", start, text="closed")])

    async with running(export):
        await until(lambda: export.stats().sent == 122, "all 122 samples sent")

    floors = await stored(victoria, 120, device="lift-1", site="lakeside", kind="elevator")
    kwh = await stored(victoria, 1, "telemetry_kwh", device="meter-7", kind="meter")
    assert floors == {millis(s.at): s.value for s in rides(start, 120)}
    assert kwh == {millis(start): 1042.5}
    assert health.beats["telemetry.influx"].status == "ok"
    assert "sent=122" in health.beats["telemetry.influx"].detail


async def test_an_outage_is_buffered_and_delivered_after_the_server_returns(
        victoria: Victoria) -> None:
    start, health = an_hour_ago(), HealthBoard()
    export = exporter(victoria, health)
    offered = 0

    async def stream(count: int) -> None:
        nonlocal offered
        for _ in range(count):
            export.offer(rides(start, 10, first=offered))
            offered += 10
            await asyncio.sleep(0.01)

    async with running(export) as task:
        await stream(20)
        await until(lambda: export.stats().sent == offered, "the first 200 sent")
        victoria.stop()
        await stream(30)
        await until(lambda: export.stats().failures >= 3, "writes failing while it is down")
        during = export.stats()
        down_health = health.beats["telemetry.influx"]
        assert not task.done(), "the exporter must outlive the outage"
        victoria.start()  # same port, same data folder
        await until(lambda: export.stats().buffered == 0, "the buffer drained")

    after = export.stats()
    delivered = await stored(victoria, offered, device="lift-1")
    print(f"\noutage: offered {offered}, buffered during outage {during.buffered}, "
          f"failed attempts {after.failures}, sent {after.sent}, dropped {after.dropped}, "
          f"read back {len(delivered)}")
    assert during.buffered > 0
    assert down_health.status == "degraded"
    assert "last_error=" in down_health.detail
    assert (after.sent, after.dropped) == (offered, 0)
    assert delivered == {millis(s.at): s.value for s in rides(start, offered)}


async def test_overflow_while_the_server_is_down_keeps_the_newest(victoria: Victoria) -> None:
    start, health = an_hour_ago(), HealthBoard()
    export = exporter(victoria, health, batch_size=20, buffer_max=100)
    victoria.stop()

    async with running(export):
        export.offer(rides(start, 250))  # two and a half buffers' worth
        await until(lambda: export.stats().failures >= 2, "writes failing while it is down")
        victoria.start()
        await until(lambda: export.stats().buffered == 0, "the buffer drained")

    stats = export.stats()
    delivered = await stored(victoria, 100, device="lift-1")
    print(f"\noverflow: offered {stats.offered}, dropped {stats.dropped}, sent {stats.sent}, "
          f"read back {len(delivered)}")
    assert (stats.offered, stats.dropped, stats.sent) == (250, 150, 100)
    assert delivered == {millis(s.at): s.value for s in rides(start, 100, first=150)}
    assert "dropped=150" in health.beats["telemetry.influx"].detail


async def test_tags_are_the_names_the_device_registry_gives(victoria: Victoria,
                                                            tmp_path: Path) -> None:
    """As the composition root wires it: names looked up in the database, once per device."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        lift = await add_device(engine, "lift-9", "elevator", site="riverside")
        export = exporter(victoria, HealthBoard(), lambda ids: device_keys(engine, ids))
        start = an_hour_ago()
        export.offer([Sample(lift, "floor", start + timedelta(seconds=i), value=floor)
                      for i, floor in enumerate((1, 5, 9))])
        async with running(export):
            await until(lambda: export.stats().sent == 3, "three floors sent")
    finally:
        await engine.dispose()

    floors = await stored(victoria, 3, site="riverside", kind="elevator", device="lift-9")
    assert sorted(floors.values()) == [1.0, 5.0, 9.0]
