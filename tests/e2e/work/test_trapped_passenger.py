"""From a trapped passenger in a lift to a work order on the technician's phone, the whole loop:
the simulated lift polled over Modbus TCP → ingestion → the shipped rules → the work-order
handlers → the API; the hub connected to a real broker, built by hub.bootstrap.

Then `hub rules replay` on the file the rules worker recorded prints the outcomes the live run
produced. See the numbers with `pytest -s tests/e2e/work`."""

from __future__ import annotations

import asyncio
import random
import re
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from simulators.modbus.elevator import Elevator, Mode
from tests.e2e.work.estate import REPO, RULES, WAIT_S, Estate, estate

TRAPPED_AT_FLOOR = 7
COOLDOWN_S = 120  # config/rules/elevator.yaml, elevator.trapped: cooldown 2m
FAULT_S = 20.0  # how long an injected fault lasts on the lift's clock
LIFT, SERVICED = "b3-lift-1", "b3-lift-2"


async def _visible(world: Estate, lift: str, check: Any, what: str) -> tuple[float, Any]:
    """Until the API shows `lift`'s orders satisfying `check`; the seconds and the orders."""
    seen: list[dict[str, Any]] = []

    async def poll() -> bool:
        nonlocal seen
        seen = await world.orders(lift)
        return bool(check(seen))

    started = time.monotonic()
    while not await poll():
        if time.monotonic() - started > WAIT_S:
            raise AssertionError(f"{what}: not within {WAIT_S}s; the API shows {seen}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started, seen


def _timeline(order: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [entry for entry in order["timeline"] if entry["kind"] == kind]


async def _replay(record_file: Path) -> list[str]:
    """`python -m hub rules replay FILE`, as staff would run it: its outcome lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "rules", "replay", str(record_file), "--rules", str(RULES),
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), WAIT_S)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert re.fullmatch(r"\d+ events, \d+ outcomes.*", lines[-1]), lines[-1:]
    return lines[:-1]


async def test_a_trapped_passenger_opens_one_p1_order_for_the_technician_on_duty(
        tmp_path: Path, broker_url: str) -> None:
    lifts = {LIFT: Elevator(rng=random.Random(1)),
             SERVICED: Elevator(rng=random.Random(2), mode=Mode.MAINTENANCE)}
    async with estate(tmp_path, broker_url, lifts) as world:
        lift_id = world.device_ids[LIFT]
        await world.evaluated(LIFT, "telemetry", 1, mode="normal")

        # 1. Trapped at floor: one P1 order, assigned by round-robin to the one on-duty
        # elevator technician, clocks running, the triggering reading as its evidence.
        injected = world.inject(LIFT, TRAPPED_AT_FLOOR, FAULT_S)
        opened_s, orders = await _visible(world, LIFT, len, "the trapped-passenger order")
        latency_ms = (time.monotonic() - injected) * 1000
        (order,) = orders
        assert (order["priority"], order["category"], order["fault"], order["source"]) == (
            "P1", "elevator", "TRAPPED_AT_FLOOR", "device_fault")
        assert (order["status"], order["assignee_id"]) == ("assigned",
                                                           world.accounts["wang-lifts"])
        detail = await world.order(order["id"])
        opened_at = _at(detail["opened_at"])
        assert _at(detail["respond_by"]) - opened_at == _minutes(5)
        assert _at(detail["arrive_by"]) - opened_at == _minutes(30)
        assert _at(detail["resolve_by"]) - opened_at == _minutes(240)
        assert detail["cause"]["rule_id"] == "elevator.trapped"
        (opened,) = _timeline(detail, "opened")
        assert opened["rule"] == "rule:elevator.trapped@1"
        (reading,) = opened["data"]["cause"]["evidence"]
        assert (reading["kind"], reading["device_id"], reading["summary"]) == (
            "fault", lift_id, {"code": "TRAPPED_AT_FLOOR", "active": True})
        assert _at(reading["at"]) == opened_at  # the poll that read the fault register
        (assigned,) = _timeline(detail, "assigned")
        assert assigned["data"]["assignee_id"] == world.accounts["wang-lifts"]

        # 2. The fault clears on the lift: noted on the order, which stays open for staff.
        world.clock.advance(FAULT_S)
        await world.evaluated(LIFT, "fault", 1, code="TRAPPED_AT_FLOOR", active=False)
        detail = await world.order(order["id"])
        (recovered,) = _timeline(detail, "recovered")
        assert recovered["text"] == "device reports recovered"
        assert detail["status"] == "assigned"

        # 3. Trapped again after the rule's cooldown: an occurrence of the same order.
        world.clock.advance(COOLDOWN_S - FAULT_S + 5)
        repeated = world.inject(LIFT, TRAPPED_AT_FLOOR, FAULT_S)
        await _visible(world, LIFT, lambda seen: seen and seen[0]["occurrences"] == 2,
                       "the second occurrence")
        repeat_ms = (time.monotonic() - repeated) * 1000
        world.clock.advance(FAULT_S)
        await world.evaluated(LIFT, "fault", 2, code="TRAPPED_AT_FLOOR", active=False)

        # 4. In maintenance mode (register 3 = 2) the same fault opens nothing, past the
        # cooldown; nor on the other lift, in maintenance all along.
        world.set_mode(LIFT, Mode.MAINTENANCE)
        await world.evaluated(LIFT, "telemetry", 1, mode="maintenance")
        world.clock.advance(COOLDOWN_S + 5)
        world.inject(LIFT, TRAPPED_AT_FLOOR, FAULT_S)
        world.inject(SERVICED, TRAPPED_AT_FLOOR, FAULT_S)
        await world.evaluated(LIFT, "fault", 3, code="TRAPPED_AT_FLOOR", active=True)
        await world.evaluated(SERVICED, "fault", 1, code="TRAPPED_AT_FLOOR", active=True)
        orders = await world.orders(LIFT)
        assert [(o["id"], o["occurrences"]) for o in orders] == [(order["id"], 2)]
        assert await world.orders(SERVICED) == []
        everything = await world.get("/api/v1/work-orders")
        assert everything["total"] == 1

        live = await world.outcomes()
        detail = await world.order(order["id"])

    # 5. `hub rules replay` on what the worker recorded: the outcomes of the live run.
    replayed = await _replay(world.record_file)
    raised = [line for line in replayed if " RaiseFault " in line]
    cleared = [line for line in replayed if " ClearFault " in line]
    print(f"\ntrapped passenger: 1 order (P1, assigned to account "
          f"{world.accounts['wang-lifts']}), {detail['occurrences']} occurrences, "
          f"{len(_timeline(detail, 'recovered'))} recoveries noted, 0 orders in maintenance "
          f"mode; Modbus fault to order in the API {latency_ms:.0f} ms (the API showed it "
          f"{opened_s:.2f} s after the first look), the repeat {repeat_ms:.0f} ms; `hub rules "
          f"replay` of the {len(world.record_file.read_text().splitlines())} events recorded: "
          f"{len(raised)} RaiseFault, {len(cleared)} ClearFault, {len(replayed)} outcomes, "
          f"as live ({len(live)})")
    assert replayed == [row.line for row in live]
    assert {row.status for row in live if row.command in ("RaiseFault", "ClearFault")} == {
        "done"}
    assert len(raised) == detail["occurrences"] == 2
    assert all("elevator.trapped@1 RaiseFault" in line and "fault=TRAPPED_AT_FLOOR" in line
               and f"device_id={lift_id} " in line + " " and "priority=P1" in line
               for line in raised)
    assert len(cleared) == len(_timeline(detail, "recovered")) == 2
    assert all("elevator.fault-cleared@1 ClearFault fault=TRAPPED_AT_FLOOR" in line
               for line in cleared)



def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
