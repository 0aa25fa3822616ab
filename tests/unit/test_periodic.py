"""A periodic job: each pass gets the hub's time, reports to /health, survives a failing
pass and goes on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from hub.health import HealthBoard
from hub.periodic import periodic

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


async def test_passes_get_the_clock_and_a_failing_one_does_not_stop_the_next() -> None:
    ticks = iter(T0 + timedelta(minutes=n) for n in range(100))
    seen: list[datetime] = []
    health = HealthBoard()
    three = asyncio.Event()

    async def step(now: datetime) -> list[int]:
        seen.append(now)
        if len(seen) == 2:
            raise RuntimeError("database restarting")
        if len(seen) == 3:
            three.set()
        return [1, 2]

    task = asyncio.create_task(periodic("sla", 0.0, step, lambda: next(ticks), health)())
    await asyncio.wait_for(three.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen[:3] == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    beat = health.beats["sla"]
    assert beat.status == "ok" and "2 acted on" in beat.detail
