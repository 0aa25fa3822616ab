"""RELIABILITY R1/R2 and the fault loop: repeats add occurrences, a clear is noted, a relapse
within the window reopens, and 50 identical faults at once from two workers open one order."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.accounts import SYSTEM
from hub.domain.errors import NotFound
from hub.domain.outcomes import Cause, ClearFault, Priority
from hub.domain.work_orders import OrderPolicy, Status, WorkOrder
from hub.handlers.work_orders import Action, ActOnOrder, AssignOrder, ResolveOrder
from hub.store.db import make_engine
from hub.store.work_order_tables import work_order_occurrences, work_orders
from tests.integration.work_orders.conftest import (
    Clock,
    Estate,
    make_bus,
    trapped,
    uow_factory,
)


async def _counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        orders = await connection.scalar(select(func.count()).select_from(work_orders))
        open_ = await connection.scalar(select(func.count()).select_from(work_orders).where(
            work_orders.c.open_key.is_not(None)))
        occurrences = await connection.scalar(
            select(func.count()).select_from(work_order_occurrences))
    return int(orders or 0), int(open_ or 0), int(occurrences or 0)


async def _order(engine: AsyncEngine, order_id: int) -> WorkOrder:
    async with uow_factory(engine)() as uow:
        order = await uow.get(WorkOrder, order_id)
        assert order is not None
        return order


async def test_the_same_fault_twice_is_one_order_with_two_occurrences(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    bus = make_bus(engine, clock)
    first = await bus.handle(trapped(estate, clock.now, seq=1))
    second = await bus.handle(trapped(estate, clock.advance(seconds=2), seq=2))
    assert first == second
    assert await _counts(engine) == (1, 1, 2)
    order = await _order(engine, first)
    assert [e.kind for e in order.timeline] == ["opened", "dispatch", "occurrence"]
    assert order.timeline[0].rule == "rule:elevator-trapped@3"
    assert order.timeline[2].data["cause"]["evidence"][0]["summary"]["seq"] == 2
    print(f"R1: orders=1 occurrences={len(order.occurrences)}")


async def test_a_clear_is_noted_and_the_order_stays_open(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    bus = make_bus(engine, clock)
    order_id = await bus.handle(trapped(estate, clock.now))
    noted = await bus.handle(ClearFault(fault="TRAPPED_BETWEEN_FLOORS", at=clock.advance(
        minutes=3), cause=Cause(rule_id="elevator-trapped", rule_version="3"),
        device_id=estate.lift_b1, actor=SYSTEM))
    order = await _order(engine, order_id)
    assert noted == order_id
    assert order.is_open
    assert order.timeline[-1].text == "device reports recovered"
    assert await bus.handle(ClearFault(fault="OVERSPEED", at=clock.now, cause=Cause(),
                                       device_id=estate.lift_b1, actor=SYSTEM)) is None


async def _resolve(engine: AsyncEngine, clock: Clock, estate: Estate, order_id: int) -> None:
    from hub.domain.accounts import Actor, Role

    bus = make_bus(engine, clock)
    order = await _order(engine, order_id)
    tech = order.assignee_id
    if tech is None:
        tech = estate.staff["tech-a"]
        await bus.handle(AssignOrder(SYSTEM, order_id, tech))
    me = Actor(tech, Role.MAINTENANCE, whole_sites=frozenset({estate.site}))
    await bus.handle(ActOnOrder(me, order_id, Action.ACCEPT))
    await bus.handle(ActOnOrder(me, order_id, Action.START))
    await bus.handle(ResolveOrder(me, order_id, note="rescued, brake adjusted"))


async def test_a_relapse_within_the_window_reopens_the_order(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    policy = OrderPolicy(relapse_window=timedelta(hours=2))
    bus = make_bus(engine, clock, policy)
    order_id = await bus.handle(trapped(estate, clock.now))
    clock.advance(minutes=20)
    await _resolve(engine, clock, estate, order_id)
    clock.advance(minutes=90)
    again = await bus.handle(trapped(estate, clock.now, seq=9))
    order = await _order(engine, again)
    assert again == order_id
    assert (order.status, order.reopen_count, len(order.occurrences)) == (Status.ASSIGNED, 1, 2)
    assert order.assignee_id == estate.staff["tech-a"]  # back to who fixed it
    assert order.open_key == order.fault_key
    assert "came back 90 min after" in next(e.text for e in order.timeline
                                            if e.kind == "reopened")
    await _resolve(engine, clock, estate, order_id)
    clock.advance(hours=3)  # outside the window: a new order
    third = await bus.handle(trapped(estate, clock.now, seq=10))
    assert third != order_id
    assert await _counts(engine) == (2, 1, 3)


async def test_fifty_identical_faults_at_once_from_two_workers_open_one_order(
        database_url: str, estate: Estate, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    """RELIABILITY R2: two engines (two workers' pools), 25 deliveries each, all at once."""
    caplog.set_level(logging.INFO, logger="hub.handlers.work_order_faults")
    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        published: list[object] = []
        buses = [make_bus(e, clock, published=published) for e in engines]
        results = await asyncio.gather(*(
            buses[n % 2].handle(trapped(estate, clock.now, seq=n)) for n in range(50)))
        orders, open_, occurrences = await _counts(engines[0])
    finally:
        for e in engines:
            await e.dispose()
    backend = database_url.split(":", 1)[0]
    retried = sum("concurrent change" in r.getMessage() for r in caplog.records)
    print(f"R2 on {backend}: deliveries=50 orders={orders} open={open_} "
          f"occurrences={occurrences} distinct_ids={len(set(results))} "
          f"retried_after_conflict={retried} OrderOpened_published={len(published)}")
    assert (orders, open_, occurrences) == (1, 1, 50)
    assert [type(e).__name__ for e in published] == ["OrderOpened"]  # losers published none
    assert len(set(results)) == 1


async def test_an_asset_fault_is_placed_in_the_assets_building_and_keyed_by_asset(
        engine: AsyncEngine, estate: Estate, clock: Clock) -> None:
    from hub.domain.registry import Asset

    async with uow_factory(engine)() as uow:
        pump = Asset(estate.site, "pump-1", "生活水泵 water pump", "pump", building_id=estate.b2)
        uow.add(pump)
        await uow.commit()
    bus = make_bus(engine, clock)
    fault = replace(trapped(estate, clock.now), device_id=None, asset_id=pump.id,
                    fault="LOW_PRESSURE", category="pump", priority=Priority.P2)
    first = await bus.handle(fault)
    again = await bus.handle(replace(fault, at=clock.advance(minutes=1)))
    order = await _order(engine, first)
    assert (again, order.building_id, order.open_key) == (
        first, estate.b2, f"asset:{pump.id}:LOW_PRESSURE")
    for wrong in (replace(fault, site_id=estate.site + 100),
                  replace(fault, site_id=estate.site + 100, fault="DRY_RUN")):
        with pytest.raises(NotFound, match=f"asset {pump.id} not found"):
            await bus.handle(wrong)


async def test_twenty_identical_relapses_at_once_reopen_the_order_once(
        database_url: str, estate: Estate, clock: Clock) -> None:
    """The version column lets one twin reopen; the others find it open and add to it."""
    engines = [make_engine(database_url), make_engine(database_url)]
    policy = OrderPolicy(relapse_window=timedelta(hours=2))
    try:
        order_id = await make_bus(engines[0], clock, policy).handle(trapped(estate, clock.now))
        await _resolve(engines[0], clock, estate, order_id)
        clock.advance(minutes=10)
        published: list[object] = []
        buses = [make_bus(e, clock, policy, published) for e in engines]
        results = await asyncio.gather(*(
            buses[n % 2].handle(trapped(estate, clock.now, seq=100 + n)) for n in range(20)))
        order = await _order(engines[0], order_id)
        counts = await _counts(engines[0])
    finally:
        for e in engines:
            await e.dispose()
    print(f"relapse x20 on {database_url.split(':', 1)[0]}: reopen_count={order.reopen_count} "
          f"occurrences={len(order.occurrences)} published={len(published)}")
    assert set(results) == {order_id}
    assert (order.reopen_count, len(order.occurrences), counts) == (1, 21, (1, 1, 21))
    assert [type(e).__name__ for e in published] == ["OrderReopened"]
