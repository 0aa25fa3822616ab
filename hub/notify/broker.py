"""The in-process fan-out behind the live feed (SSE): one bounded queue per subscriber.

Publishing never waits: a subscriber whose queue is full is dropped (its stream ends, the
client reconnects and reads what it missed from the feed) and counted, so that one slow
client can neither grow memory nor hold the others back.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

DEFAULT_QUEUE = 100


@dataclass(frozen=True)
class LiveItem:
    """One server-sent event: `event` names it, `data` is its JSON-able payload."""

    event: str
    id: int | None
    data: dict[str, Any]


class Subscription:
    def __init__(self, broker: Broker, account_id: int, size: int) -> None:
        self.account_id = account_id
        self.queue: asyncio.Queue[LiveItem | None] = asyncio.Queue(maxsize=size)
        self.dropped = False
        self._broker = broker

    async def next(self, wait_s: float | None) -> LiveItem | None:
        """The next item; None when the subscription was dropped. TimeoutError when nothing
        came within `wait_s` seconds (time for a heartbeat)."""
        if self.dropped and self.queue.empty():
            return None
        async with asyncio.timeout(wait_s):
            return await self.queue.get()

    def close(self) -> None:
        self._broker.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Broker:
    def __init__(self, queue_size: int = DEFAULT_QUEUE, max_subscribers: int = 10_000) -> None:
        self.queue_size = queue_size
        self.max_subscribers = max_subscribers
        self._subscribers: dict[int, set[Subscription]] = defaultdict(set)
        self.published = 0
        self.delivered = 0
        self.dropped_subscribers = 0

    @property
    def subscribers(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def subscribe(self, account_id: int) -> Subscription:
        if self.subscribers >= self.max_subscribers:
            raise OverflowError("too many live subscribers")
        subscription = Subscription(self, account_id, self.queue_size)
        self._subscribers[account_id].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        mine = self._subscribers.get(subscription.account_id)
        if mine is not None:
            mine.discard(subscription)
            if not mine:
                del self._subscribers[subscription.account_id]

    def publish(self, account_id: int, item: LiveItem) -> int:
        """Hand `item` to every subscriber of the account; returns how many took it."""
        self.published += 1
        took = 0
        for subscription in list(self._subscribers.get(account_id, ())):
            try:
                subscription.queue.put_nowait(item)
                took += 1
            except asyncio.QueueFull:
                self._drop(subscription)
        self.delivered += took
        return took

    def _drop(self, subscription: Subscription) -> None:
        self.unsubscribe(subscription)
        subscription.dropped = True
        self.dropped_subscribers += 1
        # Wake a reader blocked on get(): it finds the queue full of what it has not read,
        # then None (dropped) once it has read them.
        subscription.queue.get_nowait()
        subscription.queue.put_nowait(None)

    def stats(self) -> dict[str, int]:
        return {"subscribers": self.subscribers, "published": self.published,
                "delivered": self.delivered, "dropped_subscribers": self.dropped_subscribers}
