"""Fee items (收费项), their price versions and the formulas that turn facts into amounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from hub.domain.billing.money import Rounding, RoundingMode
from hub.domain.billing.periods import Cycle
from hub.domain.errors import Invalid
from hub.domain.property import check_code


class FeeKind(StrEnum):
    AREA = "area"  # area × unit price per month (物业费)
    FIXED = "fixed"  # a fixed amount per cycle (垃圾清运费)
    METERED = "metered"  # (this reading − last reading) × price, with tiers (水费, 电费)
    USAGE = "usage"  # a usage figure entered for the period × price
    PARKING = "parking"  # spaces held by the unit × price per month (车位管理费)
    ONE_OFF = "one_off"  # charged once, in the period it is run (装修押金)
    LATE_FEE = "late_fee"  # 滞纳金 on earlier bills still unpaid past their due date


class AreaBasis(StrEnum):
    GROSS = "gross"  # 建筑面积
    INNER = "inner"  # 套内面积


class LateFeeMode(StrEnum):
    PER_DAY = "per_day"
    PER_MONTH = "per_month"  # per started 30 days


# Kinds whose amount runs with time, so a move-in or move-out within the period prorates them.
TIME_BASED = frozenset({FeeKind.AREA, FeeKind.FIXED, FeeKind.PARKING})
MAX_DUE_DAY = 28  # every month has it


@dataclass(frozen=True)
class Tier:
    """A price for the part of the quantity up to `up_to` (None: everything above)."""

    up_to: Decimal | None
    price: Decimal


@dataclass(eq=False)
class PriceVersion:
    """A price from `effective_from` on. Later versions never rewrite what was billed."""

    fee_item_id: int
    effective_from: date
    unit_price: Decimal
    tiers: list[dict[str, str | None]] = field(default_factory=list)  # [{up_to, price}]
    created_at: datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.unit_price.is_finite() or self.unit_price < 0:
            raise Invalid("unit_price must be zero or more", field="unit_price")
        check_tiers(self.tier_list())

    def tier_list(self) -> list[Tier]:
        tiers = []
        for index, tier in enumerate(self.tiers):
            try:
                up_to = tier.get("up_to")
                tiers.append(Tier(None if up_to is None else Decimal(str(up_to)),
                                  Decimal(str(tier["price"]))))
            except (KeyError, ArithmeticError, TypeError) as err:
                raise Invalid(f"tier {index} needs up_to and price as numbers",
                              field=f"tiers.{index}") from err
        return tiers


def check_tiers(tiers: Sequence[Tier]) -> None:
    last = Decimal(0)
    for index, tier in enumerate(tiers):
        where = f"tiers.{index}"
        if not tier.price.is_finite() or tier.price < 0:
            raise Invalid("a tier price must be zero or more", field=where)
        if tier.up_to is None:
            if index != len(tiers) - 1:
                raise Invalid("only the last tier may be open-ended", field=where)
            continue
        if not tier.up_to.is_finite() or tier.up_to <= last:
            raise Invalid("tier limits must rise", field=where)
        last = tier.up_to
    if tiers and tiers[-1].up_to is not None:
        raise Invalid("the last tier must be open-ended (up_to null)",
                      field=f"tiers.{len(tiers) - 1}")


def tiered(quantity: Decimal, tiers: Sequence[Tier]) -> list[tuple[Decimal, Decimal]]:
    """The quantity split across tiers: [(quantity in tier, price)], before rounding."""
    parts: list[tuple[Decimal, Decimal]] = []
    floor = Decimal(0)
    for tier in tiers:
        top = quantity if tier.up_to is None else min(quantity, tier.up_to)
        if top > floor:
            parts.append((top - floor, tier.price))
        if tier.up_to is None or quantity <= tier.up_to:
            break
        floor = tier.up_to
    return parts


@dataclass(eq=False)
class FeeItem:
    site_id: int
    code: str
    name: str
    kind: FeeKind
    cycle: Cycle = Cycle.MONTHLY
    due_day: int = 15
    places: int = 2
    rounding: RoundingMode = RoundingMode.HALF_UP
    prepaid: bool = False
    area_basis: AreaBasis = AreaBasis.GROSS
    meter: str = ""  # metered and usage items: which meter ("water", "electricity")
    building_ids: list[int] = field(default_factory=list)  # empty: the whole site
    unit_ids: list[int] = field(default_factory=list)
    quantities: dict[str, str] = field(default_factory=dict)  # parking: unit id -> spaces
    prorate: bool = True  # time-based kinds: charge only the days the unit was lived in
    late_mode: LateFeeMode = LateFeeMode.PER_DAY
    grace_days: int = 0
    cap_amount: Decimal | None = None  # late fees: at most this per overdue bill
    cap_rate: Decimal | None = None  # late fees: at most this share of the bill's principal
    active: bool = True
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        check_code(self.code)
        if not self.name.strip():
            raise Invalid("name must not be empty", field="name")
        if not 1 <= self.due_day <= MAX_DUE_DAY:
            raise Invalid(f"due_day must be 1 to {MAX_DUE_DAY}", field="due_day")
        Rounding(self.places, RoundingMode(self.rounding))
        if self.kind in (FeeKind.METERED, FeeKind.USAGE) and not self.meter:
            raise Invalid("a metered or usage fee item names its meter", field="meter")
        if self.grace_days < 0:
            raise Invalid("grace_days must be zero or more", field="grace_days")
        for name in ("cap_amount", "cap_rate"):
            value = getattr(self, name)
            if value is not None and (not value.is_finite() or value < 0):
                raise Invalid(f"{name} must be zero or more", field=name)
        for unit, count in self.quantities.items():
            if not unit.isdigit() or not Decimal(count).is_finite() or Decimal(count) < 0:
                raise Invalid("quantities map unit ids to counts of zero or more",
                              field=f"quantities.{unit}")

    @property
    def rule(self) -> Rounding:
        return Rounding(self.places, RoundingMode(self.rounding))

    def applies_to(self, unit_id: int, building_id: int) -> bool:
        if not self.building_ids and not self.unit_ids:
            return True
        return unit_id in self.unit_ids or building_id in self.building_ids

    def quantity_for(self, unit_id: int) -> Decimal:
        return Decimal(self.quantities.get(str(unit_id), "0"))


def price_on(versions: Sequence[PriceVersion], day: date) -> PriceVersion | None:
    """The version in force on `day`: the latest effective on or before it."""
    current = [v for v in versions if v.effective_from <= day]
    return max(current, key=lambda v: (v.effective_from, v.id or 0)) if current else None
