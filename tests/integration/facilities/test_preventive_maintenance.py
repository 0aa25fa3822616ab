"""A plan "every 15 days or every 5,000 trips" opens its order on whichever comes first, with
the simulated lift's trip counter driving it; lead time, next due from schedule or from
completion, overdue escalation once, reopening. Time is passed in, never slept."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from hub.domain.accounts import SYSTEM, Role
from hub.domain.maintenance import Anchor, MaintenancePlan, MaintenanceRun, UsageCounter
from hub.domain.outcomes import (
    OrderCancelled,
    OrderReopened,
    OrderResolved,
    OrderSource,
    Priority,
)
from hub.handlers.maintenance import CreatePlan
from hub.handlers.maintenance_schedule import maintenance_forever, run_due_maintenance
from tests.integration.facilities.conftest import T0, Publish, Rig

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
CHECKLIST = ("门锁有效 door locks work", "制动器正常 brake acts freely", "平层准确 levelling")
STEP = timedelta(minutes=10)


async def _plan(rig: Rig, anchor: Anchor = Anchor.SCHEDULE, lead_hours: int = 48,
                every_trips: int | None = 5000) -> int:
    return int(await rig.handle(CreatePlan(
        actor=SYSTEM, asset_id=rig.asset_id, name="半月维保 15 days or 5,000 trips",
        checklist=CHECKLIST, first_due=T0 + 15 * DAY, every_days=15, every_trips=every_trips,
        anchor=anchor, lead_hours=lead_hours)))


async def _get(rig: Rig, plan_id: int) -> MaintenancePlan:
    async with rig.uow() as uow:
        plan = await uow.get(MaintenancePlan, plan_id)
        assert plan is not None
        return plan


async def _drive(rig: Rig, start: datetime, end: datetime, *,
                 trips_per_day: int | None = None) -> datetime | None:
    """The lift runs (or, with `trips_per_day`, its counter shows that pace); its telemetry goes
    to the usage tracker every 10 minutes and the scheduler runs every hour. Returns when an
    order was raised."""
    at, origin, before = start, rig.lift.car.trips, len(rig.orders.raised)
    while at <= end:
        if trips_per_day is None:
            rig.lift.car.advance((at - T0).total_seconds())
        else:
            rig.lift.car.set_counters(trips=origin + int(trips_per_day * (at - start) / DAY))
        await rig.tracker.observe(rig.lift.read(at))
        if (at - T0) % HOUR == timedelta(0):
            await run_due_maintenance(rig.bus, rig.uow, at)
            if len(rig.orders.raised) > before:
                return at
        at += STEP
    return None


async def test_5000_trips_reached_before_15_days_open_the_order(rig: Rig) -> None:
    # A worn controller near the top of its uint32 counter: it wraps on the way.
    rig.lift.car.set_counters(trips=2**32 - 1_500)
    plan_id = await _plan(rig)

    opened_at = await _drive(rig, T0, T0 + 15 * DAY)

    assert opened_at is not None and opened_at < T0 + 13 * DAY  # before the calendar's lead
    [order] = rig.orders.raised
    print(f"\nusage: order opened after {(opened_at - T0) / HOUR:.0f} h of simulated running, "
          f"{order.cause.evidence[0].summary['used']:.0f} trips since the plan began")
    assert (order.fault, order.source, order.priority) == (
        f"plan:{plan_id}", OrderSource.MAINTENANCE_PLAN, Priority.P3)
    assert (order.asset_id, order.site_id, order.building_id, order.category) == (
        rig.asset_id, rig.site_id, rig.building_id, "elevator")
    assert order.checklist == CHECKLIST
    assert order.due_at == opened_at + 48 * HOUR
    evidence = order.cause.evidence[0]
    assert (order.cause.plan_id, evidence.kind, evidence.summary["trigger"]) == (
        plan_id, "counter", "usage")
    assert 5000 <= evidence.summary["used"] < 5000 + 200  # an hour of running at most
    async with rig.uow() as uow:
        [counter] = await uow.find(UsageCounter, device_id=rig.device_id, metric="trips")
        assert (counter.wraps, counter.resets) == (1, 0)
    plan = await _get(rig, plan_id)
    assert (plan.order_id, plan.order_trigger) == (1000, "usage")

    # The order is open: two more days of running and hourly runs raise nothing more.
    assert await _drive(rig, opened_at + STEP, opened_at + 2 * DAY) is None
    assert len(rig.orders.raised) == 1


async def test_15_days_reached_before_5000_trips_open_the_order(rig: Rig) -> None:
    plan_id = await _plan(rig, lead_hours=48)

    opened_at = await _drive(rig, T0, T0 + 16 * DAY, trips_per_day=200)

    # The first hourly run within the 48 h lead of day 15.
    assert opened_at == T0 + 13 * DAY
    [order] = rig.orders.raised
    assert order.due_at == T0 + 15 * DAY
    assert (order.cause.evidence[0].kind, order.cause.evidence[0].summary["trigger"]) == (
        "schedule", "calendar")
    async with rig.uow() as uow:
        [counter] = await uow.find(UsageCounter, device_id=rig.device_id, metric="trips")
    plan = await _get(rig, plan_id)
    used = counter.total - plan.usage_base["trips"]
    print(f"\ncalendar: order opened on day 13 for day 15 with {used:.0f} trips of 5,000 used")
    assert 2500 <= used < 5000


async def test_the_order_opens_exactly_the_lead_time_before_due(rig: Rig) -> None:
    await _plan(rig, lead_hours=72, every_trips=None)
    opens = T0 + 15 * DAY - 72 * HOUR

    first = await run_due_maintenance(rig.bus, rig.uow, opens - timedelta(minutes=1))
    second = await run_due_maintenance(rig.bus, rig.uow, opens)
    third = await run_due_maintenance(rig.bus, rig.uow, opens + timedelta(minutes=1))

    assert (first.opened, len(second.opened), third.opened) == ([], 1, [])
    assert [o.due_at for o in rig.orders.raised] == [T0 + 15 * DAY]


async def _complete(rig: Rig, plan_id: int, order_id: int, at: datetime,
                    done: tuple[bool, ...] = (True, True, False)) -> None:
    await rig.handle(Publish(SYSTEM, OrderResolved(
        order_id=order_id, site_id=rig.site_id, fault=f"plan:{plan_id}",
        source=OrderSource.MAINTENANCE_PLAN, at=at, asset_id=rig.asset_id,
        checklist=tuple(zip(CHECKLIST, done, strict=True)))))


async def test_next_due_from_the_schedule_and_from_completion(rig: Rig) -> None:
    on_grid = await _plan(rig, Anchor.SCHEDULE, every_trips=None)
    from_done = await _plan(rig, Anchor.COMPLETION, every_trips=None)
    await run_due_maintenance(rig.bus, rig.uow, T0 + 13 * DAY)
    assert len(rig.orders.raised) == 2

    late = T0 + 17 * DAY + 3 * HOUR  # both done two days late
    await _complete(rig, on_grid, 1000, late)
    await _complete(rig, from_done, 1001, late)

    assert (await _get(rig, on_grid)).next_due == T0 + 30 * DAY
    assert (await _get(rig, from_done)).next_due == late + 15 * DAY
    async with rig.uow() as uow:
        [run] = await uow.find(MaintenanceRun, plan_id=on_grid)
    assert run.checklist == [[CHECKLIST[0], True], [CHECKLIST[1], True], [CHECKLIST[2], False]]
    assert (run.order_id, run.due_at, run.completed_at, run.next_due) == (
        1000, T0 + 15 * DAY, late, T0 + 30 * DAY)
    # The next cycle opens by itself, the lead time before the new due date.
    rig.orders.open.clear()
    await run_due_maintenance(rig.bus, rig.uow, T0 + 28 * DAY)
    assert [o.due_at for o in rig.orders.raised[2:]] == [T0 + 30 * DAY]


async def test_an_overdue_order_is_escalated_to_managers_once(rig: Rig) -> None:
    plan_id = await _plan(rig, every_trips=None)
    await run_due_maintenance(rig.bus, rig.uow, T0 + 13 * DAY)

    for at in (T0 + 15 * DAY, T0 + 15 * DAY + timedelta(minutes=1), T0 + 15 * DAY + 2 * HOUR,
               T0 + 20 * DAY):
        await run_due_maintenance(rig.bus, rig.uow, at)

    [notice] = rig.orders.notified
    assert (notice.role, notice.site_id, notice.at) == (
        Role.MANAGER, rig.site_id, T0 + 15 * DAY + timedelta(minutes=1))
    assert notice.cause.plan_id == plan_id and "1号楼电梯" in notice.title
    # Done at last: the next cycle's order, late again, is escalated again (once).
    await _complete(rig, plan_id, 1000, T0 + 21 * DAY)
    rig.orders.open.clear()
    for at in (T0 + 28 * DAY, T0 + 30 * DAY + HOUR, T0 + 31 * DAY):
        await run_due_maintenance(rig.bus, rig.uow, at)
    assert [n.at for n in rig.orders.notified] == [T0 + 15 * DAY + timedelta(minutes=1),
                                                  T0 + 30 * DAY + HOUR]


async def test_a_reopened_order_waits_again_and_counts_on_its_second_resolution(
        rig: Rig) -> None:
    plan_id = await _plan(rig, every_trips=None)
    await run_due_maintenance(rig.bus, rig.uow, T0 + 13 * DAY)
    await _complete(rig, plan_id, 1000, T0 + 14 * DAY)
    assert (await _get(rig, plan_id)).next_due == T0 + 30 * DAY

    await rig.handle(Publish(SYSTEM, OrderReopened(
        order_id=1000, site_id=rig.site_id, fault=f"plan:{plan_id}", at=T0 + 14 * DAY + HOUR,
        asset_id=rig.asset_id)))
    plan = await _get(rig, plan_id)
    assert (plan.next_due, plan.order_id, plan.order_due_at) == (T0 + 15 * DAY, 1000,
                                                                 T0 + 15 * DAY)
    await run_due_maintenance(rig.bus, rig.uow, T0 + 14 * DAY + 2 * HOUR)
    assert len(rig.orders.raised) == 1  # nothing new: the reopened order is the one

    await _complete(rig, plan_id, 1000, T0 + 16 * DAY, (True, True, True))
    async with rig.uow() as uow:
        runs = sorted(await uow.find(MaintenanceRun, plan_id=plan_id), key=lambda r: r.id or 0)
    assert [(r.reopened, r.done) for r in runs] == [(True, 2), (False, 3)]
    assert (await _get(rig, plan_id)).next_due == T0 + 30 * DAY


async def test_an_order_the_work_orders_refused_is_asked_for_again_later(rig: Rig) -> None:
    plan_id = await _plan(rig, every_trips=None)
    rig.orders.failing = True
    failed = await run_due_maintenance(rig.bus, rig.uow, T0 + 13 * DAY)
    rig.orders.failing = False
    soon = await run_due_maintenance(rig.bus, rig.uow, T0 + 13 * DAY + timedelta(minutes=5))
    later = await run_due_maintenance(rig.bus, rig.uow, T0 + 13 * DAY + timedelta(minutes=10))

    assert (failed.failed, soon.opened, soon.asked_again, later.asked_again) == (
        [plan_id], [], [], [plan_id])
    [order] = rig.orders.raised
    assert (order.due_at, order.at) == (T0 + 15 * DAY, T0 + 13 * DAY + timedelta(minutes=10))
    assert (await _get(rig, plan_id)).order_id == 1000


async def test_two_schedulers_at_once_ask_for_one_order_and_tell_managers_once(
        rig: Rig) -> None:
    """Two workers' runs at the same minute (a lease lapsed, a clock skewed): whichever
    commits second loses on the plan's version and does nothing."""
    await _plan(rig, every_trips=None)

    opened = await asyncio.gather(*(run_due_maintenance(rig.bus, rig.uow, T0 + 13 * DAY)
                                    for _ in range(2)))
    late = await asyncio.gather(*(run_due_maintenance(rig.bus, rig.uow, T0 + 16 * DAY)
                                  for _ in range(2)))

    print(f"\ntwo runs at once: opened {[r.opened for r in opened]}, "
          f"escalated {[r.escalated for r in late]}, "
          f"failed {[r.failed for r in (*opened, *late)]}")
    assert len(rig.orders.raised) == 1
    assert len(rig.orders.notified) == 1


