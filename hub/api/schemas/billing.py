"""Billing and payments as the API shows and accepts them. Money travels as decimal strings
("235.00"); inputs refuse more than two decimals, and never name a status, a paid time or
(where the hub computes it) an amount."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field

from hub.api.schemas.common import Id, In, Out
from hub.domain.billing.discounts import DiscountKind
from hub.domain.billing.fees import AreaBasis, FeeKind, LateFeeMode
from hub.domain.billing.money import RoundingMode
from hub.domain.billing.periods import Cycle

Money = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2, examples=["235.00"])]
Price = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=6, examples=["2.35"])]
Quantity = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=3)]
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
Period = Annotated[str, Field(pattern=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$",
                              examples=["2026-11", "2026-Q4", "2026"])]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["property"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Meter = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", examples=["water"])]
Reason = Annotated[str, Field(min_length=3, max_length=500)]
Ids = Annotated[list[Id], Field(max_length=1000)]
Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=8, decimal_places=6)]


class TierIn(In):
    up_to: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)] | None
    price: Price


Tiers = Annotated[list[TierIn], Field(max_length=10)]


class FeeItemIn(In):
    site_id: Id
    code: Code
    name: Name
    kind: FeeKind
    unit_price: Price
    effective_from: date
    tiers: Tiers = Field(default_factory=list)
    cycle: Cycle = Cycle.MONTHLY
    due_day: Annotated[int, Field(ge=1, le=28)] = 15
    places: Annotated[int, Field(ge=0, le=2)] = 2
    rounding: RoundingMode = RoundingMode.HALF_UP
    prepaid: bool = False
    area_basis: AreaBasis = AreaBasis.GROSS
    meter: Meter | Literal[""] = ""
    building_ids: Ids = Field(default_factory=list)
    unit_ids: Ids = Field(default_factory=list)
    quantities: Annotated[dict[Id, Quantity], Field(max_length=10000)] = Field(default_factory=dict)
    prorate: bool = True
    late_mode: LateFeeMode = LateFeeMode.PER_DAY
    grace_days: Annotated[int, Field(ge=0, le=365)] = 0
    cap_amount: Money | None = None
    cap_rate: Share | None = None


class FeeItemPatch(In):
    name: Name | None = None
    due_day: Annotated[int, Field(ge=1, le=28)] | None = None
    places: Annotated[int, Field(ge=0, le=2)] | None = None
    rounding: RoundingMode | None = None
    prepaid: bool | None = None
    building_ids: Ids | None = None
    unit_ids: Ids | None = None
    quantities: Annotated[dict[Id, Quantity], Field(max_length=10000)] | None = None
    prorate: bool | None = None
    late_mode: LateFeeMode | None = None
    grace_days: Annotated[int, Field(ge=0, le=365)] | None = None
    cap_amount: Money | None = None
    cap_rate: Share | None = None
    active: bool | None = None


class PriceIn(In):
    effective_from: date
    unit_price: Price
    tiers: Tiers = Field(default_factory=list)


class PriceOut(Out):
    id: int
    effective_from: date
    unit_price: Decimal
    tiers: list[dict[str, Any]]


class FeeItemOut(Out):
    id: int
    site_id: int
    code: str
    name: str
    kind: FeeKind
    cycle: Cycle
    due_day: int
    places: int
    rounding: RoundingMode
    prepaid: bool
    area_basis: AreaBasis
    meter: str
    building_ids: list[int]
    unit_ids: list[int]
    quantities: dict[str, str]
    prorate: bool
    late_mode: LateFeeMode
    grace_days: int
    cap_amount: Decimal | None
    cap_rate: Decimal | None
    active: bool
    prices: list[PriceOut] = Field(default_factory=list)


class DiscountIn(In):
    site_id: Id
    name: Name
    kind: DiscountKind
    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)] | None = None
    amount: Money | None = None
    fee_item_id: Id | None = None
    building_ids: Ids = Field(default_factory=list)
    unit_ids: Ids = Field(default_factory=list)
    valid_from: date | None = None
    valid_to: date | None = None
    only_if_no_arrears: bool = False


class DiscountOut(Out):
    id: int
    site_id: int
    name: str
    kind: DiscountKind
    percent: Decimal | None
    amount: Decimal | None
    fee_item_id: int | None
    building_ids: list[int]
    unit_ids: list[int]
    valid_from: date | None
    valid_to: date | None
    only_if_no_arrears: bool
    active: bool


class ReadingIn(In):
    unit_id: Id
    meter: Meter
    value: Quantity
    read_on: date
    period: Month | None = Field(default=None, description=(
        "the month the reading bills; by default the month it measures: a reading taken on "
        "or before the 15th bills the month before"))


class ReadingOut(Out):
    id: int
    site_id: int
    unit_id: int
    meter: str
    period: str
    value: Decimal
    read_on: date
    source: str
    created_at: datetime


class RunIn(In):
    site_id: Id
    period: Period
    fee_item_ids: Annotated[list[Id], Field(min_length=1, max_length=50)]
    as_of: date | None = Field(default=None, description=(
        "late fees count overdue days up to this day; by default the first day after the "
        "period, so that a run is the same whenever it is made"))


class PlannedLineOut(Out):
    key: str
    fee_item_id: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    gross: Decimal
    discount: Decimal
    amount: Decimal
    due_date: date
    detail: list[str]
    already_billed: bool


class PlannedUnitOut(Out):
    unit_id: int
    number: str
    building_id: int
    total: Decimal
    lines: list[PlannedLineOut]


class SkippedOut(Out):
    unit_id: int
    fee_item_id: int
    reason: str


class PreviewOut(Out):
    site_id: int
    period: str
    as_of: date
    total: Decimal
    lines: int
    units: list[PlannedUnitOut]
    skipped: list[SkippedOut]


class CommitOut(Out):
    site_id: int
    period: str
    as_of: date
    bills_created: int
    lines_created: int
    lines_already_billed: int
    total_created: Decimal
    skipped: list[SkippedOut]


class BillOut(Out):
    id: int
    site_id: int
    building_id: int
    unit_id: int
    unit_number: str
    period: str
    period_start: date
    period_end: date
    due_date: date
    issued_at: datetime
    total: Decimal
    paid: Decimal
    written_off: Decimal
    outstanding: Decimal
    status: str


class BillLineOut(Out):
    id: int
    key: str
    fee_item_id: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    gross: Decimal
    discount: Decimal
    amount: Decimal
    paid: Decimal
    written_off: Decimal
    due_date: date
    detail: list[str]


class BillDetailOut(BillOut):
    lines: list[BillLineOut]


class WriteOffIn(In):
    reason: Reason
    amount: Money | None = Field(default=None, description="default: all outstanding")


class WriteOffOut(Out):
    id: int
    bill_id: int
    amount: Decimal
    outstanding: Decimal


class PaymentIn(In):
    unit_id: Id
    amount: Money
    channel: Literal["cash", "bank_transfer"]
    bill_id: Id | None = Field(default=None, description=(
        "the bill to settle; without it the unit's oldest bills first; what is left over "
        "becomes prepaid balance"))
    reference: Annotated[str, Field(max_length=100)] = ""


class PayIn(In):
    """A resident pays a bill's outstanding amount; the hub, not the body, says how much."""

    provider: Literal["sandbox"] = "sandbox"


class PaymentOut(Out):
    id: int
    site_id: int | None = None
    unit_id: int
    bill_id: int | None
    amount: Decimal
    channel: str
    status: str
    created_at: datetime
    paid_at: datetime | None
    provider: str
    provider_ref: str | None
    reference: str
    refunded: Decimal
    applied: Decimal | None = None
    to_balance: Decimal | None = None
    pay_url: str | None = None


class RefundIn(In):
    amount: Money
    reason: Reason


class RefundOut(Out):
    id: int
    payment_id: int
    amount: Decimal
    at: datetime
    from_balance: Decimal
    from_bills: Decimal
    payment_refunded: Decimal


class CallbackOut(Out):
    result: str
    payment_id: int | None
    status: str


class StatementOut(Out):
    unit_id: int
    unit_number: str
    from_: date | None = Field(alias="from")
    to: date | None
    bills: list[BillOut]
    payments: list[PaymentOut]
    billed: Decimal
    outstanding: Decimal
    balance: Decimal
