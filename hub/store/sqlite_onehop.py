"""aiosqlite connections that read on the event loop's thread and write on their own.

aiosqlite runs each sqlite3 call on a thread of the connection's own, and SQLAlchemy's adapter
makes four such calls for every statement: open a cursor, execute, fetch all rows, close.
Each crossing is a queue put, a thread wake-up, a hand-back through the event loop and two
trips of the GIL. On this hub's machines a crossing costs about 0.13 ms of CPU, three times a
short indexed SELECT's whole cost run in place (`hub bench api` spent more of the hub's CPU on
crossings than on SQLite).

`OneHopConnection` therefore:

- runs a SELECT on the loop's thread, with a budget (READ_HERE_BUDGET_S). SQLite calls a
  progress handler every few thousand operations; past the budget the statement is
  interrupted, which for a SELECT undoes nothing, and runs again on the connection's thread.
  So the loop never waits on SQLite for much longer than the budget, and the short reads
  that requests and look-ups make cost no crossing. Readers in WAL mode take no lock that
  a writer holds, so a read here does not wait for another process's write;
- runs everything else (writes, DDL, commits, long reads) on the connection's thread, as
  aiosqlite does, but a statement's whole life in one crossing: execute, fetch every row,
  read `description`, `rowcount` and `lastrowid`, close. The cursor that SQLAlchemy holds
  is a record of that result;
- skips a commit or rollback when no transaction is open (a pooled connection handed back
  after reads): there is nothing for SQLite to do.

One sqlite3 connection is used by one thread at a time: a read runs in place only while no
call of its connection is queued to or running on the thread, counted until the call leaves
the thread even if its caller was cancelled meanwhile.

Every SQLite engine of the hub uses it (`hub.store.db.make_engine`); the backend is the same
SQLite file with the same pragmas and the same write turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import aiosqlite

_Description = tuple[tuple[Any, ...], ...] | None

# A read runs on the event loop's thread for at most this long; a longer one is interrupted
# (a SELECT has nothing to undo) and runs again on the connection's thread.
READ_HERE_BUDGET_S = 0.002
# How often, in SQLite virtual machine operations, a read checks its budget: often enough to
# stop within a fraction of the budget, seldom enough that a short read never checks.
PROGRESS_EVERY_OPS = 2000


class OneHopCursor:
    """What SQLAlchemy's adapter needs of an aiosqlite cursor, from one crossing per call."""

    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> OneHopCursor:
        self._take(await self._connection.run_statement(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneHopCursor:
        self._take(await self._connection.run(_executemany_whole, sql, parameters))
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        self._rows = []

    def _take(self, result: tuple[_Description, list[Any], int, int | None]) -> None:
        self.description, self._rows, self.rowcount, self.lastrowid = result


def _execute_whole(connection: sqlite3.Connection, sql: str,
                   parameters: Any) -> tuple[_Description, list[Any], int, int | None]:
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        return _whole(cursor)
    finally:
        cursor.close()


def _executemany_whole(connection: sqlite3.Connection, sql: str,
                       parameters: Iterable[Any]) -> tuple[_Description, list[Any], int,
                                                           int | None]:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, parameters)
        return _whole(cursor)
    finally:
        cursor.close()


def _whole(cursor: sqlite3.Cursor) -> tuple[_Description, list[Any], int, int | None]:
    description = cursor.description
    rows = cursor.fetchall() if description else []
    return description, rows, cursor.rowcount, cursor.lastrowid


class _TooLong(Exception):
    """A read run on the loop's thread passed its budget and was interrupted."""


class OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors do their work in one crossing, or none."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._crossing = 0  # calls queued to or running on the connection's thread
        self._deadline = 0.0
        self._interrupted = False

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(sqlite3_connection, *args)` on the connection's thread."""
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")  # as aiosqlite says it
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def call() -> Any:
            try:
                return function(self._conn, *args)
            finally:
                # Counted off when the call leaves the thread, even if its caller stopped
                # waiting (cancelled): until then, no read may run on the loop's thread.
                with contextlib.suppress(RuntimeError):  # the loop has closed
                    loop.call_soon_threadsafe(self._crossed)

        self._crossing += 1
        # aiosqlite's worker takes (future, call) pairs from this queue, as its _execute does.
        self._tx.put_nowait((future, call))
        return await future

    def _crossed(self) -> None:
        self._crossing -= 1

    async def run_statement(self, sql: str, parameters: Any) -> Any:
        """One statement's whole result: a short read here, anything else on the thread."""
        if self._may_read_here(sql):
            try:
                return self._read_here(sql, parameters)
            except _TooLong:
                pass  # a read that takes longer runs again where it can take its time
        return await self.run(_execute_whole, sql, parameters)

    def _may_read_here(self, sql: str) -> bool:
        # Only a SELECT, which has no effect to undo when interrupted, and only while no call
        # of this connection is on its thread, so that the connection is used by one thread
        # at a time.
        return (self._crossing == 0 and self._connection is not None
                and sql.lstrip()[:6].upper() == "SELECT")

    def _read_here(self, sql: str, parameters: Any) -> Any:
        connection = self._conn
        self._deadline = time.perf_counter() + READ_HERE_BUDGET_S
        self._interrupted = False
        connection.set_progress_handler(self._over_budget, PROGRESS_EVERY_OPS)
        try:
            return _execute_whole(connection, sql, parameters)
        except sqlite3.OperationalError as err:
            if self._interrupted:
                raise _TooLong from err
            raise
        finally:
            connection.set_progress_handler(None, 0)

    def _over_budget(self) -> int:
        if time.perf_counter() > self._deadline:
            self._interrupted = True
            return 1  # SQLite stops the statement: "interrupted"
        return 0

    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)

    async def commit(self) -> None:
        if self._in_transaction():
            await self.run(sqlite3.Connection.commit)

    async def rollback(self) -> None:
        if self._in_transaction():
            await self.run(sqlite3.Connection.rollback)

    def _in_transaction(self) -> bool:
        # Read on the loop's thread, and only trusted while no call is on the connection's
        # thread (a cancelled request's write may still be there, about to begin one): then
        # the commit or rollback queues behind it.
        return (self._crossing > 0 or self._connection is None
                or self._connection.in_transaction)


def one_hop_connector(database: str, **kwargs: Any) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy: a new `OneHopConnection` to `database`."""

    # The connection is used from its thread and, for short reads, from the loop's; never
    # from both at once (OneHopConnection._may_read_here).
    kwargs = kwargs | {"check_same_thread": False}

    async def connect() -> OneHopConnection:
        connection = OneHopConnection(partial(sqlite3.connect, database, **kwargs),
                                      iter_chunk_size=64)
        # As SQLAlchemy's own aiosqlite dialect does: a forgotten connection must not keep
        # the process alive at exit.
        connection._thread.daemon = True
        await connection  # starts the thread and opens the sqlite3 connection on it
        return connection

    return connect
