"""How orders of a category are dispatched and how fast they must be answered (SLA terms),
with defaults that the shipped config/work_orders.yaml repeats and a site may change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from hub.domain.outcomes import Priority


class DispatchMode(StrEnum):
    ASSIGN = "assign"  # a dispatcher assigns each order
    ROUND_ROBIN = "round_robin"  # the next on-duty technician with the skill, in turn
    POOL = "pool"  # waits in the pool until a technician with the skill claims it


@dataclass(frozen=True)
class SlaTerms:
    """Respond: accepted (acknowledged) by; arrive: work started on site by; resolve by."""

    respond: timedelta
    resolve: timedelta
    arrive: timedelta | None = None


@dataclass(frozen=True)
class CategoryPolicy:
    dispatch: DispatchMode
    sla: Mapping[Priority, SlaTerms]


def _h(hours: float) -> timedelta:
    return timedelta(hours=hours)


DEFAULT_SLA: Mapping[Priority, SlaTerms] = {
    Priority.P1: SlaTerms(respond=timedelta(minutes=15), resolve=_h(4), arrive=_h(1)),
    Priority.P2: SlaTerms(respond=_h(1), resolve=_h(24)),
    Priority.P3: SlaTerms(respond=_h(4), resolve=_h(72)),
    Priority.P4: SlaTerms(respond=_h(24), resolve=_h(168)),
}
# Trapped passengers: acknowledged within 5 minutes (else the manager hears of it) and a
# technician at the car within 30 (DESIGN.md §5, issue 4).
ELEVATOR_SLA: Mapping[Priority, SlaTerms] = {
    **DEFAULT_SLA,
    Priority.P1: SlaTerms(respond=timedelta(minutes=5), arrive=timedelta(minutes=30),
                          resolve=_h(4)),
    Priority.P2: SlaTerms(respond=timedelta(minutes=30), resolve=_h(12)),
}


@dataclass(frozen=True)
class OrderPolicy:
    default: CategoryPolicy = CategoryPolicy(DispatchMode.ASSIGN, DEFAULT_SLA)
    categories: Mapping[str, CategoryPolicy] = field(default_factory=dict)
    relapse_window: timedelta = timedelta(hours=24)  # a relapse within this reopens
    warning_lead: timedelta = timedelta(minutes=10)  # warn this long before a clock is due

    def of(self, category: str) -> CategoryPolicy:
        return self.categories.get(category, self.default)

    def terms(self, category: str, priority: Priority) -> SlaTerms:
        policy = self.of(category)
        return policy.sla.get(priority) or self.default.sla.get(priority) \
            or DEFAULT_SLA[priority]


DEFAULT_POLICY = OrderPolicy(categories={
    "elevator": CategoryPolicy(DispatchMode.ROUND_ROBIN, ELEVATOR_SLA),
})
