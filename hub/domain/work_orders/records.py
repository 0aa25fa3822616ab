"""What a work order keeps besides its state: timeline entries, occurrences, material lines,
and who acted (an account, a rule or plan with its evidence, or the system)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from hub.domain.errors import Invalid
from hub.domain.outcomes import Cause


@dataclass(frozen=True)
class By:
    """Who did it, as the timeline shows it: an account, or a rule/plan and its evidence."""

    account_id: int | None = None
    rule: str | None = None  # "rule:<id>@<version>" or "plan:<id>"
    cause: dict[str, Any] | None = None

    @classmethod
    def account(cls, account_id: int) -> By:
        # Account 0 is SYSTEM (the command line, the seeder): shown as no one.
        return cls(account_id=account_id or None)

    @classmethod
    def cause_of(cls, cause: Cause, account_id: int = 0) -> By:
        return cls(account_id=account_id or None, rule=cause_label(cause),
                   cause=cause_data(cause))


SYSTEM_BY = By()


def cause_data(cause: Cause) -> dict[str, Any]:
    """A Cause as JSON: what decided, and the events it saw."""
    return {
        "rule_id": cause.rule_id, "rule_version": cause.rule_version, "plan_id": cause.plan_id,
        "evidence": [{"kind": e.kind, "at": e.at.isoformat(), "device_id": e.device_id,
                      "summary": dict(e.summary)} for e in cause.evidence],
    }


def cause_label(cause: Cause) -> str | None:
    if cause.rule_id is not None:
        return f"rule:{cause.rule_id}@{cause.rule_version or '?'}"
    if cause.plan_id is not None:
        return f"plan:{cause.plan_id}"
    return None


@dataclass(eq=False)
class TimelineEntry:
    at: datetime
    kind: str
    text: str
    actor_id: int | None = None  # an account; None for the system or a rule
    rule: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    order_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Occurrence:
    """One report of the fault behind the order (the first one included)."""

    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    order_id: int | None = None
    id: int | None = None


CENT = Decimal("0.01")


@dataclass(eq=False)
class MaterialLine:
    """A part or a service used, at an exact price; `chargeable` ones the household pays."""

    name: str
    quantity: Decimal
    unit_price: Decimal
    chargeable: bool = False
    added_at: datetime | None = None
    added_by: int | None = None
    order_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise Invalid("name must not be empty", field="name")
        if not self.quantity.is_finite() or self.quantity <= 0:
            raise Invalid("quantity must be positive", field="quantity")
        if not self.unit_price.is_finite() or self.unit_price < 0:
            raise Invalid("unit_price must not be negative", field="unit_price")

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT)
