"""SQLite connections that read on the loop's thread within a budget and write on their own.

Through the hub's engine (hub.store.db.make_engine) on a real SQLite file: what each kind of
statement returns, where it ran (counted at the connection's thread crossings), and that a
read past its budget is interrupted and answered in full from the connection's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.store import sqlite_onehop
from hub.store.db import make_engine
from hub.store.sqlite_onehop import OneHopConnection


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", pool_size=2)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE n (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"))
        await conn.execute(text("INSERT INTO n (id, v) VALUES (:id, :v)"),
                           [{"id": i, "v": f"row {i}"} for i in range(1, 3001)])
    yield engine
    await engine.dispose()


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function run on a connection's thread, in order."""
    seen: list[str] = []
    original = OneHopConnection.run

    async def run(self: OneHopConnection, function: Any, *args: Any) -> Any:
        seen.append(function.__name__)
        return await original(self, function, *args)

    monkeypatch.setattr(OneHopConnection, "run", run)
    return seen


async def test_a_short_read_runs_on_the_loops_thread(engine: AsyncEngine,
                                                     crossings: list[str]) -> None:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, v FROM n WHERE id IN (2, 7) ORDER BY id"))
                ).all()
    assert [tuple(row) for row in rows] == [(2, "row 2"), (7, "row 7")]
    assert crossings == []  # nor did the rollback of a connection that only read


async def test_a_read_past_its_budget_is_answered_in_full_from_the_connections_thread(
        engine: AsyncEngine, crossings: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_onehop, "READ_HERE_BUDGET_S", 0.0)
    monkeypatch.setattr(sqlite_onehop, "PROGRESS_EVERY_OPS", 1)
    async with engine.connect() as conn:
        total = await conn.scalar(text("SELECT count(*) FROM n AS a, n AS b WHERE a.id < 100"))
        rows = (await conn.execute(text("SELECT id FROM n ORDER BY id"))).all()
    assert total == 99 * 3000
    assert [row[0] for row in rows] == list(range(1, 3001))
    assert crossings == ["_execute_whole", "_execute_whole"]


async def test_writes_cross_once_a_statement_and_reads_in_a_write_see_them(
        engine: AsyncEngine, crossings: list[str]) -> None:
    async with engine.begin() as conn:
        result = await conn.execute(text("UPDATE n SET v = 'changed' WHERE id <= 10"))
        assert result.rowcount == 10
        inserted = await conn.execute(text("INSERT INTO n (v) VALUES ('new') RETURNING id"))
        new_id = inserted.scalar_one()
        assert await conn.scalar(text("SELECT count(*) FROM n WHERE v = 'changed'")) == 10
    assert new_id == 3001
    # The UPDATE, the INSERT and the COMMIT crossed; the SELECT ran here.
    assert crossings == ["_execute_whole", "_execute_whole", "commit"]
    async with engine.connect() as conn:  # another connection: the write was committed
        assert await conn.scalar(text("SELECT v FROM n WHERE id = 3001")) == "new"


async def test_a_rolled_back_write_leaves_nothing(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("DELETE FROM n"))
        await conn.rollback()
        assert await conn.scalar(text("SELECT count(*) FROM n")) == 3000


async def test_executemany_reports_its_rowcount(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        result = await conn.execute(text("UPDATE n SET v = :v WHERE id = :id"),
                                    [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
    assert result.rowcount == 2


async def test_an_error_in_a_read_is_raised_as_sqlalchemy_raises_it(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        with pytest.raises(Exception, match="no such table: missing"):
            await conn.execute(text("SELECT * FROM missing"))
        assert await conn.scalar(text("SELECT count(*) FROM n")) == 3000


@asynccontextmanager
async def thread_held(conn: AsyncConnection) -> AsyncIterator[tuple[OneHopConnection,
                                                                    asyncio.Task[Any]]]:
    """The connection's thread runs `busy` (which then reads the row count) until the block
    ends, whatever happens in it: else closing the connection would wait for it for ever."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, OneHopConnection)
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def busy(connection: Any) -> int:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
        return int(connection.execute("SELECT count(*) FROM n").fetchone()[0])

    held = asyncio.create_task(driver.run(busy))
    await asyncio.sleep(0.05)
    try:
        yield driver, held
    finally:
        release.set()
    with contextlib.suppress(asyncio.CancelledError):
        await held


async def test_a_read_waits_for_the_thread_while_a_call_of_its_connection_is_there(
        engine: AsyncEngine, crossings: list[str]) -> None:
    # One sqlite3 connection is never used from two threads at once: a SELECT that comes
    # while the connection's thread still runs one of its calls goes to that thread too.
    async with engine.connect() as conn:
        async with thread_held(conn) as (driver, held):
            read = asyncio.create_task(driver.run_statement("SELECT count(*) FROM n", None))
            await asyncio.sleep(0.05)
            assert not read.done()  # queued behind `busy`, not run here
        assert await held == 3000
        _, rows, _, _ = await read
        assert rows == [(3000,)]
    assert crossings == ["busy", "_execute_whole"]


async def test_a_call_whose_caller_stopped_waiting_still_keeps_reads_off_the_loop(
        engine: AsyncEngine, crossings: list[str]) -> None:
    # A cancelled request leaves its call running on the connection's thread; a read that
    # comes meanwhile must queue behind it, not run beside it on the loop's thread.
    async with engine.connect() as conn:
        async with thread_held(conn) as (driver, held):
            held.cancel()
            with pytest.raises(asyncio.CancelledError):
                await held
            read = asyncio.create_task(driver.run_statement("SELECT count(*) FROM n", None))
            await asyncio.sleep(0.05)
            assert not read.done()
        _, rows, _, _ = await read
        assert rows == [(3000,)]
        await asyncio.sleep(0.05)  # the thread's call has been counted off: reads here again
        _, rows, _, _ = await driver.run_statement("SELECT count(*) FROM n", None)
        assert rows == [(3000,)]
    assert crossings == ["busy", "_execute_whole"]