async def test_the_scheduler_job_runs_with_the_clock_between_pauses(rig: Rig) -> None:
    """The loop a supervisor runs: each pause is the fake's, so nothing sleeps."""
    await _plan(rig, every_trips=None)
    times = iter([T0, T0 + 13 * DAY, T0 + 16 * DAY])
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await maintenance_forever(rig.bus, rig.uow, lambda: next(times), sleep=pause)

    assert pauses == [60.0, 60.0, 60.0]
    assert (len(rig.orders.raised), len(rig.orders.notified)) == (1, 1)


async def test_a_cancelled_plan_order_skips_that_service_and_the_next_opens_on_time(
        rig: Rig) -> None:
    plan_id = await _plan(rig, every_trips=None)
    await run_due_maintenance(rig.bus, rig.uow, T0 + 13 * DAY)
    assert len(rig.orders.raised) == 1
    await rig.handle(Publish(SYSTEM, OrderCancelled(
        order_id=1000, site_id=rig.site_id, fault=f"plan:{plan_id}",
        source=OrderSource.MAINTENANCE_PLAN, at=T0 + 14 * DAY, asset_id=rig.asset_id)))
    plan = await _get(rig, plan_id)
    assert (plan.in_flight, plan.next_due) == (False, T0 + 30 * DAY)
    rig.orders.open.clear()
    await run_due_maintenance(rig.bus, rig.uow, T0 + 14 * DAY + HOUR)
    assert len(rig.orders.raised) == 1  # not asked for again at once
    await run_due_maintenance(rig.bus, rig.uow, T0 + 28 * DAY)
    assert [o.due_at for o in rig.orders.raised[1:]] == [T0 + 30 * DAY]
    async with rig.uow() as uow:
        assert await uow.find(MaintenanceRun, plan_id=plan_id) == []  # skipped, not done
