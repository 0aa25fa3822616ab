"""How much the writer takes at once: up to `max_items`, waiting at most `max_wait_s`."""

from __future__ import annotations

import asyncio
from typing import TypeVar

T = TypeVar("T")


async def next_batch(queue: asyncio.Queue[T], max_items: int, max_wait_s: float) -> list[T]:
    """Wait for one item, then take what is queued, and what arrives within `max_wait_s` of
    the first, up to `max_items`. Under load batches fill at once; when quiet, one message
    waits no longer than `max_wait_s` for company."""
    batch = [await queue.get()]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_wait_s
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
