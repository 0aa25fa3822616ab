"""Urgency: the telemetry writer holds off while urgent work is under way, never for long."""

from __future__ import annotations

import asyncio

from hub.urgency import Urgency


async def test_quiet_returns_at_once_when_nothing_urgent_is_under_way() -> None:
    urgency = Urgency(patience_s=3600)
    await asyncio.wait_for(urgency.quiet(), 1.0)
    assert urgency.waits == 0


async def test_quiet_waits_for_the_urgent_work_to_end() -> None:
    urgency = Urgency(patience_s=3600)
    release = asyncio.Event()

    async def decision() -> None:
        with urgency.working(), urgency.working():  # two at once: both must end
            await release.wait()

    working = asyncio.create_task(decision())
    await asyncio.sleep(0)
    assert urgency.under_way == 2
    waiting = asyncio.create_task(urgency.quiet())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(working, waiting), 1.0)
    assert urgency.under_way == 0 and urgency.waits == 1


async def test_quiet_gives_up_after_its_patience_so_telemetry_never_stops() -> None:
    urgency = Urgency(patience_s=0.05)
    with urgency.working():
        await asyncio.wait_for(urgency.quiet(), 1.0)  # returns although still under way
    assert urgency.under_way == 0


async def test_work_that_fails_still_ends() -> None:
    urgency = Urgency()
    try:
        with urgency.working():
            raise RuntimeError("a decision failed")
    except RuntimeError:
        pass
    assert urgency.under_way == 0
    await asyncio.wait_for(urgency.quiet(), 1.0)
