"""Preventive maintenance: plans with checklists, when they fall due (calendar, usage, or
whichever comes first), and what completing one schedules next.

A plan belongs to one asset. Its calendar trigger is every N days or N months, the next due
date counted from the scheduled date (a fixed grid, as TSG T5002's "every 15 days") or from
the completion of the last service; its usage triggers are counts of the asset's live counters
(elevator trips, motor run hours) since the last service. Whichever is reached first opens the
order. Pure: time and counter readings come in as arguments.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hub.domain.errors import Conflict, Invalid

MAX_CHECKLIST = 100
MAX_ITEM = 200
MAX_LEAD_HOURS = 24 * 90
# An order asked for but not heard of (its OrderOpened never came) is asked for again after
# this long; the work-order module keeps one open order per (asset, fault), so asking twice
# adds an occurrence at worst.
REQUEST_RETRY = timedelta(minutes=10)
# Counters of elevator-std are uint32 registers (DESIGN.md §3).
COUNTER_MODULUS = 1 << 32
TRIPS, RUN_SECONDS = "trips", "run_seconds"
COUNTER_METRICS = frozenset({TRIPS, RUN_SECONDS})


class Anchor(StrEnum):
    """Where the next due date is counted from after a service."""

    SCHEDULE = "schedule"
    COMPLETION = "completion"


class Trigger(StrEnum):
    CALENDAR = "calendar"
    USAGE = "usage"


def add_months(at: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day when it is shorter (Jan 31 + 1
    month = Feb 28 or 29)."""
    index = at.month - 1 + months
    year, month = at.year + index // 12, index % 12 + 1
    return at.replace(year=year, month=month,
                      day=min(at.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Due:
    """Why a plan's order should open now, and when the work is due."""

    trigger: Trigger
    due_at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class MaintenanceRun:
    """One service of a plan: the order, what was ticked off, and what it scheduled."""

    plan_id: int
    asset_id: int
    order_id: int
    trigger: Trigger
    due_at: datetime
    completed_at: datetime
    checklist: list[list[Any]]  # [item, done] pairs, as stored
    next_due: datetime | None
    previous_due: datetime | None  # the plan's next due before this service moved it
    reopened: bool = False
    id: int | None = None

    @property
    def done(self) -> int:
        return sum(1 for _, ok in self.checklist if ok)


@dataclass(eq=False)
class MaintenancePlan:
    site_id: int
    asset_id: int
    name: str
    category: str  # the work orders' dispatch category, e.g. "elevator"
    checklist: list[str]
    next_due: datetime | None = None  # calendar trigger: the next scheduled service
    every_days: int | None = None
    every_months: int | None = None
    anchor: Anchor = Anchor.SCHEDULE
    every_trips: int | None = None
    every_run_hours: int | None = None
    lead_hours: int = 72
    template: str | None = None
    active: bool = True
    usage_base: dict[str, float] = field(default_factory=dict)  # counter totals at last service
    # The order in flight, from the request until its resolution.
    requested_at: datetime | None = None
    order_id: int | None = None
    order_due_at: datetime | None = None
    order_trigger: Trigger | None = None
    escalated_at: datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        check_plan(self)

    @property
    def fault(self) -> str:
        """The fault key of its orders: one open order per (asset, fault) in work orders."""
        return f"plan:{self.id}"

    @property
    def in_flight(self) -> bool:
        return self.requested_at is not None or self.order_id is not None

    @property
    def lead(self) -> timedelta:
        return timedelta(hours=self.lead_hours)

    def usage_limits(self) -> dict[str, float]:
        """Counter metric -> how much of it between services."""
        limits: dict[str, float] = {}
        if self.every_trips is not None:
            limits[TRIPS] = float(self.every_trips)
        if self.every_run_hours is not None:
            limits[RUN_SECONDS] = float(self.every_run_hours * 3600)
        return limits

    def after(self, due: datetime, steps: int = 1) -> datetime:
        """`steps` calendar intervals after `due`."""
        if self.every_months is not None:
            return add_months(due, self.every_months * steps)
        assert self.every_days is not None
        return due + timedelta(days=self.every_days * steps)


def check_plan(plan: MaintenancePlan) -> None:
    if not plan.name.strip():
        raise Invalid("name must not be empty", field="name")
    _check_checklist(plan.checklist)
    _check_triggers(plan)


def _check_checklist(checklist: Sequence[str]) -> None:
    if not checklist:
        raise Invalid("a plan needs at least one checklist item", field="checklist")
    if len(checklist) > MAX_CHECKLIST:
        raise Invalid(f"at most {MAX_CHECKLIST} checklist items", field="checklist")
    for index, item in enumerate(checklist):
        if not item.strip() or len(item) > MAX_ITEM:
            raise Invalid(f"checklist items are 1-{MAX_ITEM} characters",
                          field=f"checklist.{index}")
    if len(set(checklist)) != len(checklist):
        raise Invalid("checklist items must differ", field="checklist")


def _check_triggers(plan: MaintenancePlan) -> None:
    if plan.every_days is not None and plan.every_months is not None:
        raise Invalid("give every_days or every_months, not both", field="every_months")
    calendar_set = plan.every_days is not None or plan.every_months is not None
    for name in ("every_days", "every_months", "every_trips", "every_run_hours"):
        value = getattr(plan, name)
        if value is not None and value < 1:
            raise Invalid(f"{name} must be at least 1", field=name)
    if calendar_set and plan.next_due is None:
        raise Invalid("a calendar plan needs its first due date", field="first_due")
    if not calendar_set and plan.next_due is not None:
        raise Invalid("a due date needs every_days or every_months", field="first_due")
    if not calendar_set and not plan.usage_limits():
        raise Invalid("a plan needs a trigger: every_days, every_months, every_trips or "
                      "every_run_hours", field="every_days")
    if not 0 <= plan.lead_hours <= MAX_LEAD_HOURS:
        raise Invalid(f"lead_hours must be between 0 and {MAX_LEAD_HOURS}", field="lead_hours")


def adopt_baselines(plan: MaintenancePlan, totals: Mapping[str, float]) -> bool:
    """Usage counts from the first reading the plan saw: a counter with no base yet (new
    plan, or a device linked later) takes its current total as base. True if one did."""
    missing = {metric: float(totals[metric]) for metric in plan.usage_limits()
               if metric not in plan.usage_base and metric in totals}
    if missing:
        plan.usage_base = {**plan.usage_base, **missing}  # a new dict: JSON columns see it
    return bool(missing)


def used(plan: MaintenancePlan, totals: Mapping[str, float]) -> dict[str, float]:
    """How much of each usage trigger's counter ran since the last service (nothing for a
    counter without a base yet)."""
    return {metric: max(0.0, totals[metric] - plan.usage_base[metric])
            if metric in plan.usage_base and metric in totals else 0.0
            for metric in plan.usage_limits()}


def due(plan: MaintenancePlan, totals: Mapping[str, float], now: datetime) -> Due | None:
    """Whether the plan's next order should open now, and why: the calendar date is within
    the lead time, or a usage counter reached its limit; whichever comes first wins."""
    if not plan.active or plan.in_flight:
        return None
    found: list[Due] = []
    if plan.next_due is not None and now >= plan.next_due - plan.lead:
        found.append(Due(Trigger.CALENDAR, plan.next_due, {"scheduled": plan.next_due}))
    so_far = used(plan, totals)
    for metric, limit in plan.usage_limits().items():
        if so_far[metric] >= limit:
            # Reached now: the work is due within the plan's lead time.
            found.append(Due(Trigger.USAGE, now + plan.lead,
                             {"metric": metric, "used": so_far[metric], "limit": limit}))
    return min(found, key=lambda d: d.due_at) if found else None


def request_stale(plan: MaintenancePlan, now: datetime) -> bool:
    """Asked for, never confirmed opened, and long enough ago to ask again."""
    return plan.order_id is None and plan.requested_at is not None \
        and now - plan.requested_at >= REQUEST_RETRY


def overdue(plan: MaintenancePlan, now: datetime) -> bool:
    """Its order is still open past its due time and no one was told yet."""
    return plan.in_flight and plan.escalated_at is None \
        and plan.order_due_at is not None and now > plan.order_due_at


def request(plan: MaintenancePlan, found: Due, now: datetime) -> None:
    plan.requested_at = now
    plan.order_due_at = found.due_at
    plan.order_trigger = found.trigger


def next_due(plan: MaintenancePlan, completed_at: datetime) -> datetime | None:
    """The next calendar due date after a service completed at `completed_at`.

    From the schedule: the first date of the plan's grid (its scheduled date plus whole
    intervals) after the completion, so a late service does not shift the grid. From the
    completion, or after a service that usage brought forward: one interval after it."""
    if plan.next_due is None:
        return None
    if plan.anchor == Anchor.COMPLETION or plan.order_trigger == Trigger.USAGE:
        return plan.after(completed_at)
    scheduled, steps = plan.next_due, 1
    while plan.after(scheduled, steps) <= completed_at:
        steps += 1
    return plan.after(scheduled, steps)


def complete(plan: MaintenancePlan, order_id: int, at: datetime,
             results: Sequence[tuple[str, bool]], totals: Mapping[str, float]) -> MaintenanceRun:
    """The plan's order was resolved: record the checklist, schedule the next service and
    count usage from here. Items of the plan the order did not report count as not done."""
    if not plan.in_flight:
        raise Conflict(f"maintenance plan {plan.id} has no order in flight")
    assert plan.id is not None
    reported = dict(results)
    checklist: list[list[Any]] = [[item, bool(reported.get(item, False))]
                                  for item in plan.checklist]
    checklist += [[item, bool(ok)] for item, ok in results if item not in plan.checklist]
    run = MaintenanceRun(
        plan_id=plan.id, asset_id=plan.asset_id, order_id=order_id,
        trigger=plan.order_trigger or Trigger.CALENDAR,
        due_at=plan.order_due_at or at, completed_at=at, checklist=checklist,
        next_due=next_due(plan, at), previous_due=plan.next_due)
    plan.next_due = run.next_due
    plan.usage_base = {metric: float(totals.get(metric, plan.usage_base.get(metric, 0.0)))
                       for metric in COUNTER_METRICS if metric in totals or
                       metric in plan.usage_base}
    plan.requested_at = plan.order_id = plan.order_due_at = plan.order_trigger = None
    plan.escalated_at = None
    return run


def skip(plan: MaintenancePlan, at: datetime, totals: Mapping[str, float]) -> None:
    """The plan's order was cancelled: this service is skipped, not done. No run is recorded;
    the calendar moves on to its next date after the one that was due (as if done on time, so
    the grid holds), and usage counts again from now; otherwise the scheduler would ask for
    the cancelled order again within the minute."""
    if not plan.in_flight:
        return
    due_at = plan.order_due_at or at
    if plan.next_due is not None:
        scheduled, steps = plan.next_due, 1
        while plan.after(scheduled, steps) <= due_at:
            steps += 1
        plan.next_due = plan.after(scheduled, steps)
    plan.usage_base = {metric: float(totals.get(metric, plan.usage_base.get(metric, 0.0)))
                       for metric in COUNTER_METRICS if metric in totals or
                       metric in plan.usage_base}
    plan.requested_at = plan.order_id = plan.order_due_at = plan.order_trigger = None
    plan.escalated_at = None


def reopen(plan: MaintenancePlan, run: MaintenanceRun) -> None:
    """The order of `run` was reopened: the service did not count; the plan waits for it
    again, due when it was due."""
    run.reopened = True
    plan.next_due = run.previous_due
    plan.order_id, plan.order_due_at, plan.order_trigger = run.order_id, run.due_at, run.trigger


@dataclass(eq=False)
class UsageCounter:
    """One device's cumulative counter (trips, run seconds) made continuous across wraps and
    resets, with its own baseline: the total survives hub restarts, unlike the poller's."""

    device_id: int
    metric: str
    asset_id: int
    last_raw: float
    total: float
    at: datetime
    wraps: int = 0
    resets: int = 0

    def update(self, raw: float, at: datetime) -> None:
        """A wrap is a drop from the top quarter of the uint32 range into the bottom quarter;
        any other drop is a reset (the device counts from zero again)."""
        if at < self.at:
            return  # an older reading than the one counted
        if raw >= self.last_raw:
            self.total += raw - self.last_raw
        elif self.last_raw >= COUNTER_MODULUS * 3 / 4 and raw < COUNTER_MODULUS / 4:
            self.wraps += 1
            self.total += raw + COUNTER_MODULUS - self.last_raw
        else:
            self.resets += 1
            self.total += raw
        self.last_raw, self.at = raw, at
