"""Two lanes into the ingestion writer: bulk for telemetry and status, express for what
someone waits on (a plate read a barrier waits on, a fault a work order waits on, a command's
ack), so that an urgent message is not stored behind hundreds of telemetry messages queued
before it (`hub bench gate`: the queue of the background telemetry was most of a read's way).

One device's messages stay in the order they came: a message goes to the lane its device's
earlier, unfinished messages are in, whatever its own kind. A device's urgent message waits in
bulk behind its own telemetry; a device's telemetry follows its urgent message into express.
So every device is in one lane at a time, and the writer sees each device's messages in
order, as sequence tracking (hub.ingest.sequencing) and the rules expect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lanes(Generic[T]):
    def __init__(self, capacity: int, *, urgent: Callable[[T], bool],
                 device: Callable[[T], Hashable | None]) -> None:
        self.bulk: asyncio.Queue[T] = asyncio.Queue(capacity)
        self.express: asyncio.Queue[T] = asyncio.Queue(capacity)
        self._urgent = urgent
        self._device = device  # None: an item of no device (it keeps no order with others)
        self._unfinished: dict[Hashable, tuple[asyncio.Queue[T], int]] = {}

    def admit(self, item: T) -> asyncio.Queue[T]:
        """The lane `item` goes to, counted as unfinished there from now on: call `put` on it
        next (or `withdraw` if that is cancelled), then `finished` once it is stored."""
        lane = self.express if self._urgent(item) else self.bulk
        device = self._device(item)
        if device is None:
            return lane
        held = self._unfinished.get(device)
        if held is None:
            self._unfinished[device] = (lane, 1)
            return lane
        self._unfinished[device] = (held[0], held[1] + 1)
        return held[0]

    def finished(self, items: Iterable[T]) -> None:
        for item in items:
            device = self._device(item)
            if device is None:
                continue
            held = self._unfinished.get(device)
            if held is None:
                continue
            if held[1] <= 1:
                del self._unfinished[device]
            else:
                self._unfinished[device] = (held[0], held[1] - 1)

    def withdraw(self, item: T) -> None:
        """An admitted item that never reached its lane (its `put` was cancelled)."""
        self.finished((item,))

    def depth(self) -> int:
        return self.bulk.qsize() + self.express.qsize()

    async def join(self) -> None:
        await self.bulk.join()
        await self.express.join()
