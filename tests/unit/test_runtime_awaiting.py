"""A stop that hangs says where: hub.runtime.awaiting names a task's chain of awaits."""

from __future__ import annotations

import asyncio

from hub.runtime import awaiting


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
