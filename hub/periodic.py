"""Jobs that run a step every so often: SLA checks, due maintenance, escalations, reminders.

Each step takes the time it runs at (`now`, from the hub's clock) and does one pass; the pass
decides what is due, so a late or skipped run catches up at the next one, and tests call the
step with the times they choose instead of waiting. The loop reports each pass to /health;
a failing pass is logged and reported and the loop goes on (the next pass may well work: the
database was restarting, say), so one bad row cannot stop escalations for everyone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial

from hub.health import HealthBoard
from hub.ports import Clock
from hub.supervise import Job

log = logging.getLogger(__name__)

Step = Callable[[datetime], Awaitable[object]]


async def run_every(name: str, every_s: float, step: Step, clock: Clock,
                    health: HealthBoard) -> None:
    failures = 0
    while True:
        started = clock()
        try:
            result = await step(started)
        except Exception as err:  # reported, and tried again next period
            failures += 1
            log.exception("%s: pass at %s failed", name, started.isoformat())
            health.beat(name, "degraded", f"last pass failed ({type(err).__name__}); "
                                          f"{failures} failed passes so far")
        else:
            health.beat(name, "ok", f"last pass at {started:%H:%M:%S}: {_describe(result)}")
        await asyncio.sleep(every_s)


def periodic(name: str, every_s: float, step: Step, clock: Clock, health: HealthBoard) -> Job:
    return partial(run_every, name, every_s, step, clock, health)


def _describe(result: object) -> str:
    if isinstance(result, list | tuple | set | dict):
        return f"{len(result)} acted on"
    return "done" if result is None else str(result)[:120]
