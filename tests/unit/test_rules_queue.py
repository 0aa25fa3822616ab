"""The rules queue: device events overtake other devices' telemetry, never their own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hub.rules.events import DeviceRef, RuleEvent
from hub.rules.queue import RulesQueue

AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LIFT = DeviceRef(1, 1, "lakeside", "lift-1", "elevator")
METER = DeviceRef(2, 1, "lakeside", "b1-energy", "meter")


def event(kind: str, device: DeviceRef | None, n: int = 0) -> RuleEvent:
    return RuleEvent(kind, AT, device, {"n": n})


def drain(queue: RulesQueue) -> list[tuple[str, str, int]]:
    out = []
    while (e := queue.pop()) is not None:
        out.append((e.kind, e.device.code if e.device else "-", e.payload.get("n", 0)))
    return out


def test_a_fault_overtakes_other_devices_telemetry_but_not_its_own() -> None:
    queue = RulesQueue()
    for n in range(3):
        queue.put(event("telemetry", METER, n))
    queue.put(event("telemetry", LIFT, 10))  # e.g. the lift's switch to inspection mode
    queue.put(event("telemetry", METER, 3))
    queue.put(event("fault", LIFT, 11))
    queue.put(event("telemetry", LIFT, 12))  # after the fault: stays after it
    assert drain(queue) == [("telemetry", "lift-1", 10), ("fault", "lift-1", 11),
                            ("telemetry", "b1-energy", 0), ("telemetry", "b1-energy", 1),
                            ("telemetry", "b1-energy", 2), ("telemetry", "b1-energy", 3),
                            ("telemetry", "lift-1", 12)]


def test_ticks_stay_in_line_with_telemetry_and_events_keep_their_order() -> None:
    queue = RulesQueue()
    queue.put(event("telemetry", METER, 0))
    queue.put(event("tick", None, 1))
    queue.put(event("offline", METER, 2))
    queue.put(event("fault", LIFT, 3))
    # The meter's offline waits for the meter's reading; the tick stays after that reading.
    assert drain(queue) == [("telemetry", "b1-energy", 0), ("offline", "b1-energy", 2),
                            ("fault", "lift-1", 3), ("tick", "-", 1)]


async def test_get_waits_for_an_event_and_join_waits_for_task_done() -> None:
    queue = RulesQueue()
    assert await queue.get(0.01) is None
    waiting = asyncio.create_task(queue.get(5.0))
    await asyncio.sleep(0)
    queue.put(event("fault", LIFT))
    assert (await waiting) is not None
    joined = asyncio.create_task(queue.join())
    await asyncio.sleep(0.01)
    assert not joined.done()
    queue.task_done()
    await asyncio.wait_for(joined, 1.0)
    assert len(queue) == 0


async def test_a_worker_cancelled_as_an_event_arrives_stops() -> None:
    """The rules worker loops on `get`; a stop that cancels it just as an event wakes it must
    end it. (Python 3.11's wait_for returned the event instead: a hub ignored Ctrl-C.)"""
    queue = RulesQueue()

    async def worker() -> None:
        while True:
            await queue.get(5.0)

    task = asyncio.create_task(worker())
    await asyncio.sleep(0.01)
    queue.put(event("tick", None))
    await asyncio.sleep(0)  # the wait inside `get` ends: its result is on its way
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=1.0)
    assert done, "the cancellation was lost: the worker still runs"
    assert task.cancelled()
