"""1-minute and 1-hour rollups on SQLite, PostgreSQL and MariaDB: exact, idempotent, late-proof."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.device_tables import counters, telemetry_1h, telemetry_1m
from hub.store.telemetry import RETENTION_MARGIN, rebuild, roll_up
from tests.integration.telemetry.conftest import NOW, add_device, add_raw, at

WEEK = timedelta(days=7)
Bucket = tuple[int, float, float, float, float]  # count, sum, min, max, last


async def buckets(engine: AsyncEngine, table: Table) -> dict[tuple[int, str, datetime], Bucket]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(table))).all()
    return {(r.device_id, r.metric, r.bucket): (r[3], r[4], r[5], r[6], r[7]) for r in rows}


async def run(engine: AsyncEngine, chunk_ids: int = 50_000) -> None:
    await roll_up(engine, now=NOW, raw_retention=WEEK, chunk_ids=chunk_ids)


@pytest.fixture
async def lift(engine: AsyncEngine) -> int:
    """Lift 1 rides from floor 3 to 7 and back down to 2 around eight o'clock."""
    lift = await add_device(engine)
    await add_raw(engine, lift, "floor", [
        (at("08:00:05"), 3), (at("08:00:40"), 7), (at("08:00:20"), 5),  # stored out of order
        (at("08:01:10"), 2), (at("08:59:59.999999"), 4), (at("09:00:00"), 6)])
    await add_raw(engine, lift, "door", [(at("08:00:06"), "closed")])  # words: raw only
    return lift


async def test_minute_buckets_hold_count_sum_min_max_and_the_latest_value(
        engine: AsyncEngine, lift: int) -> None:
    await run(engine)

    assert await buckets(engine, telemetry_1m) == {
        (lift, "floor", at("08:00:00")): (3, 15.0, 3.0, 7.0, 7.0),  # last by time, not by id
        (lift, "floor", at("08:01:00")): (1, 2.0, 2.0, 2.0, 2.0),
        (lift, "floor", at("08:59:00")): (1, 4.0, 4.0, 4.0, 4.0),
        (lift, "floor", at("09:00:00")): (1, 6.0, 6.0, 6.0, 6.0),
    }


async def test_hour_buckets_add_up_their_minutes(engine: AsyncEngine, lift: int) -> None:
    await run(engine)

    assert await buckets(engine, telemetry_1h) == {
        (lift, "floor", at("08:00:00")): (5, 21.0, 2.0, 7.0, 4.0),
        (lift, "floor", at("09:00:00")): (1, 6.0, 6.0, 6.0, 6.0),
    }


async def test_running_again_or_from_scratch_gives_the_same_rows(engine: AsyncEngine,
                                                                 lift: int) -> None:
    await run(engine)
    first = (await buckets(engine, telemetry_1m), await buckets(engine, telemetry_1h))

    await run(engine)
    again = (await buckets(engine, telemetry_1m), await buckets(engine, telemetry_1h))
    async with engine.begin() as conn:
        await conn.execute(delete(counters))  # forget the watermark: every row looks new
    await run(engine)
    scratch = (await buckets(engine, telemetry_1m), await buckets(engine, telemetry_1h))

    assert again == first
    assert scratch == first


async def test_a_late_row_in_a_closed_bucket_updates_minute_and_hour(engine: AsyncEngine,
                                                                     lift: int) -> None:
    await run(engine)
    await add_raw(engine, lift, "floor", [(at("08:00:50"), 9)])  # a lift behind a bad link

    await run(engine)

    assert (await buckets(engine, telemetry_1m))[(lift, "floor", at("08:00:00"))] == \
        (4, 24.0, 3.0, 9.0, 9.0)
    assert (await buckets(engine, telemetry_1h))[(lift, "floor", at("08:00:00"))] == \
        (6, 30.0, 2.0, 9.0, 4.0)


async def test_a_late_row_stamped_earlier_counts_but_does_not_become_last(
        engine: AsyncEngine, lift: int) -> None:
    await run(engine)
    await add_raw(engine, lift, "floor", [(at("08:00:01"), -1)])  # basement, reported late

    await run(engine)

    assert (await buckets(engine, telemetry_1m))[(lift, "floor", at("08:00:00"))] == \
        (4, 14.0, -1.0, 7.0, 7.0)


async def test_small_id_chunks_give_the_same_rows_as_one_chunk(engine: AsyncEngine,
                                                              lift: int) -> None:
    await run(engine, chunk_ids=2)
    chunked = (await buckets(engine, telemetry_1m), await buckets(engine, telemetry_1h))
    async with engine.begin() as conn:
        for table in (telemetry_1m, telemetry_1h, counters):
            await conn.execute(delete(table))

    await run(engine)

    assert chunked == (await buckets(engine, telemetry_1m), await buckets(engine, telemetry_1h))


async def test_each_device_and_metric_has_its_own_buckets(engine: AsyncEngine) -> None:
    lift, meter = await add_device(engine), await add_device(engine, "meter-7", "meter")
    await add_raw(engine, lift, "floor", [(at("08:10:00"), 3)])
    await add_raw(engine, lift, "speed_mm_s", [(at("08:10:00"), 1500)])
    await add_raw(engine, meter, "kwh", [(at("08:10:30"), 1042.5)])

    await run(engine)

    assert await buckets(engine, telemetry_1m) == {
        (lift, "floor", at("08:10:00")): (1, 3.0, 3.0, 3.0, 3.0),
        (lift, "speed_mm_s", at("08:10:00")): (1, 1500.0, 1500.0, 1500.0, 1500.0),
        (meter, "kwh", at("08:10:00")): (1, 1042.5, 1042.5, 1042.5, 1042.5),
    }


async def test_rows_about_to_expire_are_not_rolled_up(engine: AsyncEngine) -> None:
    """Their bucket may have lost rows to retention already; recomputing would shrink it."""
    lift = await add_device(engine)
    edge = NOW - WEEK + RETENTION_MARGIN
    await add_raw(engine, lift, "floor", [(edge - timedelta(minutes=1), 3), (edge, 5)])

    await run(engine)

    assert await buckets(engine, telemetry_1m) == {
        (lift, "floor", edge): (1, 5.0, 5.0, 5.0, 5.0)}


async def test_rebuild_recomputes_a_time_window_from_raw_rows(engine: AsyncEngine,
                                                              lift: int) -> None:
    await run(engine)
    async with engine.begin() as conn:
        await conn.execute(telemetry_1m.update().values(count=99))  # damaged by hand
    await rebuild(engine, at("08:00:00"), at("08:02:00"))

    repaired = await buckets(engine, telemetry_1m)

    assert repaired[(lift, "floor", at("08:00:00"))] == (3, 15.0, 3.0, 7.0, 7.0)
    assert repaired[(lift, "floor", at("08:01:00"))][0] == 1
    assert repaired[(lift, "floor", at("08:59:00"))][0] == 99  # outside the window
