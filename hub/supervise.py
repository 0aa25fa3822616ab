"""Supervision of long-running tasks: restart with backoff on a crash, report to /health."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hub.devices.backoff import Backoff
from hub.health import HealthBoard

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
# A run that lasted this long was healthy: the next crash starts from short delays again.
HEALTHY_RUN_S = 60.0


async def supervised(name: str, job: Job, health: HealthBoard, *,
                     backoff: Backoff | None = None) -> None:
    """Run `job` forever: if it returns or raises, log once, wait, and start it again.

    Cancellation (shutdown) passes through. The job reports its own finer health with
    `health.beat(name, ...)`; this only records crashes and restarts.
    """
    backoff = backoff or Backoff(base=1.0, cap=60.0)
    restarts = 0
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            await job()
            reason = "returned"
        except asyncio.CancelledError:
            raise
        except Exception as err:  # the supervisor exists to survive what the job did not
            reason = f"{type(err).__name__}: {err}"[:200]
            log.exception("task %s crashed; restarting", name)
        if loop.time() - started > HEALTHY_RUN_S:
            backoff.reset()
        restarts += 1
        delay = backoff.next()
        health.beat(name, "degraded", f"restart {restarts} in {delay:.1f}s after {reason}")
        await asyncio.sleep(delay)
