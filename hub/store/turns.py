"""Turns at writing, for the writers of one hub process on SQLite.

SQLite lets one connection write at a time, and a connection that finds the write lock
taken polls for it, sleeping 1, 2, 5, 10 ... up to 100 ms between tries. Behind the
ingestion writer's stream of telemetry batches, a plate read's gate decision lost up to
70 ms there (`hub bench gate`, p99 of the decision's transaction; 16 ms on PostgreSQL), and
every other writer (the rules' work orders, the command log, the API) lost as much. In this
process they take turns here instead: no polling, and an urgent writer (a barrier or a work
order waits on it) goes before the next batch.

`take_turns` makes an SQLite engine do it for every transaction: the first statement that
writes takes a turn, the commit or rollback gives it back. Code that writes something urgent
says so with `urgent_writes()`. Server databases lock rows, and need no turns.

Several hub processes on one SQLite file (workers on a shared subscription) take turns between
them too: the holder of a process's turn also holds an exclusive `flock` on a file beside the
database (`ProcessLock`), which the kernel hands to the next process the moment it is let go,
where SQLite's own busy handler would have slept up to 100 ms between tries. A process that
had to wait for that lock keeps its other work (decoding the next telemetry) out of the way
while it holds it (`ProcessLock.make_way`): the others wait for its commit, and its turn
should last as long as its transaction needs, not as long as its event loop is busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

_URGENT: ContextVar[bool] = ContextVar("urgent_writes", default=False)
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC", "CREATE", "DROP", "ALTER")


try:
    import fcntl
except ImportError:  # not on Windows: one process per SQLite file there
    fcntl = None  # type: ignore[assignment]


class ProcessLock:
    """An exclusive lock shared by the processes that open the same file (flock(2)). Waiting
    for it blocks a thread of the default executor, never the event loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        # Closed with the engine that holds it (tests make thousands of engines).
        weakref.finalize(self, _close_quietly, self._fd)
        self._contended: asyncio.Event | None = None  # clear while held after a wait

    @property
    def contended(self) -> bool:
        """Held by this process, which had to wait for another one to let go of it."""
        return self._contended is not None and not self._contended.is_set()

    async def make_way(self) -> None:
        """Return at once, unless this process holds the lock after waiting for it: then when
        it lets go. Work that can wait calls it between its steps, so that a turn other
        processes are waiting for does not last longer than its transaction."""
        if self._contended is not None:
            await self._contended.wait()

    async def acquire(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waiting = asyncio.get_running_loop().run_in_executor(
            None, fcntl.flock, self._fd, fcntl.LOCK_EX)
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread goes on waiting, and may get the lock after all: let it go then.
            waiting.add_done_callback(self._unwanted)
            raise
        if self._contended is None:
            self._contended = asyncio.Event()
        self._contended.clear()

    def _unwanted(self, waited: asyncio.Future[None]) -> None:
        if not waited.cancelled() and waited.exception() is None:
            self.release()

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        if self._contended is not None:
            self._contended.set()



def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def process_lock_of(engine: AsyncEngine) -> ProcessLock | None:
    """The lock an engine's writers take turns at with other processes (SQLite files)."""
    turns = getattr(engine.sync_engine.dialect, "write_turns", None)
    lock = getattr(turns, "between_processes", None)
    return lock if isinstance(lock, ProcessLock) else None


def process_lock_for(database: str) -> ProcessLock | None:
    """The lock of the processes writing the SQLite file `database` (None where flock is
    missing)."""
    if fcntl is None:
        return None
    return ProcessLock(Path(f"{database}-turns"))


class WriteTurns:
    def __init__(self, between_processes: ProcessLock | None = None) -> None:
        self.between_processes = between_processes
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self.acquire(urgent=urgent)
        try:
            yield
        finally:
            self.release()

    async def __aenter__(self) -> None:  # `async with turns:` is a normal turn
        await self.acquire()

    async def __aexit__(self, *_exc: object) -> None:
        self.release()

    @property
    def busy(self) -> bool:
        return self._busy

    async def acquire(self, *, urgent: bool = False, timeout_s: float | None = None) -> None:
        """A turn held until `release`; TimeoutError if none came within `timeout_s`. This
        process's turn first, then, holding it, the other processes' lock."""
        async with asyncio.timeout(timeout_s):
            await self._acquire(urgent)
            if self.between_processes is not None:
                try:
                    await self.between_processes.acquire()
                except BaseException:
                    self._release()
                    raise

    def release(self) -> None:
        if self.between_processes is not None:
            self.between_processes.release()
        self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._busy and not self._urgent and (urgent or not self._normal):
            self._busy = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._normal).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed the turn as it was cancelled: pass it on
            raise

    def _release(self) -> None:
        """Hand the turn to the first urgent waiter, else the first other one."""
        for waiting in (self._urgent, self._normal):
            while waiting:
                waiter = waiting.popleft()
                if not waiter.done():  # a cancelled waiter is skipped
                    waiter.set_result(None)  # still busy: the turn passes directly
                    return
        self._busy = False


def writes_urgent() -> bool:
    """Whether the current task is inside `urgent_writes()`."""
    return _URGENT.get()


class urgent_writes:
    """The transactions begun inside take their turn ahead of the ingestion batches. With
    `with` or `async with` (beside an `async with` of a session)."""

    def __enter__(self) -> None:
        self._token = _URGENT.set(True)

    def __exit__(self, *_exc: object) -> None:
        _URGENT.reset(self._token)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__(*exc)


def take_turns(engine: AsyncEngine, turns: WriteTurns, *, timeout_s: float) -> None:
    """Every transaction of `engine` (SQLite) that writes holds a turn from its first write to
    its commit or rollback. One that waits longer than `timeout_s` (SQLite's own busy timeout)
    fails as SQLite would have: "database is locked"."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect
    if getattr(dialect, "write_turns", None) is not None:
        return  # already taking turns
    dialect.write_turns = turns  # type: ignore[attr-defined]
    holding: set[int] = set()  # the DBAPI connections holding a turn, by id

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        raw = id(conn.connection.dbapi_connection)
        if raw in holding or statement.lstrip()[:6].upper() not in WRITES:
            return
        try:
            await_(turns.acquire(urgent=writes_urgent(), timeout_s=timeout_s))
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked (no write turn within "
                                           f"{timeout_s:.0f} s)") from None
        holding.add(raw)

    def _ending(name: str) -> None:
        original = getattr(dialect, name)

        def ended(dbapi_connection: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return original(dbapi_connection, *args, **kwargs)
            finally:  # committed, rolled back or gone: the lock is free, so is the turn
                raw = id(getattr(dbapi_connection, "dbapi_connection", dbapi_connection))
                if raw in holding:
                    holding.discard(raw)
                    turns.release()

        # The dialect is this engine's own instance: wrapping its methods touches no other.
        setattr(dialect, name, ended)

    for name in ("do_commit", "do_rollback", "do_close", "do_terminate"):
        _ending(name)
