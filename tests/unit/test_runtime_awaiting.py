"""A stop that hangs says where: hub.stopping.awaiting names a task's chain of awaits, and
hub.stopping.stopped cancels again what lost its cancellation."""

from __future__ import annotations

import asyncio

import pytest

from hub import stopping
from hub.stopping import awaiting


async def _innermost(gate: asyncio.Event) -> None:
    await gate.wait()


async def _middle(gate: asyncio.Event) -> None:
    await _innermost(gate)


async def test_the_chain_runs_from_the_task_to_what_its_innermost_coroutine_awaits() -> None:
    gate = asyncio.Event()
    task = asyncio.create_task(_middle(gate))
    await asyncio.sleep(0)
    chain = awaiting(task)
    assert chain.startswith("_middle (test_runtime_awaiting.py:")
    assert " > _innermost (test_runtime_awaiting.py:" in chain
    assert chain.endswith(")") and " > wait (locks.py:" in chain
    gate.set()
    await task


async def test_a_finished_task_has_no_chain() -> None:
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    assert awaiting(task) == "?"


async def test_a_task_that_lost_its_cancellation_is_cancelled_again(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(stopping, "STOP_WAIT_S", 0.05)
    rounds: list[int] = []

    async def loses_its_first_cancel() -> None:
        # What a loop around Python 3.11's wait_for does when the cancel arrives as the
        # awaited thing completes: the CancelledError never reaches the loop.
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if rounds:
                    raise
                rounds.append(1)

    task = asyncio.create_task(loses_its_first_cancel(), name="swallower")
    await asyncio.sleep(0)
    task.cancel()
    async with asyncio.timeout(5):
        await stopping.stopped([task])
    assert task.cancelled()
    assert "cancelled again: swallower (waiting in loses_its_first_cancel" in caplog.text
