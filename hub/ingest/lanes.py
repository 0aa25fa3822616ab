"""Two lanes into the ingestion writer: bulk for telemetry and status, express for what
someone waits on (a plate read a barrier waits on, a fault a work order waits on, a command's
ack), so that an urgent message is not stored behind hundreds of telemetry messages queued
before it (`hub bench gate`: the queue of the background telemetry was most of a read's way).

One device's messages stay in the order they came (hub.device_order): every device is in one
lane at a time, and the writer sees each device's messages in order, as sequence tracking
(hub.ingest.sequencing) and the rules expect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

from hub.device_order import DeviceOrder

T = TypeVar("T")


class Lanes(Generic[T]):
    def __init__(self, capacity: int, *, urgent: Callable[[T], bool],
                 device: Callable[[T], Hashable | None]) -> None:
        self.bulk: asyncio.Queue[T] = asyncio.Queue(capacity)
        self.express: asyncio.Queue[T] = asyncio.Queue(capacity)
        self._urgent = urgent
        self._device = device  # None: an item of no device (it keeps no order with others)
        self._order = DeviceOrder(self.express, self.bulk)

    def admit(self, item: T) -> asyncio.Queue[T]:
        """The lane `item` goes to, counted as unfinished there from now on: call `put` on it
        next (or `withdraw` if that is cancelled), then `finished` once it is stored."""
        return self._order.line_for(self._device(item), self._urgent(item))

    def finished(self, items: Iterable[T]) -> None:
        for item in items:
            self._order.done(self._device(item))

    def withdraw(self, item: T) -> None:
        """An admitted item that never reached its lane (its `put` was cancelled)."""
        self.finished((item,))

    def depth(self) -> int:
        return self.bulk.qsize() + self.express.qsize()

    async def join(self) -> None:
        await self.bulk.join()
        await self.express.join()
