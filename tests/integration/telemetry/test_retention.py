"""Retention on SQLite, PostgreSQL and MariaDB: old rows go, in chunks, and nothing unrolled.
Also the names the InfluxDB export tags devices with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.observations import DeviceKey
from hub.store.device_tables import telemetry, telemetry_1h, telemetry_1m
from hub.store.telemetry import (
    delete_minutes_before,
    delete_raw_before,
    device_keys,
    roll_up,
)
from tests.integration.telemetry.conftest import NOW, add_device, add_raw, at

CUTOFF = at("00:00:00", day=19)  # a week before the test morning


@contextmanager
def deletes_counted(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every DELETE statement the engine sends, one per chunk transaction."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_raw_rows_older_than_the_limit_go_in_chunks_and_recent_ones_stay(
        engine: AsyncEngine) -> None:
    lift = await add_device(engine)
    # 25 readings a month ago, one a minute; 3 this morning.
    await add_raw(engine, lift, "floor", [(at("08:00:00", day=1) + timedelta(minutes=i), i % 18)
                                          for i in range(25)])
    await add_raw(engine, lift, "floor", [(at("08:00:00"), 3), (at("08:00:40"), 7),
                                          (at("08:01:10"), 2)])
    for _ in range(2):  # the watermark lags one run: two runs pass every row
        await roll_up(engine, now=NOW, raw_retention=timedelta(days=7))

    with deletes_counted(engine) as statements:
        deleted = await delete_raw_before(engine, CUTOFF, chunk=10)

    async with engine.connect() as conn:
        kept = sorted(await conn.scalars(select(telemetry.c.at)))
    assert deleted == 25
    assert kept == [at("08:00:00"), at("08:00:40"), at("08:01:10")]
    assert len(statements) >= 3, "25 rows in chunks of 10 need at least three deletes"
    assert await count(engine, telemetry_1m) == 2  # rollups are not raw rows


async def test_raw_rows_the_rollup_has_not_seen_are_kept_however_old(
        engine: AsyncEngine) -> None:
    lift = await add_device(engine)
    await add_raw(engine, lift, "floor", [(at("08:00:00", day=1), 3)])

    deleted = await delete_raw_before(engine, CUTOFF, chunk=10)

    assert deleted == 0
    assert await count(engine, telemetry) == 1


async def test_minute_buckets_older_than_the_limit_go_even_when_many_share_a_stamp(
        engine: AsyncEngine) -> None:
    """Every series has a bucket at each minute: more than a chunk share one stamp."""
    meters = [await add_device(engine, f"meter-{n}", "meter") for n in range(6)]
    old, recent = at("00:00:00", day=2), at("08:00:00")
    async with engine.begin() as conn:
        await conn.execute(insert(telemetry_1m), [
            {"device_id": meter, "metric": "kwh", "bucket": bucket + timedelta(minutes=m),
             "count": 1, "sum": 1.0, "min": 1.0, "max": 1.0, "last": 1.0}
            for meter in meters for bucket in (old, recent) for m in range(2)])
        await conn.execute(insert(telemetry_1h), [
            {"device_id": meters[0], "metric": "kwh", "bucket": old, "count": 2, "sum": 2.0,
             "min": 1.0, "max": 1.0, "last": 1.0}])

    with deletes_counted(engine) as statements:
        deleted = await delete_minutes_before(engine, CUTOFF, chunk=4)

    async with engine.connect() as conn:
        left = set(await conn.scalars(select(telemetry_1m.c.bucket)))
    assert deleted == 12
    assert left == {recent, recent + timedelta(minutes=1)}
    assert len(statements) >= 2
    assert await count(engine, telemetry_1h) == 1  # hour buckets are kept for ever


async def test_nothing_to_delete_is_one_cheap_pass(engine: AsyncEngine) -> None:
    lift = await add_device(engine)
    await add_raw(engine, lift, "floor", [(at("08:00:00"), 3)])

    assert await delete_raw_before(engine, CUTOFF, chunk=10) == 0
    assert await delete_minutes_before(engine, CUTOFF, chunk=10) == 0


async def test_device_keys_name_devices_as_their_topics_do(engine: AsyncEngine) -> None:
    lift = await add_device(engine)
    gate = await add_device(engine, "gate-north", "gate", site="riverside")

    keys = await device_keys(engine, [lift, gate, 404])

    assert keys == {lift: DeviceKey("lakeside", "elevator", "lift-1"),
                    gate: DeviceKey("riverside", "gate", "gate-north")}
    assert await device_keys(engine, []) == {}
