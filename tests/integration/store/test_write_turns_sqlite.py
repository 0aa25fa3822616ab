"""Write turns on a real SQLite file (hub.store.turns.take_turns, as make_engine sets up):
a second writer waits for the first one's commit instead of polling SQLite's lock, urgent
writers go first, reads never wait, and a turn is given back however a transaction ends."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub.store.db import make_engine
from hub.store.turns import WriteTurns, take_turns, urgent_writes


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncEngine:
    made = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    async with made.begin() as connection:
        await connection.execute(text("CREATE TABLE log (who TEXT)"))
    yield made  # type: ignore[misc]
    await made.dispose()


def turns_of(engine: AsyncEngine) -> WriteTurns:
    turns = engine.sync_engine.dialect.write_turns  # type: ignore[attr-defined]
    assert isinstance(turns, WriteTurns)
    return turns


async def write(engine: AsyncEngine, who: str, order: list[str],
                hold: asyncio.Event | None = None) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO log VALUES (:who)"), {"who": who})
        order.append(who)
        if hold is not None:
            await hold.wait()


async def rows(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT who FROM log ORDER BY rowid")))
                    .scalars())


async def test_writers_take_turns_urgent_first_and_readers_never_wait(
        engine: AsyncEngine) -> None:
    order: list[str] = []
    hold = asyncio.Event()
    first = asyncio.create_task(write(engine, "batch-1", order, hold))
    while not turns_of(engine).busy:  # noqa: ASYNC110 - the turns signal nothing to tests
        await asyncio.sleep(0.001)
    second = asyncio.create_task(write(engine, "batch-2", order))
    await asyncio.sleep(0.05)

    async def decision() -> None:
        with urgent_writes():
            await write(engine, "gate", order)

    gate = asyncio.create_task(decision())
    await asyncio.sleep(0.05)
    assert order == ["batch-1"]  # both wait for the turn, not in SQLite's busy handler
    assert await rows(engine) == []  # a reader is not held up (and sees nothing uncommitted)
    hold.set()
    await asyncio.wait_for(asyncio.gather(first, second, gate), 10)
    assert order == ["batch-1", "gate", "batch-2"]
    assert await rows(engine) == ["batch-1", "gate", "batch-2"]
    assert not turns_of(engine).busy


async def test_a_rolled_back_or_failed_transaction_gives_its_turn_back(
        engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO log VALUES ('rolled back')"))
            raise RuntimeError("the caller fails mid-transaction")
    assert not turns_of(engine).busy
    with pytest.raises(OperationalError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO log VALUES ('x')"))
            await connection.execute(text("INSERT INTO nowhere VALUES (1)"))
    assert not turns_of(engine).busy
    async with engine.connect() as connection:  # committed by hand, not by begin()
        await connection.execute(text("INSERT INTO log VALUES ('by hand')"))
        await connection.commit()
    assert not turns_of(engine).busy
    async with engine.connect() as connection:  # closed without a commit: rolled back
        await connection.execute(text("INSERT INTO log VALUES ('left open')"))
    assert not turns_of(engine).busy
    assert await rows(engine) == ["by hand"]


async def test_a_turn_that_does_not_come_fails_as_a_locked_database_would(
        tmp_path: Path) -> None:
    # As make_engine makes it, with impatient turns in place of its five seconds.
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}",
                                 connect_args={"timeout": 5.0})
    take_turns(engine, WriteTurns(), timeout_s=0.2)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE log (who TEXT)"))
        hold = asyncio.Event()
        order: list[str] = []
        holder = asyncio.create_task(write(engine, "holder", order, hold))
        while not order:  # noqa: ASYNC110 - written by the holder, which signals nothing
            await asyncio.sleep(0.001)
        with pytest.raises(OperationalError) as raised:
            await write(engine, "impatient", order)
        assert isinstance(raised.value.orig, sqlite3.OperationalError)
        assert "database is locked" in str(raised.value)
        hold.set()
        await holder
        await write(engine, "after", order)  # the holder's turn was given back
        assert order == ["holder", "after"]
    finally:
        await engine.dispose()
