"""Round-robin dispatch from the persisted roster and turn, and the SLA job at set times."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.accounts import SYSTEM, Role
from hub.domain.outcomes import Notify
from hub.domain.work_orders import DEFAULT_POLICY, AlertKind, WorkOrder
from hub.domain.work_orders import Clock as SlaClock
from hub.handlers.work_order_sla import run_sla_check
from hub.handlers.work_orders import Action, ActOnOrder, SetRoster
from tests.integration.work_orders.conftest import (
    Clock,
    Estate,
    make_bus,
    trapped,
    uow_factory,
)


async def _roster(engine: AsyncEngine, clock: Clock, e: Estate) -> None:
    bus = make_bus(engine, clock)
    for name, on_duty in (("tech-a", True), ("tech-b", True), ("tech-c", False)):
        await bus.handle(SetRoster(SYSTEM, e.site, e.staff[name], ("elevator",), on_duty))
    await bus.handle(SetRoster(SYSTEM, e.site, e.staff["boss"], ("gate",), True))


async def _assignees(engine: AsyncEngine, ids: list[int]) -> list[int | None]:
    async with uow_factory(engine)() as uow:
        return [(await uow.get(WorkOrder, i)).assignee_id for i in ids]  # type: ignore[union-attr]


async def test_round_robin_is_fair_and_survives_a_restart(
        engine: AsyncEngine, database_url: str, estate: Estate, clock: Clock) -> None:
    await _roster(engine, clock, estate)
    bus = make_bus(engine, clock)
    ids = [await bus.handle(replace(trapped(estate, clock.advance(minutes=1)), fault=f"F{n}"))
           for n in range(9)]
    first = await _assignees(engine, ids)
    a, b = estate.staff["tech-a"], estate.staff["tech-b"]
    assert first == [a, b] * 4 + [a]
    # A new worker (its own engine and bus) continues the turn where the stored one left it.
    from hub.store.db import make_engine

    other = make_engine(database_url)
    try:
        later = await make_bus(other, clock).handle(
            replace(trapped(estate, clock.advance(minutes=1)), fault="F9"))
        assert await _assignees(other, [later]) == [b]
    finally:
        await other.dispose()
    # tech-c comes on duty: three in turn.
    await make_bus(engine, clock).handle(
        SetRoster(SYSTEM, estate.site, estate.staff["tech-c"], ("elevator",), True))
    more = [await bus.handle(replace(trapped(estate, clock.advance(minutes=1)), fault=f"G{n}"))
            for n in range(6)]
    counts = Counter(await _assignees(engine, more))
    print(f"round-robin: first 10 {Counter([*first, b])}, next 6 {dict(counts)}")
    assert set(counts.values()) == {2}


async def test_sla_warns_then_escalates_once_and_notifies_the_manager(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    bus = make_bus(engine, clock)
    order_id = await bus.handle(trapped(estate, clock.now))
    sent: list[Notify] = []

    async def notify(command: Notify) -> None:
        sent.append(command)

    new_uow = uow_factory(engine)
    t0 = clock.now
    steps = []
    for minutes in (1, 2.5, 3, 5, 5, 6):
        alerts = await run_sla_check(new_uow, t0 + timedelta(minutes=minutes),
                                     policy=DEFAULT_POLICY, notify=notify)
        steps.append((minutes, [(a.clock, a.kind) for a in alerts]))
    assert steps == [(1, []), (2.5, [(SlaClock.RESPOND, AlertKind.WARNING)]), (3, []),
                     (5, [(SlaClock.RESPOND, AlertKind.ESCALATION)]), (5, []), (6, [])]
    assert len(sent) == 1
    assert (sent[0].role, sent[0].site_id) == (Role.MANAGER, estate.site)
    assert f"work order {order_id}" in sent[0].body
    async with new_uow() as uow:
        order = await uow.get(WorkOrder, order_id)
        assert order is not None
        kinds = [e.kind for e in order.timeline]
    assert kinds.count("sla_warning") == 1 and kinds.count("sla_escalation") == 1


async def test_without_a_notification_handler_an_escalation_is_recorded_on_the_timeline(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    bus = make_bus(engine, clock)
    order_id = await bus.handle(trapped(estate, clock.now))
    await run_sla_check(uow_factory(engine), clock.now + timedelta(minutes=6))
    async with uow_factory(engine)() as uow:
        order = await uow.get(WorkOrder, order_id)
        assert order is not None
        text = next(e.text for e in order.timeline if e.kind == "sla_escalation")
    assert "no notification service is running" in text


async def test_an_acknowledged_order_does_not_escalate(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    await _roster(engine, clock, estate)
    bus = make_bus(engine, clock)
    order_id = await bus.handle(trapped(estate, clock.now))
    tech = estate.staff["tech-a"]
    from hub.domain.accounts import Actor

    clock.advance(minutes=3)
    await bus.handle(ActOnOrder(Actor(tech, Role.MAINTENANCE, whole_sites=frozenset(
        {estate.site})), order_id, Action.ACCEPT))
    alerts = await run_sla_check(uow_factory(engine), clock.now + timedelta(minutes=10))
    assert alerts == []
