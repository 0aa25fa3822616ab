"""Urgent work under way in this hub process, so that the telemetry writer can make room.

One event loop does everything: at a few thousand telemetry messages a second the ingestion
writer alone keeps a core busy, and a trapped passenger's work order or a barrier's decision
got the loop only between its batches (`hub bench fault`: seconds). Telemetry can wait: the
broker keeps what the hub has not acknowledged, and the queues in between push back. So while
urgent work is under way (an event's batch being stored, a rule acting on a device event, a
gate deciding), the telemetry writer does not start its next batch; it waits at most
`patience_s` at a time, so that urgent work that takes long (a slow notifier) slows telemetry
down but never stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class Urgency:
    def __init__(self, patience_s: float = 0.2) -> None:
        self._under_way = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self.patience_s = patience_s
        self.waits = 0  # how often the telemetry writer held off (for health and benches)

    @property
    def under_way(self) -> int:
        return self._under_way

    @contextmanager
    def working(self) -> Iterator[None]:
        self._under_way += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._under_way -= 1
            if self._under_way == 0:
                self._quiet.set()

    async def quiet(self) -> None:
        """Return once no urgent work is under way, or after `patience_s`."""
        if self._quiet.is_set():
            return
        self.waits += 1
        try:
            async with asyncio.timeout(self.patience_s):
                await self._quiet.wait()
        except TimeoutError:
            pass
