"""WriteTurns: one writer at a time, urgent writers before the next batch, cancellation safe."""

from __future__ import annotations

import asyncio

import pytest

from hub.store.turns import WriteTurns


async def _writer(turns: WriteTurns, name: str, order: list[str], *, urgent: bool = False,
                  hold: asyncio.Event | None = None) -> None:
    async with turns.turn(urgent=urgent):
        order.append(f"{name} in")
        if hold is not None:
            await hold.wait()
        await asyncio.sleep(0)
        order.append(f"{name} out")


async def test_one_writer_at_a_time_and_urgent_ones_first() -> None:
    turns, order, hold = WriteTurns(), [], asyncio.Event()
    first = asyncio.create_task(_writer(turns, "batch1", order, hold=hold))
    await asyncio.sleep(0)
    batch2 = asyncio.create_task(_writer(turns, "batch2", order))
    await asyncio.sleep(0)
    gate = asyncio.create_task(_writer(turns, "gate", order, urgent=True))
    await asyncio.sleep(0)
    hold.set()
    await asyncio.gather(first, batch2, gate)
    assert order == ["batch1 in", "batch1 out", "gate in", "gate out", "batch2 in", "batch2 out"]
    assert not turns.busy


async def test_a_cancelled_waiter_neither_takes_nor_loses_the_turn() -> None:
    turns, order, hold = WriteTurns(), [], asyncio.Event()
    first = asyncio.create_task(_writer(turns, "batch1", order, hold=hold))
    await asyncio.sleep(0)
    gone = asyncio.create_task(_writer(turns, "gone", order, urgent=True))
    after = asyncio.create_task(_writer(turns, "after", order))
    await asyncio.sleep(0)
    gone.cancel()
    hold.set()
    await asyncio.gather(first, after)
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert order == ["batch1 in", "batch1 out", "after in", "after out"]
    assert not turns.busy


async def test_a_waiter_cancelled_as_it_was_handed_the_turn_passes_it_on() -> None:
    turns, order, hold = WriteTurns(), [], asyncio.Event()
    first = asyncio.create_task(_writer(turns, "batch1", order, hold=hold))
    await asyncio.sleep(0)
    handed = asyncio.create_task(_writer(turns, "handed", order))
    after = asyncio.create_task(_writer(turns, "after", order))
    await asyncio.sleep(0)
    hold.set()
    # Step by step (an Event would wake this test after `handed` had run):
    while "batch1 out" not in order:  # noqa: ASYNC110 - batch1 hands its turn to `handed` ...
        await asyncio.sleep(0)
    handed.cancel()  # ... which is cancelled before it could run
    # A lost turn would leave `after` waiting forever: fail instead of hanging.
    await asyncio.wait_for(asyncio.gather(first, after, return_exceptions=True), 5)
    assert "after out" in order and "handed in" not in order
    assert not turns.busy


async def test_async_with_is_a_normal_turn() -> None:
    turns = WriteTurns()
    async with turns:
        assert turns.busy
    assert not turns.busy
