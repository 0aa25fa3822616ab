"""Discounts: percentage, fixed, vacant-unit and free months, optionally only without arrears."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from hub.domain.billing.money import ZERO, Rounding
from hub.domain.errors import Invalid

HUNDRED = Decimal(100)


class DiscountKind(StrEnum):
    PERCENTAGE = "percentage"  # `percent` off
    FIXED = "fixed"  # `amount` off each line
    VACANT_UNIT = "vacant_unit"  # `percent` off for units whose status is vacant (空置房)
    FREE_MONTHS = "free_months"  # everything off for periods starting in [valid_from, valid_to)


@dataclass(eq=False)
class Discount:
    site_id: int
    name: str
    kind: DiscountKind
    percent: Decimal | None = None
    amount: Decimal | None = None
    fee_item_id: int | None = None  # None: every fee item but late fees
    building_ids: list[int] = field(default_factory=list)
    unit_ids: list[int] = field(default_factory=list)
    valid_from: date | None = None
    valid_to: date | None = None
    only_if_no_arrears: bool = False
    active: bool = True
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        if not self.name.strip():
            raise Invalid("name must not be empty", field="name")
        shares = (DiscountKind.PERCENTAGE, DiscountKind.VACANT_UNIT)
        if self.kind in shares and (self.percent is None or not self.percent.is_finite()
                                    or not 0 < self.percent <= HUNDRED):
            raise Invalid("percent must be more than 0 and at most 100", field="percent")
        if self.kind == DiscountKind.FIXED and (
                self.amount is None or not self.amount.is_finite() or self.amount <= 0):
            raise Invalid("a fixed discount needs an amount above zero", field="amount")
        if self.kind == DiscountKind.FREE_MONTHS and (self.valid_from is None
                                                      or self.valid_to is None):
            raise Invalid("free months need valid_from and valid_to", field="valid_to")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise Invalid("valid_to must be after valid_from", field="valid_to")

    def applies(self, *, fee_item_id: int, unit_id: int, building_id: int, vacant: bool,
                period_start: date, in_arrears: bool) -> bool:
        if not self.active or (self.fee_item_id is not None and self.fee_item_id != fee_item_id):
            return False
        if (self.building_ids or self.unit_ids) and unit_id not in self.unit_ids \
                and building_id not in self.building_ids:
            return False
        if self.valid_from and period_start < self.valid_from:
            return False
        if self.valid_to and period_start >= self.valid_to:
            return False
        if self.only_if_no_arrears and in_arrears:
            return False
        return vacant or self.kind != DiscountKind.VACANT_UNIT


def discount_on(gross: Decimal, discounts: Sequence[Discount],
                rule: Rounding) -> tuple[Decimal, list[str]]:
    """How much comes off `gross` (never more than it), and a note per discount applied.

    Shares (percentage, vacant unit, free months) are taken of the gross, each rounded by the
    fee item's rule; fixed amounts follow. The sum stops at the gross: no line goes negative.
    """
    total, notes = ZERO, []
    shares = [d for d in discounts if d.kind != DiscountKind.FIXED]
    fixed = [d for d in discounts if d.kind == DiscountKind.FIXED]
    for item in (*shares, *fixed):
        if item.kind == DiscountKind.FREE_MONTHS:
            off = gross
        elif item.kind == DiscountKind.FIXED:
            assert item.amount is not None
            off = item.amount
        else:
            assert item.percent is not None
            off = rule.apply(gross * item.percent / HUNDRED)
        off = min(off, gross - total)
        if off > 0:
            total += off
            notes.append(f"{item.name}: -{off}")
    return total, notes
