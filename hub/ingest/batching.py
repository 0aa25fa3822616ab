"""How much the writer takes at once: up to `max_items`, waiting at most `max_wait_s`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def next_batch(queue: asyncio.Queue[T], max_items: int, max_wait_s: float,
                     queued_at: Callable[[T], float] | None = None) -> list[T]:
    """Wait for one item, then take what is queued, and what arrives within `max_wait_s` of
    the first, up to `max_items`. Under load batches fill at once; when quiet, one message
    waits no longer than `max_wait_s` for company.

    With `queued_at` (the loop time an item was queued), the wait counts from when the first
    item was queued, not from when it is taken: what queued up while the previous batch was
    being written has waited already, and goes at once."""
    first = await queue.get()
    batch = [first]
    loop = asyncio.get_running_loop()
    deadline = (loop.time() if queued_at is None else queued_at(first)) + max_wait_s
    while len(batch) < max_items:
        if not queue.empty():
            batch.append(queue.get_nowait())
            continue
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            async with asyncio.timeout(remaining):
                batch.append(await queue.get())
        except TimeoutError:
            break
    return batch
