"""Unknown, pending and malformed: dead-lettered, counted by device and reason, bounded."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.device_events import UnknownDeviceSeen
from hub.domain.observations import DeviceKey, Observation, Rejected
from hub.domain.registry import Approval
from hub.ingest.observers import Published
from hub.store.device_tables import counters, dead_letters, device_state, devices, telemetry
from tests.integration.ingest.conftest import (
    GATE,
    PENDING,
    STRANGER,
    T0,
    Lakeside,
    PipelineFactory,
    reading,
    running,
    until,
)


async def _counters(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(counters))
        return {row.name: row.value for row in rows}


async def _rows(engine: AsyncEngine, query: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(query)).all())


def _bad_json(number: int) -> Rejected:
    return Rejected("estate/lakeside/gate/north-gate/event", "bad_json", f"{{oops {number}",
                    T0 + timedelta(seconds=number), GATE)


async def test_unknown_pending_and_malformed_messages_are_dead_lettered_and_counted(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline()
    acked: list[int] = []
    items: list[Observation | Rejected] = [
        reading(STRANGER, 1), reading(STRANGER, 2), reading(PENDING, 1), _bad_json(1),
        reading(DeviceKey("lakeside", "light", "b3-lift-1"), 9)]
    async with running(pipeline):
        for number, item in enumerate(items):
            await pipeline.put(item, partial(acked.append, number))
        await until(lambda: len(acked) == 5, "every message acknowledged")

    assert await _counters(engine) == {
        "dead_letter|unknown_device|lakeside/door/b9-door-1": 2,
        "dead_letter|not_approved|lakeside/light/lamp-07": 1,
        "dead_letter|bad_json|lakeside/gate/north-gate": 1,
        "dead_letter|kind_mismatch|lakeside/light/b3-lift-1": 1,
    }
    letters = await _rows(engine, select(dead_letters).order_by(dead_letters.c.id))
    assert [(d.reason, d.topic) for d in letters] == [
        ("unknown_device", "estate/lakeside/door/b9-door-1/telemetry"),
        ("unknown_device", "estate/lakeside/door/b9-door-1/telemetry"),
        ("not_approved", "estate/lakeside/light/lamp-07/telemetry"),
        ("bad_json", "estate/lakeside/gate/north-gate/event"),
        ("kind_mismatch", "estate/lakeside/light/b3-lift-1/telemetry"),
    ]
    assert await _rows(engine, select(func.count()).select_from(telemetry)) == [(0,)]
    states = {row.device_id: row for row in await _rows(engine, select(device_state))}
    lamp, gate = lakeside.ids["lamp-07"], lakeside.ids["north-gate"]
    assert (states[lamp].online, states[lamp].errors) == (None, {"not_approved": 1})
    assert (states[gate].online, states[gate].errors) == (None, {"bad_json": 1})
    assert pipeline.stats.dead_letters == {"unknown_device": 2, "not_approved": 1,
                                           "bad_json": 1, "kind_mismatch": 1}
    assert len(await _rows(engine, select(devices))) == 4  # nothing registered


async def test_auto_registration_adds_an_unknown_device_once_as_pending(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(auto_register=True)
    seen: list[Published] = []

    async def record(message: Published) -> None:
        seen.append(message)

    pipeline.observers.subscribe(record, UnknownDeviceSeen)
    acked: list[int] = []
    async with running(pipeline):
        for seq in (1, 2, 3):
            await pipeline.put(reading(STRANGER, seq), partial(acked.append, seq))
        await until(lambda: len(acked) == 3, "first three")
        await pipeline.put(reading(STRANGER, 4), lambda: acked.append(4))
        await pipeline.put(reading(DeviceKey("atlantis", "door", "d1"), 1), lambda: acked.append(5))
        await until(lambda: len(acked) == 5, "the rest")

    registered = await _rows(engine, select(devices).where(devices.c.code == "b9-door-1"))
    assert [(d.kind, d.approval, d.site_id) for d in registered] == [
        ("door", Approval.PENDING, lakeside.site_id)]
    assert [(e.site, e.device) for e in seen] == [("lakeside", "b9-door-1")]  # type: ignore[union-attr]
    reasons = [r.reason for r in await _rows(engine, select(dead_letters.c.reason)
                                             .order_by(dead_letters.c.id))]
    assert reasons == ["unknown_device"] * 3 + ["not_approved", "unknown_device"]
    assert await _rows(engine, select(func.count()).select_from(telemetry)) == [(0,)]


async def test_an_approved_device_is_trusted_from_its_next_message(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline()
    acked: list[int] = []
    async with running(pipeline):
        await pipeline.put(reading(PENDING, 1, lamp=True), lambda: acked.append(1))
        await until(lambda: len(acked) == 1, "while pending")
        async with engine.begin() as connection:
            await connection.execute(update(devices).where(devices.c.code == "lamp-07")
                                     .values(approval=Approval.ACTIVE))
        pipeline.registry_changed()
        await pipeline.put(reading(PENDING, 2, lamp=True), lambda: acked.append(2))
        await until(lambda: len(acked) == 2, "once approved")

    assert await _rows(engine, select(dead_letters.c.reason)) == [("not_approved",)]
    assert await _rows(engine, select(telemetry.c.metric, telemetry.c.value)) == [("lamp", 1.0)]


async def test_dead_letters_keep_the_newest_and_count_what_was_dropped(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(dead_letters_keep=10, batch_max_items=7)
    acked: list[int] = []
    async with running(pipeline):
        for number in range(25):
            await pipeline.put(_bad_json(number), partial(acked.append, number))
        await until(lambda: len(acked) == 25, "every letter acknowledged")

    kept = [r.excerpt for r in await _rows(engine, select(dead_letters.c.excerpt)
                                           .order_by(dead_letters.c.id))]
    assert kept == [f"{{oops {n}" for n in range(15, 25)]
    totals = await _counters(engine)
    assert totals["dead_letters_dropped"] == 15
    assert totals["dead_letter|bad_json|lakeside/gate/north-gate"] == 25
    assert pipeline.stats.dead_letters_dropped == 15
