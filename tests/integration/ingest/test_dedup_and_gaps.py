"""The inbox on each backend: a message stored once however often it comes; gaps reported."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.device_events import SequenceGapDetected
from hub.domain.observations import Observation
from hub.ingest.observers import Published
from hub.ingest.pipeline import IngestPipeline
from hub.store.device_tables import device_state, inbox, sequence_gaps, telemetry
from tests.integration.ingest.conftest import (
    LIFT,
    T0,
    Clock,
    Lakeside,
    PipelineFactory,
    reading,
    running,
    until,
)


async def _count(engine: AsyncEngine, table: object, *where: object) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
        return int(await connection.scalar(query) or 0)


async def _feed(pipeline: IngestPipeline, items: Sequence[Observation], acks: list[int]) -> None:
    for number, item in enumerate(items):
        await pipeline.put(item, partial(acks.append, number))


async def test_duplicates_inside_one_batch_are_stored_once(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(batch_max_items=100)
    acks: list[int] = []
    await _feed(pipeline, [reading(LIFT, s) for s in (1, 2, 2, 3, 1, 3, 3)], acks)

    async with running(pipeline):
        await until(lambda: len(acks) == 7, "every message acknowledged")

    lift = lakeside.ids["b3-lift-1"]
    assert pipeline.stats.batches == 1
    assert await _count(engine, inbox, inbox.c.device_id == lift) == 3
    assert await _count(engine, telemetry, telemetry.c.device_id == lift) == 3
    assert (pipeline.stats.stored, pipeline.stats.duplicates) == (3, 4)
    assert sorted(acks) == list(range(7))


async def test_a_redelivered_batch_adds_nothing(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline()
    acks: list[int] = []
    first = [reading(LIFT, s, floor=s, door="closed") for s in range(1, 21)]
    async with running(pipeline):
        await _feed(pipeline, first, acks)
        await until(lambda: len(acks) == 20, "first delivery acknowledged")
        rows_after_first = await _count(engine, telemetry)
        await _feed(pipeline, first, acks)  # the broker redelivers all of it
        await until(lambda: len(acks) == 40, "redelivery acknowledged")

    assert rows_after_first == 40  # floor and door, 20 times
    assert await _count(engine, telemetry) == 40
    assert await _count(engine, inbox) == 20
    assert pipeline.stats.duplicates == 20
    async with engine.connect() as connection:
        state = (await connection.execute(select(device_state).where(
            device_state.c.device_id == lakeside.ids["b3-lift-1"]))).one()
    assert (state.boot, state.last_seq) == ("boot-a", 20)
    assert state.last_values["floor"]["value"] == 20


async def test_the_row_at_a_time_path_finds_the_same_duplicates(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    """MySQL has no INSERT ... RETURNING; its path runs here on every backend."""
    pipeline = make_pipeline(returning=False)
    acks: list[int] = []
    await _feed(pipeline, [reading(LIFT, s) for s in (5, 6, 5, 7, 6)], acks)
    async with running(pipeline):
        await until(lambda: len(acks) == 5, "acknowledged")
        await _feed(pipeline, [reading(LIFT, 7), reading(LIFT, 8)], acks)
        await until(lambda: len(acks) == 7, "acknowledged again")

    assert await _count(engine, inbox) == 4
    assert await _count(engine, telemetry) == 4
    assert pipeline.stats.duplicates == 3


async def test_two_workers_given_the_same_messages_store_each_once(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    """Scale-out: a message redelivered to the other worker of a shared subscription."""
    workers = [make_pipeline(batch_max_items=25), make_pipeline(batch_max_items=25)]
    acks: list[int] = []
    messages = [reading(LIFT, s) for s in range(1, 201)]
    async with running(workers[0]), running(workers[1]):
        await asyncio.gather(*(_feed(w, messages, acks) for w in workers))
        await until(lambda: len(acks) == 400, "both workers acknowledged everything")

    assert await _count(engine, inbox) == 200
    assert await _count(engine, telemetry) == 200
    assert sum(w.stats.stored for w in workers) == 200
    assert sum(w.stats.duplicates for w in workers) == 200


async def test_a_jump_in_seq_is_stored_and_raised_as_a_gap(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline()
    raised: list[Published] = []

    async def on_gap(event: Published) -> None:
        raised.append(event)

    pipeline.observers.subscribe(on_gap, SequenceGapDetected)
    acks: list[int] = []
    async with running(pipeline):
        await _feed(pipeline, [reading(LIFT, s) for s in (1, 2, 6, 7)], acks)
        await until(lambda: len(acks) == 4, "first messages")
        # 4 arrives late (a reorder, not a new gap); then the device restarts and counts anew.
        await _feed(pipeline, [reading(LIFT, 4), reading(LIFT, 1, boot="boot-b"),
                               reading(LIFT, 2, boot="boot-b")], acks)
        await until(lambda: len(acks) == 7, "late and rebooted messages")

    lift = lakeside.ids["b3-lift-1"]
    assert raised == [SequenceGapDetected(lift, "boot-a", 3, 5, raised[0].at)]  # type: ignore[union-attr]
    async with engine.connect() as connection:
        gaps = (await connection.execute(select(sequence_gaps))).all()
    assert [(g.device_id, g.boot, g.first_missing, g.last_missing) for g in gaps] == [
        (lift, "boot-a", 3, 5)]
    assert await _count(engine, inbox) == 7
    assert pipeline.stats.gaps == 1


async def test_messages_without_seq_are_applied_every_time_and_counted(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline()
    acks: list[int] = []
    async with running(pipeline):
        await _feed(pipeline, [reading(LIFT, None, floor=3), reading(LIFT, None, floor=3)], acks)
        await until(lambda: len(acks) == 2, "acknowledged")

    assert await _count(engine, telemetry) == 2
    assert await _count(engine, inbox) == 0
    assert pipeline.stats.not_deduplicable == 2


async def test_inbox_keys_older_than_the_keep_window_are_forgotten(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory,
        clock: Clock) -> None:
    pipeline = make_pipeline(inbox_keep_hours=72)
    acks: list[int] = []
    old = [reading(LIFT, s, at=T0) for s in range(1, 4)]
    recent = [reading(LIFT, s, at=T0 + timedelta(hours=71)) for s in range(4, 6)]
    async with running(pipeline):
        await _feed(pipeline, [*old, *recent], acks)
        await until(lambda: len(acks) == 5, "acknowledged")
        clock.advance(72 * 3600 + 1)
        await pipeline.sweep()

    async with engine.connect() as connection:
        kept = (await connection.scalars(select(inbox.c.seq).order_by(inbox.c.seq))).all()
    assert kept == [4, 5]
    assert await _count(engine, telemetry) == 5  # readings stay; only the keys go
