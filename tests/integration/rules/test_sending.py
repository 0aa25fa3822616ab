"""The rules worker sends outcomes per device in order and devices side by side: one lift's
slow work order does not hold up another's (hub bench fault: one at a time, each order waited
for every other device's before it)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.outcomes import RaiseFault
from hub.rules.events import DeviceRef, RuleEvent
from hub.rules.loader import load_dir
from hub.rules.runner import RulesRunner
from hub.rules.store import SqlRuleStore
from tests.integration.rules.conftest import Clock
from tests.unit.test_rules_engine import PACKS

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LIFT_A = DeviceRef(1, 1, "lakeside", "lift-a", "elevator", building_id=1)
LIFT_B = DeviceRef(2, 1, "lakeside", "lift-b", "elevator", building_id=1)
WAIT_S = 10.0  # against hangs only


class SlowForLiftA:
    """A bus whose work orders for lift A wait until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.raised: list[tuple[str, str]] = []  # (lift, fault) as handled

    async def handle(self, command: object) -> Any:
        if not isinstance(command, RaiseFault):
            return None
        lift = "a" if command.device_id == LIFT_A.id else "b"
        if lift == "a":
            await self.release.wait()
        self.raised.append((lift, command.fault))
        return 1


def fault(lift: DeviceRef, seconds: float, code: str) -> RuleEvent:
    return RuleEvent("fault", T0 + timedelta(seconds=seconds), lift,
                     {"code": code, "active": True})


async def until(check: Any, what: str) -> None:
    async with asyncio.timeout(WAIT_S):
        while not check():  # noqa: ASYNC110 - the bus signals nothing
            await asyncio.sleep(0.005)


async def test_one_lifts_slow_order_does_not_hold_up_anothers_and_each_keeps_its_order(
        engine: AsyncEngine) -> None:
    bus, clock = SlowForLiftA(), Clock()
    clock.now = T0
    runner = RulesRunner(load_dir(PACKS), SqlRuleStore(engine), bus.handle, clock=clock,
                         monotonic=clock.monotonic)
    worker = asyncio.create_task(runner.run())
    try:
        for lift in (LIFT_A, LIFT_B):  # in normal mode (not inspection): faults count
            runner.offer(RuleEvent("telemetry", T0, lift, {"mode": 0}))
        runner.offer(fault(LIFT_A, 0, "TRAPPED_AT_FLOOR"))
        runner.offer(fault(LIFT_A, 200, "TRAPPED_BETWEEN_FLOORS"))  # after the cooldown
        runner.offer(fault(LIFT_B, 2, "TRAPPED_AT_FLOOR"))
        await until(lambda: ("b", "TRAPPED_AT_FLOOR") in bus.raised,
                    f"lift B's order ({runner.stats})")
        assert [lift for lift, _ in bus.raised] == ["b"]  # lift A's first still waits
        bus.release.set()
        await until(lambda: len(bus.raised) == 3, "lift A's orders")
        assert [f for lift, f in bus.raised if lift == "a"] == [
            "TRAPPED_AT_FLOOR", "TRAPPED_BETWEEN_FLOORS"]  # in the order they came
        await asyncio.wait_for(runner.drained(), WAIT_S)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
