"""Write turns on a real SQLite file (hub.store.turns.take_turns, as make_engine sets up):
a second writer waits for the first one's commit instead of polling SQLite's lock, urgent
writers go first, reads never wait, a turn is given back however a transaction ends, and
processes sharing the file take turns through a lock file beside it."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub.store.db import make_engine
from hub.store.turns import ProcessLock, WriteTurns, take_turns, urgent_writes


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


class OtherProcess:
    """The lock file as another hub process on the same database holds it: flock(2) locks
    belong to an open file, so a descriptor of its own conflicts as another process would."""

    def __init__(self, database: Path) -> None:
        self._fd = os.open(f"{database}-turns", os.O_RDWR | os.O_CREAT, 0o600)

    def try_lock(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def unlock(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


async def test_processes_on_one_file_take_turns_through_the_lock_beside_it(
        engine: AsyncEngine, tmp_path: Path) -> None:
    other = OtherProcess(tmp_path / "turns.db")
    try:
        hold = asyncio.Event()
        order: list[str] = []
        holder = asyncio.create_task(write(engine, "here", order, hold))
        while not order:  # noqa: ASYNC110 - written by the holder, which signals nothing
            await asyncio.sleep(0.001)
        assert not other.try_lock()  # held with this process's turn, until the commit
        hold.set()
        await holder
        assert other.try_lock()

        # The other process writing: this one's writer waits off the event loop, and goes
        # the moment the lock is let go.
        waiting = asyncio.create_task(write(engine, "after the other", order))
        ticks = 0
        while ticks < 20:
            await asyncio.sleep(0.005)  # the loop runs on meanwhile
            ticks += 1
        assert not waiting.done()
        assert turns_of(engine).busy  # this process's turn, held while waiting for the lock
        other.unlock()
        async with asyncio.timeout(2):
            await waiting
        assert order == ["here", "after the other"]
        assert not turns_of(engine).busy
        assert other.try_lock()
        other.unlock()
    finally:
        other.close()


async def test_a_writer_cancelled_while_another_process_writes_leaves_no_lock_behind(
        engine: AsyncEngine, tmp_path: Path) -> None:
    other = OtherProcess(tmp_path / "turns.db")
    try:
        assert other.try_lock()
        order: list[str] = []
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await write(engine, "given up", order)
        assert not turns_of(engine).busy
        # Its executor thread still waits for the lock, gets it when the other process lets
        # go, and lets go of it at once: nobody holds it for a writer that went away.
        other.unlock()
        for _ in range(200):
            if other.try_lock():
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the lock stayed held for a cancelled writer")
        other.unlock()
        await write(engine, "next", order)
        assert await rows(engine) == ["next"]
    finally:
        other.close()


async def test_a_lock_won_from_another_process_holds_other_work_until_it_is_let_go(
        tmp_path: Path) -> None:
    # What the MQTT adapter asks between runs of messages (hub.devices.mqtt.adapter): work
    # that can wait stands aside while this process holds a lock another one waited for.
    lock = ProcessLock(tmp_path / "hub.db-turns")
    other = OtherProcess(tmp_path / "hub.db")
    try:
        await lock.acquire()  # nobody else wanted it: nothing needs to make way
        assert not lock.contended
        async with asyncio.timeout(1):
            await lock.make_way()
        lock.release()

        assert other.try_lock()
        acquiring = asyncio.create_task(lock.acquire())
        await asyncio.sleep(0.05)
        assert not acquiring.done()
        other.unlock()
        async with asyncio.timeout(2):
            await acquiring
        assert lock.contended
        making_way = asyncio.create_task(lock.make_way())
        await asyncio.sleep(0.05)
        assert not making_way.done()
        lock.release()
        async with asyncio.timeout(1):
            await making_way
        assert not lock.contended
    finally:
        other.close()
