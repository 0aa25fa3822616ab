"""Rules to work orders through the real bus and the work-order handlers: a trapped passenger
opens exactly one P1 order carrying the rule and its evidence; the repeat adds an occurrence;
the clear is noted; the same fault in maintenance mode opens nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.outcomes import Priority
from hub.domain.work_orders.order import WorkOrder
from hub.rules.events import DeviceRef, RuleEvent
from hub.rules.loader import load_dir
from hub.rules.runner import RulesRunner
from hub.rules.store import SqlRuleStore
from hub.store.rule_tables import rule_outcomes
from tests.integration.work_orders.conftest import T0, Clock, Estate, make_bus, seed, uow_factory
from tests.unit.test_rules_engine import PACKS


async def _runner(engine: AsyncEngine) -> tuple[RulesRunner, Estate, DeviceRef]:
    estate = await seed(engine)
    clock = Clock()
    bus = make_bus(engine, clock)
    runner = RulesRunner(load_dir(PACKS), SqlRuleStore(engine), bus.handle, clock=clock)
    await runner.start()
    lift = DeviceRef(estate.lift_b1, estate.site, "lakeside", "lift-b1", "elevator",
                     building_id=estate.b1)
    return runner, estate, lift


def trapped(lift: DeviceRef, seconds: float, *, active: bool = True) -> RuleEvent:
    return RuleEvent("fault", T0 + timedelta(seconds=seconds), lift,
                     {"code": "TRAPPED_AT_FLOOR", "active": active})


def mode(lift: DeviceRef, seconds: float, value: int) -> RuleEvent:
    return RuleEvent("telemetry", T0 + timedelta(seconds=seconds), lift, {"mode": value})


async def test_a_trapped_passenger_opens_one_p1_order_with_the_rule_and_its_evidence(
        engine: AsyncEngine) -> None:
    runner, estate, lift = await _runner(engine)
    for event in (mode(lift, 0, 0), trapped(lift, 1), trapped(lift, 5),  # the same minute
                  trapped(lift, 200),  # after the cooldown: a repeat
                  trapped(lift, 260, active=False)):
        await runner.process(event)
    await runner.flush(force=True)

    async with engine.connect() as connection:
        rows = list(await connection.execute(
            select(rule_outcomes).order_by(rule_outcomes.c.id)))
    raised = [r for r in rows if r.command == "RaiseFault"]
    assert [(r.status, r.result) for r in raised] == [("done", raised[0].result)] * 2
    order_id = int(raised[0].result.removeprefix("work order "))
    # Notifications are another module's: not in this bus, recorded as skipped.
    assert {r.status for r in rows if r.command == "Notify"} == {"skipped"}
    clear = next(r for r in rows if r.command == "ClearFault")
    assert (clear.status, clear.result) == ("done", f"work order {order_id}")

    async with uow_factory(engine)() as uow:
        order = await uow.get(WorkOrder, order_id)
        assert order is not None
        assert (order.priority, order.device_id, order.fault) == (
            Priority.P1, estate.lift_b1, "TRAPPED_AT_FLOOR")
        assert order.cause["rule_id"] == "elevator.trapped"
        assert order.cause["rule_version"] == "1"
        assert order.cause["evidence"][0]["summary"] == {"code": "TRAPPED_AT_FLOOR",
                                                         "active": True}
        assert len(order.occurrences) == 2
        (only,) = await uow.find(WorkOrder, device_id=estate.lift_b1)
        assert only.id == order_id


async def test_the_same_fault_in_maintenance_mode_opens_nothing(engine: AsyncEngine) -> None:
    runner, estate, lift = await _runner(engine)
    for event in (mode(lift, 0, 2), trapped(lift, 1), trapped(lift, 300)):
        await runner.process(event)
    await runner.flush(force=True)
    async with uow_factory(engine)() as uow:
        assert await uow.find_one(WorkOrder, device_id=estate.lift_b1) is None
    async with engine.connect() as connection:
        assert list(await connection.execute(select(rule_outcomes))) == []
