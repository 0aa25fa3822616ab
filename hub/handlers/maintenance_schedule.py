"""The maintenance scheduler: run every minute (by the caller), with the time passed in.

Each run opens the orders of plans that fell due (their calendar date within the lead time,
or a usage counter at its limit: whichever comes first), asks again for orders requested but
never confirmed opened, and tells the site's managers, once, of planned orders still open
past their due time. Each plan is handled in its own transaction; one failing is logged and
does not stop the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from hub.bus import MessageBus
from hub.domain.accounts import Role
from hub.domain.maintenance import (
    Due,
    MaintenancePlan,
    Trigger,
    adopt_baselines,
    due,
    overdue,
    request,
    request_stale,
)
from hub.domain.outcomes import Cause, Evidence, Notify, OrderSource, Priority, RaiseFault
from hub.domain.registry import Asset
from hub.handlers.maintenance_usage import asset_totals
from hub.ports import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class SchedulerRun:
    """What one run did, by plan id."""

    opened: list[int] = field(default_factory=list)
    asked_again: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


async def run_due_maintenance(bus: MessageBus, uow_factory: Callable[[], UnitOfWork],
                              now: datetime) -> SchedulerRun:
    done = SchedulerRun()
    async with uow_factory() as uow:
        plan_ids = [p.id for p in await uow.find(MaintenancePlan, active=True) if p.id]
    for plan_id in sorted(plan_ids):
        try:
            await _one_plan(bus, uow_factory, plan_id, now, done)
        except Exception:  # one plan's failure must not stop the others (logged, retried)
            log.exception("maintenance plan %s failed at %s", plan_id, now.isoformat())
            done.failed.append(plan_id)
    return done


async def maintenance_forever(bus: MessageBus, uow_factory: Callable[[], UnitOfWork],
                              clock: Callable[[], datetime], *, interval_s: float = 60.0,
                              sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
    """A supervised job for whoever runs the scheduler: a run every `interval_s` with the
    clock's time. Safe on several workers at once (plans are versioned), if wasteful."""
    while True:
        await run_due_maintenance(bus, uow_factory, clock())
        await sleep(interval_s)


async def _one_plan(bus: MessageBus, uow_factory: Callable[[], UnitOfWork], plan_id: int,
                    now: datetime, done: SchedulerRun) -> None:
    async with uow_factory() as uow:
        plan = await uow.get(MaintenancePlan, plan_id)
        if plan is None or not plan.active:
            return
        asset = await uow.get(Asset, plan.asset_id)
        assert asset is not None
        totals = await asset_totals(uow, plan.asset_id) if plan.usage_limits() else {}
        adopt_baselines(plan, totals)
        again = request_stale(plan, now)
        found = due(plan, totals, now)
        if found is not None:
            request(plan, found, now)
        late = overdue(plan, now)
        if late:
            plan.escalated_at = now  # claimed before telling, so it is told once
        order = _raise(plan, asset, found, now) if found or again else None
        notice = _notify(plan, asset, now) if late else None
        await uow.commit()
    try:
        if order is not None:
            # Not sent (no handler, a failure): the request stays, and is made again after
            # REQUEST_RETRY; the work-order module keeps one open order per (asset, fault).
            await bus.handle(order)
            (done.opened if found else done.asked_again).append(plan_id)
    finally:
        if notice is not None:
            try:
                await bus.handle(notice)
            except Exception:
                await _unclaim(uow_factory, plan_id)  # told no one: try again next run
                raise
            done.escalated.append(plan_id)


def _raise(plan: MaintenancePlan, asset: Asset, found: Due | None,
           now: datetime) -> RaiseFault:
    trigger = found.trigger if found else plan.order_trigger or Trigger.CALENDAR
    detail = {k: v.isoformat() if isinstance(v, datetime) else v
              for k, v in (found.detail if found else {}).items()}
    kind = "counter" if trigger == Trigger.USAGE else "schedule"
    return RaiseFault(
        site_id=plan.site_id, fault=plan.fault, category=plan.category, priority=Priority.P3,
        title=f"{plan.name} — {asset.name}", at=now,
        cause=Cause(plan_id=plan.id, evidence=(Evidence(kind=kind, at=now, summary={
            "trigger": trigger.value, **detail}),)),
        asset_id=asset.id, building_id=asset.building_id,
        source=OrderSource.MAINTENANCE_PLAN, checklist=tuple(plan.checklist),
        due_at=plan.order_due_at)


def _notify(plan: MaintenancePlan, asset: Asset, now: datetime) -> Notify:
    assert plan.order_due_at is not None
    due_at = plan.order_due_at.isoformat(timespec="minutes")
    return Notify(
        site_id=plan.site_id, role=Role.MANAGER,
        title=f"维保逾期 Maintenance overdue: {asset.name}",
        body=f"{plan.name}: due {due_at}, order {plan.order_id or 'not confirmed'} still open",
        at=now, cause=Cause(plan_id=plan.id, evidence=(Evidence(
            kind="schedule", at=now, summary={"due_at": due_at, "order_id": plan.order_id}),)))


async def _unclaim(uow_factory: Callable[[], UnitOfWork], plan_id: int) -> None:
    async with uow_factory() as uow:
        plan = await uow.get(MaintenancePlan, plan_id)
        if plan is not None:
            plan.escalated_at = None
            await uow.commit()
