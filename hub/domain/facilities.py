"""Facilities: an asset's status derived from its open orders and devices, and its record of
failures (repair history, downtime, MTBF), all as pure functions of what was recorded.

The facts come from the work-order module's events (OrderOpened, OrderResolved,
OrderReopened) and from the devices linked to the asset; nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hub.domain.errors import Invalid
from hub.domain.outcomes import OrderSource, Priority

# Orders that put an asset out of service while they are open: a serious fault, or a device
# that stopped answering. Minor faults (P3, P4) leave it working.
DOWN_PRIORITIES = frozenset({Priority.P1, Priority.P2})
# Elevator modes (register `mode` of elevator-std) in which the car is being worked on.
WORK_MODES = frozenset({"maintenance", "inspection"})


class AssetStatus(StrEnum):
    OPERATIONAL = "operational"
    DOWN = "down"
    UNDER_MAINTENANCE = "under_maintenance"


class AssetEventKind(StrEnum):
    OPENED = "opened"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CANCELLED = "cancelled"  # no work was done: the span neither fails nor counts as down


@dataclass(frozen=True)
class OpenOrder:
    """An order of the asset (or of one of its devices) that is open now."""

    source: OrderSource
    priority: Priority
    in_progress: bool = False

    @property
    def takes_it_down(self) -> bool:
        if self.source == OrderSource.MAINTENANCE_PLAN:
            return False
        return self.source == OrderSource.DEVICE_OFFLINE or self.priority in DOWN_PRIORITIES


@dataclass(frozen=True)
class DeviceCondition:
    """A linked device as the hub last heard it: `online` None means never heard of."""

    online: bool | None
    mode: str | None = None


@dataclass(eq=False)
class DeviceState:
    """What ingestion knows of a device now (read only here): `last_values` maps a metric to
    {"value": ..., "at": ...}."""

    device_id: int
    online: bool | None
    last_values: dict[str, Any] = field(default_factory=dict)

    def condition(self) -> DeviceCondition:
        mode = (self.last_values or {}).get("mode")
        value = mode.get("value") if isinstance(mode, dict) else None
        return DeviceCondition(self.online, value if isinstance(value, str) else None)


def derive_status(orders: Iterable[OpenOrder],
                  devices: Iterable[DeviceCondition] = ()) -> AssetStatus:
    """Down when a P1/P2 fault order is open or a linked device is offline; under maintenance
    when a maintenance-plan order is open and work on it has started (the order says so, or a
    linked device is in maintenance or inspection mode); operational otherwise."""
    orders, devices = list(orders), list(devices)
    if any(o.takes_it_down for o in orders) or any(d.online is False for d in devices):
        return AssetStatus.DOWN
    working = any(d.mode in WORK_MODES for d in devices)
    if any(o.source == OrderSource.MAINTENANCE_PLAN and (o.in_progress or working)
           for o in orders):
        return AssetStatus.UNDER_MAINTENANCE
    return AssetStatus.OPERATIONAL


@dataclass(eq=False)
class AssetEvent:
    """One change of one order of an asset, as the work-order module announced it."""

    asset_id: int
    order_id: int
    change: AssetEventKind
    at: datetime
    fault: str
    source: OrderSource
    priority: Priority | None = None  # known from the opening; None on resolve/reopen
    id: int | None = None


@dataclass(frozen=True)
class OrderSpan:
    """An order's life on the asset: opened, and resolved (None while open). A reopened order
    has one span per time it was open."""

    order_id: int
    fault: str
    source: OrderSource
    priority: Priority
    opened_at: datetime
    resolved_at: datetime | None

    @property
    def is_failure(self) -> bool:
        return OpenOrder(self.source, self.priority).takes_it_down


def spans(events: Iterable[AssetEvent]) -> list[OrderSpan]:
    """The open periods of each order, in the order they began. Events arrive in time order;
    a resolve without an opening (history began after it) is ignored."""
    known: dict[int, tuple[OrderSource, Priority, str]] = {}
    open_since: dict[int, datetime] = {}
    found: list[OrderSpan] = []
    for e in sorted(events, key=lambda e: (e.at, e.id or 0)):
        if e.change == AssetEventKind.OPENED:
            known[e.order_id] = (e.source, e.priority or Priority.P3, e.fault)
            open_since.setdefault(e.order_id, e.at)
        elif e.change == AssetEventKind.REOPENED and e.order_id in known:
            open_since.setdefault(e.order_id, e.at)
        elif e.change == AssetEventKind.CANCELLED:
            open_since.pop(e.order_id, None)
        elif e.change == AssetEventKind.RESOLVED and e.order_id in open_since:
            source, priority, fault = known[e.order_id]
            found.append(OrderSpan(e.order_id, fault, source, priority,
                                   open_since.pop(e.order_id), e.at))
    for order_id, since in open_since.items():
        source, priority, fault = known[order_id]
        found.append(OrderSpan(order_id, fault, source, priority, since, None))
    return sorted(found, key=lambda s: (s.opened_at, s.order_id))


def open_orders(events: Iterable[AssetEvent]) -> list[OpenOrder]:
    return [OpenOrder(s.source, s.priority) for s in spans(events) if s.resolved_at is None]


@dataclass(frozen=True)
class Reliability:
    start: datetime
    end: datetime
    failures: int
    downtime: timedelta
    uptime: timedelta
    mtbf: timedelta | None  # None: no failure in the period
    mttr: timedelta | None  # mean time to repair of the failures that ended in the period
    availability: float


def downtime(failure_spans: Sequence[OrderSpan], start: datetime,
             end: datetime) -> timedelta:
    """How long in [start, end) at least one failure was open (overlaps counted once); an
    open failure lasts until `end`."""
    _period(start, end)
    clipped = sorted((max(s.opened_at, start), min(s.resolved_at or end, end))
                     for s in failure_spans)
    total, covered_to = timedelta(0), start
    for opened, finish in clipped:
        begin = max(opened, covered_to)
        if finish > begin:
            total += finish - begin
            covered_to = finish
    return total


def reliability(all_spans: Iterable[OrderSpan], start: datetime, end: datetime) -> Reliability:
    """Failures are P1/P2 fault orders and offline orders opened in the period; MTBF is the
    time in service divided by their number (the usual operational MTBF)."""
    _period(start, end)
    failures = [s for s in all_spans if s.is_failure]
    down = downtime(failures, start, end)
    uptime = (end - start) - down
    begun = [s for s in failures if start <= s.opened_at < end]
    repaired = [s.resolved_at - s.opened_at for s in begun
                if s.resolved_at is not None and s.resolved_at <= end]
    return Reliability(
        start=start, end=end, failures=len(begun), downtime=down, uptime=uptime,
        mtbf=uptime / len(begun) if begun else None,
        mttr=sum(repaired, timedelta(0)) / len(repaired) if repaired else None,
        availability=uptime / (end - start))


def _period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Invalid("the period must end after it starts", field="end")
