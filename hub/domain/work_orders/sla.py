"""SLA clocks: a warning before a clock is due, an escalation once it is past, each once.

`sla_check` is pure: it reads the orders' due times and the flags of what was already said,
and returns what to say now. `WorkOrder.record_alert` (via `record`) sets the flag, so a
second check at the same or a later time says nothing new.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hub.domain.outcomes import Priority
from hub.domain.work_orders.order import OPEN, Status, WorkOrder
from hub.domain.work_orders.records import SYSTEM_BY


class Clock(StrEnum):
    RESPOND = "respond"  # accepted (acknowledged) by
    ARRIVE = "arrive"  # work started on site by
    RESOLVE = "resolve"


class AlertKind(StrEnum):
    WARNING = "warning"
    ESCALATION = "escalation"


@dataclass(frozen=True)
class SlaAlert:
    order_id: int
    site_id: int
    building_id: int | None
    priority: Priority
    title: str
    clock: Clock
    kind: AlertKind
    due_at: datetime

    @property
    def flag(self) -> str:
        return f"{self.clock.value}:{self.kind.value}"

    def describe(self) -> str:
        what = {Clock.RESPOND: "acknowledged", Clock.ARRIVE: "attended on site",
                Clock.RESOLVE: "resolved"}[self.clock]
        when = "was due" if self.kind == AlertKind.ESCALATION else "is due"
        return (f"work order {self.order_id} ({self.priority.value}, {self.title}) "
                f"{when} to be {what} by {self.due_at.isoformat()}")


def due(order: WorkOrder, clock: Clock) -> datetime | None:
    return {Clock.RESPOND: order.respond_by, Clock.ARRIVE: order.arrive_by,
            Clock.RESOLVE: order.resolve_by}[clock]


def met(order: WorkOrder, clock: Clock) -> bool:
    done = {Clock.RESPOND: order.accepted_at, Clock.ARRIVE: order.started_at,
            Clock.RESOLVE: order.resolved_at}[clock]
    return done is not None


def warn_at(order: WorkOrder, due_at: datetime, lead: timedelta) -> datetime:
    """`lead` before due, but never earlier than half-way: a 5-minute clock warns at 2.5."""
    span = max(due_at - order.opened_at, timedelta(0))
    return due_at - min(lead, span / 2)


def sla_check(orders: Iterable[WorkOrder], now: datetime,
              lead: timedelta = timedelta(minutes=10)) -> list[SlaAlert]:
    """What to say now about each open order's clocks: an escalation once past due, else a
    warning once within `lead` of due; nothing already said (its flag is set)."""
    alerts: list[SlaAlert] = []
    for order in orders:
        if order.status not in OPEN or order.id is None:
            continue
        for clock in Clock:
            due_at = due(order, clock)
            if due_at is None or met(order, clock) or (
                    clock == Clock.RESOLVE and order.status == Status.PAUSED):
                continue  # a paused order's resolve clock stands still
            kind = AlertKind.ESCALATION if now >= due_at else \
                AlertKind.WARNING if now >= warn_at(order, due_at, lead) else None
            if kind is None or f"{clock.value}:{kind.value}" in order.sla_flags:
                continue
            alerts.append(SlaAlert(order.id, order.site_id, order.building_id, order.priority,
                                   order.title, clock, kind, due_at))
    return alerts


def record(order: WorkOrder, alert: SlaAlert, at: datetime, notified: bool) -> None:
    """Set the alert's flag (an escalation also stands for its warning) and say it on the
    timeline, with whether a notification went out."""
    flags = [alert.flag]
    if alert.kind == AlertKind.ESCALATION:
        flags.append(f"{alert.clock.value}:{AlertKind.WARNING.value}")
    order.sla_flags = sorted(set(order.sla_flags) | set(flags))
    suffix = "" if alert.kind == AlertKind.WARNING else \
        "; the manager was notified" if notified else \
        "; no notification service is running, so it is recorded here only"
    order.note(at, SYSTEM_BY, f"SLA {alert.kind.value}: {alert.describe()}{suffix}",
               kind=f"sla_{alert.kind.value}")
