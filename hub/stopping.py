"""Stopping tasks that may have lost their cancellation, and saying where a task waits.

Kept apart from hub.runtime (which brings the API server along) so that the simulators and
the benchmarks stop their tasks the same way."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

STOP_WAIT_S = 10.0  # then the tasks that have not ended are named and cancelled again


async def stopped(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for cancelled tasks, cancelling again those that run on, and name them.

    A task can lose its cancellation: Python 3.11's asyncio.wait_for returns the result
    when the cancel arrives as the awaited thing completes, and libraries the hub runs on
    use it (aiomqtt's publish and subscribe, pymodbus's requests); a loop around such a
    call then runs on. Each STOP_WAIT_S the tasks still running are cancelled again."""
    running = set(tasks)
    while running:
        _, running = await asyncio.wait(running, timeout=STOP_WAIT_S)
        if running:
            log.error("still running %.0f s after being cancelled, cancelled again: %s",
                      STOP_WAIT_S, "; ".join(sorted(
                          f"{task.get_name()} (waiting in {awaiting(task)})"
                          for task in running)))
            for task in running:
                task.cancel()


def awaiting(task: asyncio.Task[None]) -> str:
    """Where a suspended task waits: its chain of awaits, outermost first, as
    `function (file:line)`. A task's own stack shows only its outermost coroutine."""
    links: list[str] = []
    awaited: object = task.get_coro()
    while awaited is not None and len(links) < 40:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            code = frame.f_code
            links.append(f"{code.co_name} ({code.co_filename.rsplit('/', 1)[-1]}:"
                         f"{frame.f_lineno})")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return " > ".join(links) or "?"
