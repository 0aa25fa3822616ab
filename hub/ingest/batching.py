"""How much the writer takes at once: up to `max_items`, waiting at most `max_wait_s`, and not
at all once it holds something that someone is waiting for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def next_batch(queue: asyncio.Queue[T], max_items: int, max_wait_s: float,
                     queued_at: Callable[[T], float] | None = None,
                     urgent: Callable[[T], bool] | None = None) -> list[T]:
    """Wait for one item, then take what is queued, and what arrives within `max_wait_s` of
    the first, up to `max_items`. Under load batches fill at once; when quiet, one message
    waits no longer than `max_wait_s` for company.

    With `queued_at` (the loop time an item was queued), the wait counts from when the first
    item was queued, not from when it is taken: what queued up while the previous batch was
    being written has waited already, and goes at once.

    Once the batch holds an `urgent` item (a plate read a barrier waits on, a fault a work
    order waits on), it takes what is already queued and waits for nothing more: the wait
    only saves commits for telemetry, and would add itself to every barrier's latency."""
    first = await queue.get()
    batch = [first]
    hurry = urgent is not None and urgent(first)
    loop = asyncio.get_running_loop()
    deadline = (loop.time() if queued_at is None else queued_at(first)) + max_wait_s
    while len(batch) < max_items:
        if not queue.empty():
            item = queue.get_nowait()
            batch.append(item)
            hurry = hurry or (urgent is not None and urgent(item))
            continue
        if hurry:
            break
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            async with asyncio.timeout(remaining):
                item = await queue.get()
        except TimeoutError:
            break
        batch.append(item)
        hurry = urgent is not None and urgent(item)
    return batch
