"""Ack after commit, never before; an outage holds everything; one poison message is buried
alone while the rest are stored; a full queue makes `put` wait (RELIABILITY Q5, Q6, R5)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.health import HealthBoard
from hub.store.device_tables import counters, dead_letters, inbox, telemetry
from tests.integration.ingest.conftest import (
    LIFT,
    METER,
    Lakeside,
    PipelineFactory,
    reading,
    running,
    until,
)


class Breaker:
    """The database as the hub sees it during an outage: every statement fails."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.armed = False
        self.refused = 0
        self._engine = engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._refuse)

    def _refuse(self, *_args: Any) -> None:
        if self.armed:
            self.refused += 1
            raise OperationalError("(simulated)", {}, ConnectionRefusedError("database down"))

    def remove(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._refuse)


@pytest.fixture
def breaker(engine: AsyncEngine) -> Iterator[Breaker]:
    found = Breaker(engine)
    yield found
    found.remove()


@dataclass
class Journal:
    """What happened, in order: "committed" once the driver's COMMIT returned, "commit failed"
    when the test made it fail, and the acknowledgements."""

    lines: list[str] = field(default_factory=list)
    failing_commits: int = 0

    def ack(self, number: int) -> None:
        self.lines.append(f"ack {number}")

    @property
    def acks(self) -> list[str]:
        return [line for line in self.lines if line.startswith("ack")]


