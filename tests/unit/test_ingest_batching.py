"""How much the writer takes at once: what is queued, up to the limit, and no more."""

from __future__ import annotations

import asyncio

from hub.ingest.batching import next_batch


async def test_a_batch_takes_what_is_queued_up_to_the_limit() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(7):
        queue.put_nowait(n)
    assert await next_batch(queue, 5, 0.0) == [0, 1, 2, 3, 4]
    assert await next_batch(queue, 5, 0.0) == [5, 6]


async def test_without_a_wait_a_lone_message_goes_alone() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    queue.put_nowait(1)
    assert await next_batch(queue, 500, 0.0) == [1]


async def test_messages_arriving_while_it_waits_join_the_batch_until_it_is_full() -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()

    async def trickle() -> None:
        for n in range(5):
            await queue.put(n)
            await asyncio.sleep(0)

    producer = asyncio.create_task(trickle())
    batch = await next_batch(queue, 3, 3600.0)  # full before the hour is up
    await producer
    assert batch == [0, 1, 2]
    assert queue.qsize() == 2


async def test_a_message_that_waited_while_the_last_batch_was_written_goes_at_once() -> None:
    queue: asyncio.Queue[float] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    queue.put_nowait(loop.time() - 7200)  # each item is the loop time it was queued at
    batch = await asyncio.wait_for(next_batch(queue, 500, 3600.0, lambda at: at), 5)
    assert len(batch) == 1


async def test_a_message_queued_just_now_still_waits_for_company() -> None:
    queue: asyncio.Queue[float] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    queue.put_nowait(loop.time())

    async def later() -> None:
        await asyncio.sleep(0.01)
        await queue.put(loop.time())

    producer = asyncio.create_task(later())
    batch = await next_batch(queue, 2, 3600.0, lambda at: at)  # full before the hour is up
    await producer
    assert len(batch) == 2


async def test_an_urgent_item_takes_what_is_queued_and_waits_for_nothing_more() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for item in ("t1", "t2", "plate", "t3"):
        queue.put_nowait(item)
    batch = await next_batch(queue, 500, 3600.0, urgent=lambda item: item == "plate")
    assert batch == ["t1", "t2", "plate", "t3"]  # an hour's wait would have hung the test


async def test_telemetry_alone_still_waits_for_company() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    queue.put_nowait("t1")

    async def later() -> None:
        await asyncio.sleep(0.01)
        await queue.put("t2")
        await asyncio.sleep(0.01)
        await queue.put("plate")
        await asyncio.sleep(0.01)
        await queue.put("t3")

    producer = asyncio.create_task(later())
    batch = await next_batch(queue, 500, 3600.0, urgent=lambda item: item == "plate")
    await producer
    assert batch == ["t1", "t2", "plate"]  # waited for t2, stopped at the plate read
    assert queue.qsize() == 1
