"""Money: exact decimals, rounded once per line by the fee item's own rule."""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from hub.domain.errors import Invalid

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Numeric(14, 2): the largest amount a money column holds.
MAX_AMOUNT = Decimal("999999999999.99")


class RoundingMode(StrEnum):
    HALF_UP = "half_up"  # 四舍五入, what most fee standards say
    DOWN = "down"  # 抹零: the cents a property office waives
    UP = "up"
    HALF_EVEN = "half_even"


_MODES = {
    RoundingMode.HALF_UP: decimal.ROUND_HALF_UP,
    RoundingMode.DOWN: decimal.ROUND_DOWN,
    RoundingMode.UP: decimal.ROUND_UP,
    RoundingMode.HALF_EVEN: decimal.ROUND_HALF_EVEN,
}


@dataclass(frozen=True)
class Rounding:
    """Decimal places (0 to 2: money columns keep cents) and a mode."""

    places: int = 2
    mode: RoundingMode = RoundingMode.HALF_UP

    def __post_init__(self) -> None:
        if self.places not in (0, 1, 2):
            raise Invalid("rounding places must be 0, 1 or 2", field="places")

    def apply(self, amount: Decimal) -> Decimal:
        """Rounded to `places`, then written with two places (so 12 reads 12.00)."""
        exponent = Decimal(1).scaleb(-self.places)
        return amount.quantize(exponent, rounding=_MODES[self.mode]).quantize(CENT)


def money(value: Decimal | str | int, field: str = "amount") -> Decimal:
    """A finite amount with at most two decimals, as two-place Decimal."""
    amount = Decimal(value)
    if not amount.is_finite():
        raise Invalid(f"{field} must be a finite number", field=field)
    if amount != amount.quantize(CENT):
        raise Invalid(f"{field} has more than two decimals", field=field)
    if abs(amount) > MAX_AMOUNT:
        raise Invalid(f"{field} is too large", field=field)
    return amount.quantize(CENT)


def positive_money(value: Decimal | str | int, field: str = "amount") -> Decimal:
    amount = money(value, field)
    if amount <= 0:
        raise Invalid(f"{field} must be more than zero", field=field)
    return amount
