"""Telemetry rows inserted and device states updated by position (hub.ingest.sql.insert_many,
update_many) read back as SQLAlchemy would have stored them, on every backend: times
normalised to UTC, numbers, text and JSON kept, and only the rows named changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.observations import Sample
from hub.ingest.persist import lock_states, save_samples, save_states
from hub.ingest.state import DeviceState, LastValue
from hub.store.device_tables import telemetry
from tests.integration.ingest.conftest import Lakeside

SHANGHAI = timezone(timedelta(hours=8))


async def test_samples_of_one_message_keep_its_time_in_utc(engine: AsyncEngine,
                                                           lakeside: Lakeside) -> None:
    lift, meter = lakeside.ids["b3-lift-1"], lakeside.ids["b3-meter-power"]
    first = datetime(2026, 11, 26, 16, 0, 0, 120_000, tzinfo=SHANGHAI)
    second = first + timedelta(seconds=1)
    samples = [Sample(lift, "floor", first, value=5.0), Sample(lift, "door", first, text="closed"),
               Sample(meter, "kwh", second, value=1042.25),
               Sample(meter, "kwh", second + timedelta(seconds=1), value=1042.5)]
    async with engine.begin() as connection:
        await save_samples(connection, samples)
    async with engine.connect() as connection:
        rows = (await connection.execute(
            select(telemetry.c.device_id, telemetry.c.metric, telemetry.c.at,
                   telemetry.c.value, telemetry.c.text).order_by(telemetry.c.id))).all()
    assert [tuple(row) for row in rows] == [
        (lift, "floor", first.astimezone(UTC), 5.0, None),
        (lift, "door", first.astimezone(UTC), None, "closed"),
        (meter, "kwh", second.astimezone(UTC), 1042.25, None),
        (meter, "kwh", (second + timedelta(seconds=1)).astimezone(UTC), 1042.5, None)]


async def test_no_sample_no_statement(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await save_samples(connection, [])


async def test_states_saved_by_position_read_back_whole_and_touch_no_other_device(
        engine: AsyncEngine, lakeside: Lakeside) -> None:
    lift, meter, gate = (lakeside.ids[code] for code in ("b3-lift-1", "b3-meter-power",
                                                          "north-gate"))
    at = datetime(2026, 11, 26, 16, 0, 0, 120_000, tzinfo=SHANGHAI)
    async with engine.begin() as connection:
        untouched = (await lock_states(connection, [lift, meter, gate], set()))[gate]
    saved = {
        lift: DeviceState(online=True, online_since=at.astimezone(UTC), boot="boot-a",
                          last_seen=(at + timedelta(seconds=2)).astimezone(UTC), last_seq=42,
                          last_values={"floor": LastValue(5, at.astimezone(UTC)),
                                       "door": LastValue("closed", at.astimezone(UTC))},
                          errors={"nan": 2}),
        meter: DeviceState(online=False, online_since=at.astimezone(UTC),
                           offline_reason="status offline", boot="", last_seq=None,
                           last_values={"kwh": LastValue(1042.25, at.astimezone(UTC))}),
    }
    async with engine.begin() as connection:
        await save_states(connection, saved)
    async with engine.begin() as connection:
        found = await lock_states(connection, [lift, meter, gate], {lift, meter, gate})
    assert found == {**saved, gate: untouched}