@pytest.fixture
def journal(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Journal:
    found = Journal()
    dialect = engine.sync_engine.dialect
    real = dialect.do_commit

    def do_commit(dbapi_connection: Any) -> None:
        if found.failing_commits > 0:
            found.failing_commits -= 1
            found.lines.append("commit failed")
            raise OperationalError("COMMIT", {}, ConnectionResetError("connection lost"))
        real(dbapi_connection)
        found.lines.append("committed")

    monkeypatch.setattr(dialect, "do_commit", do_commit)
    return found


async def _count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(table).where(*where)
        return int(await connection.scalar(query) or 0)


async def test_acks_come_after_the_commit_of_their_batch(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory,
        journal: Journal) -> None:
    pipeline = make_pipeline(batch_max_items=100)
    for seq in range(1, 6):
        await pipeline.put(reading(LIFT, seq), partial(journal.ack, seq))

    async with running(pipeline):
        await until(lambda: len(journal.acks) == 5, "five acknowledgements")

    assert journal.lines == ["committed", "ack 1", "ack 2", "ack 3", "ack 4", "ack 5"]


async def test_nothing_is_acknowledged_while_the_database_is_down(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory,
        breaker: Breaker, journal: Journal) -> None:
    pipeline = make_pipeline()
    async with running(pipeline):
        breaker.armed = True
        for seq in range(1, 31):
            await pipeline.put(reading(LIFT, seq), partial(journal.ack, seq))
        await until(lambda: pipeline.stats.failed_attempts >= 5, "five failed attempts")
        acked_during_outage = list(journal.acks)
        health = await pipeline.health()
        breaker.armed = False
        await until(lambda: len(journal.acks) == 30, "every message acknowledged after")

    print(f"\noutage: {pipeline.stats.failed_attempts} failed attempts, "
          f"{breaker.refused} statements refused, 0 acks; then 30 stored and acked")
    assert acked_during_outage == []
    assert health["status"] == "degraded"
    assert "database unreachable" in health["detail"]
    assert await _count(engine, inbox) == 30
    assert await _count(engine, telemetry) == 30
    assert pipeline.stats.poison == 0
    assert (await pipeline.health())["status"] == "ok"


async def test_a_failed_commit_acknowledges_nothing_and_its_batch_is_stored_later(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory,
        journal: Journal) -> None:
    pipeline = make_pipeline(batch_max_items=100)
    for seq in range(1, 9):
        await pipeline.put(reading(LIFT, seq), partial(journal.ack, seq))
    journal.failing_commits = 1

    async with running(pipeline):
        await until(lambda: len(journal.acks) == 8, "all eight acknowledged")

    assert journal.lines[0] == "commit failed"
    first_commit = journal.lines.index("committed")
    assert all(line.startswith("ack") is False for line in journal.lines[:first_commit])
    assert await _count(engine, inbox) == 8
    assert await _count(engine, telemetry) == 8
    assert pipeline.stats.duplicates == 0


async def test_a_poison_message_is_dead_lettered_alone_and_the_rest_are_stored(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    """A JSON escape "\\ud800" decodes to a lone surrogate, which no database driver encodes."""
    pipeline = make_pipeline(batch_max_items=100)
    acked: list[int] = []
    messages = [reading(METER, seq, kwh=1000.0 + seq) for seq in range(1, 10)]
    messages.insert(4, reading(LIFT, 7, door="\ud800"))
    for number, message in enumerate(messages):
        await pipeline.put(message, partial(acked.append, number))

    async with running(pipeline):
        await until(lambda: len(acked) == 10, "every message acknowledged")

    print(f"\npoison: 1 of 10 dead-lettered after {pipeline.stats.failed_attempts} failed "
          f"attempts; 9 stored")
    assert await _count(engine, telemetry) == 9
    assert await _count(engine, inbox) == 9
    async with engine.connect() as connection:
        letters = (await connection.execute(select(dead_letters))).all()
        counted = await connection.scalar(select(counters.c.value).where(
            counters.c.name == "dead_letter|poison|lakeside/elevator/b3-lift-1"))
    assert [(d.reason, d.device_key) for d in letters] == [
        ("poison", "lakeside/elevator/b3-lift-1")]
    assert "'door'" in letters[0].excerpt
    assert counted == 1
    assert pipeline.stats.poison == 1


async def test_a_seq_beyond_64_bits_is_refused_not_clamped(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    """MySQL's INSERT IGNORE would store it as 2**63-1 and call the message a duplicate."""
    pipeline = make_pipeline()
    acked: list[int] = []
    async with running(pipeline):
        await pipeline.put(reading(LIFT, 2**64), lambda: acked.append(1))
        await pipeline.put(reading(LIFT, 2**63 - 1), lambda: acked.append(2))
        await until(lambda: len(acked) == 2, "both acknowledged")

    async with engine.connect() as connection:
        reasons = (await connection.scalars(select(dead_letters.c.reason))).all()
        seqs = (await connection.scalars(select(inbox.c.seq))).all()
    assert reasons == ["seq_out_of_range"]
    assert seqs == [2**63 - 1]


async def test_a_full_queue_makes_put_wait_and_counts_it(
        engine: AsyncEngine, lakeside: Lakeside, make_pipeline: PipelineFactory) -> None:
    pipeline = make_pipeline(queue_size=10)
    acked: list[int] = []
    for seq in range(1, 11):
        await pipeline.put(reading(LIFT, seq), partial(acked.append, seq))
    eleventh = asyncio.create_task(pipeline.put(reading(LIFT, 11), lambda: acked.append(11)))
    for _ in range(20):
        await asyncio.sleep(0)
    waiting = not eleventh.done()

    async with running(pipeline):
        await eleventh
        await pipeline.drain()
        drained = len(acked)
        await pipeline.put(reading(LIFT, 12), lambda: acked.append(12))  # carries the counter
        await until(lambda: len(acked) == 12, "the twelfth acknowledged")

    board = HealthBoard()
    board.register("ingest", pipeline.health)
    health = (await board.report())["ingest"]
    assert waiting
    assert drained == 11
    assert (health["overflow_waits"], health["high_water"], health["queue_capacity"]) == (
        1, 10, 10)
    assert (health["status"], health["queue_depth"], health["stored"]) == ("ok", 0, 12)
    assert await _count(engine, telemetry) == 12
    async with engine.connect() as connection:
        persisted = await connection.scalar(select(counters.c.value).where(
            counters.c.name == "ingest|overflow_waits"))
    assert persisted == 1
