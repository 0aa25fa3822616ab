"""What the module publishes after its commit (OrderOpened, OrderResolved with the checklist,
OrderReopened) and the notes rules leave on an open order (AnnotateOrder)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.bootstrap import _inject
from hub.bus import MessageBus
from hub.domain.accounts import SYSTEM, Actor, Role
from hub.domain.outcomes import (
    AnnotateOrder,
    Cause,
    OrderCancelled,
    OrderOpened,
    OrderReopened,
    OrderResolved,
    OrderSource,
    Priority,
    RaiseFault,
)
from hub.domain.work_orders import DEFAULT_POLICY, WorkOrder
from hub.handlers.work_orders import COMMAND_HANDLERS, Action, ActOnOrder, ResolveOrder
from hub.ports import UnitOfWork
from tests.integration.work_orders.conftest import Clock, Estate, trapped, uow_factory


def _bus(engine: AsyncEngine, clock: Clock, seen: list[object]) -> MessageBus:
    async def record(event: object, uow: UnitOfWork) -> None:
        seen.append(event)

    deps = {"clock": clock, "order_policy": replace(DEFAULT_POLICY,
                                                    relapse_window=timedelta(hours=1))}
    return MessageBus(uow_factory(engine),
                      {k: _inject(h, deps) for k, h in COMMAND_HANDLERS.items()},
                      {OrderOpened: [record], OrderResolved: [record], OrderReopened: [record],
                       OrderCancelled: [record]})


async def test_a_planned_order_publishes_opened_resolved_with_its_checklist_and_reopened(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    seen: list[object] = []
    bus = _bus(engine, clock, seen)
    plan = RaiseFault(site_id=estate.site, fault="plan:7", category="elevator",
                      priority=Priority.P3, title="半月保养 half-monthly maintenance",
                      at=clock.now, cause=Cause(plan_id=7), device_id=estate.lift_b1,
                      source=OrderSource.MAINTENANCE_PLAN, actor=SYSTEM,
                      checklist=("lubricate guide rails", "test door sensors"),
                      due_at=clock.now + timedelta(days=3))
    order_id = await bus.handle(plan)
    assert seen == [OrderOpened(order_id=order_id, site_id=estate.site, fault="plan:7",
                                source=OrderSource.MAINTENANCE_PLAN, priority=Priority.P3,
                                at=clock.now, device_id=estate.lift_b1,
                                building_id=estate.b1)]
    me = Actor(estate.staff["tech-a"], Role.MAINTENANCE, whole_sites=frozenset({estate.site}))
    await bus.handle(ActOnOrder(me, order_id, Action.CLAIM))
    resolved_at = clock.advance(hours=2)
    await bus.handle(ResolveOrder(me, order_id, {"lubricate guide rails": True}))
    assert seen[-1] == OrderResolved(
        order_id=order_id, site_id=estate.site, fault="plan:7",
        source=OrderSource.MAINTENANCE_PLAN, at=resolved_at, device_id=estate.lift_b1,
        checklist=(("lubricate guide rails", True), ("test door sensors", False)))
    await bus.handle(replace(plan, at=clock.advance(minutes=30)))
    assert seen[-1] == OrderReopened(order_id=order_id, site_id=estate.site, fault="plan:7",
                                     at=clock.now, device_id=estate.lift_b1)
    assert len(seen) == 3


async def test_a_rule_annotates_the_open_order_with_its_evidence(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    bus = _bus(engine, clock, [])
    order_id = await bus.handle(trapped(estate, clock.now))
    noted = await bus.handle(AnnotateOrder(
        fault="TRAPPED_BETWEEN_FLOORS", text="car occupied for 12 minutes", at=clock.now,
        cause=Cause(rule_id="elevator-occupied", rule_version="1"),
        device_id=estate.lift_b1, actor=SYSTEM))
    missing = await bus.handle(AnnotateOrder(
        fault="OVERSPEED", text="nothing open", at=clock.now, cause=Cause(),
        device_id=estate.lift_b1, actor=SYSTEM))
    async with uow_factory(engine)() as uow:
        order = await uow.get(WorkOrder, order_id)
        assert order is not None
        last = order.timeline[-1]
    assert (noted, missing) == (order_id, None)
    assert (last.kind, last.text, last.rule) == ("note", "car occupied for 12 minutes",
                                                 "rule:elevator-occupied@1")


async def test_a_cancelled_order_publishes_cancelled(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    seen: list[object] = []
    bus = _bus(engine, clock, seen)
    order_id = await bus.handle(trapped(estate, clock.now))
    manager = Actor(estate.staff["boss"], Role.MANAGER, whole_sites=frozenset({estate.site}))
    await bus.handle(ActOnOrder(manager, order_id, Action.CANCEL, reason="a false alarm"))
    assert seen[-1] == OrderCancelled(
        order_id=order_id, site_id=estate.site, fault="TRAPPED_BETWEEN_FLOORS",
        source=OrderSource.DEVICE_FAULT, at=clock.now, device_id=estate.lift_b1)
