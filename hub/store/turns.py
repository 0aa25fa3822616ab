"""Turns at writing, for the hot writers of one hub process on SQLite.

SQLite lets one connection write at a time, and a connection that finds the write lock
taken polls for it, sleeping 1, 2, 5, 10 ... up to 100 ms between tries. Behind the
ingestion writer's stream of telemetry batches, a plate read's gate decision lost up to
70 ms there (`hub bench gate`, p99 of the decision's transaction; 16 ms on PostgreSQL). In
this process the two take turns here instead: no polling, and an urgent writer (a barrier
waits on it) goes before the next batch. Server databases lock rows, and need no turns.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteTurns:
    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def __aenter__(self) -> None:  # `async with turns:` is a normal turn
        await self._acquire(False)

    async def __aexit__(self, *_exc: object) -> None:
        self._release()

    @property
    def busy(self) -> bool:
        return self._busy

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
