"""Parking tariffs and quotes as the API shows and accepts them. Money travels as decimal
strings ("5.00"); times of day as "20:00"; instants need a UTC offset."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, Field

from hub.api.schemas.common import Id, In, Out
from hub.domain.billing.money import RoundingMode
from hub.domain.parking.quote import CouponKind, LineKind
from hub.domain.parking.tariff import (
    MAX_MINUTES,
    CapWindow,
    FreeMode,
    PlateColor,
    TariffMode,
    VehicleClass,
)

Price = Annotated[Decimal, Field(ge=0, le=100000, max_digits=8, decimal_places=2,
                                 examples=["5.00"])]
Factor = Annotated[Decimal, Field(ge=0, le=10, max_digits=6, decimal_places=4,
                                  examples=["0.5"])]
Minutes = Annotated[int, Field(ge=0, le=MAX_MINUTES)]
Unit = Annotated[int, Field(ge=1, le=MAX_MINUTES, examples=[30])]
TimeOfDay = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["20:00"])]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["visitors"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class NightIn(In):
    start: TimeOfDay
    end: TimeOfDay
    unit_minutes: Unit
    unit_price: Price


class CapIn(In):
    amount: Price
    window: CapWindow


class RoundingIn(In):
    places: Annotated[int, Field(ge=0, le=2)] = 2
    mode: RoundingMode = RoundingMode.HALF_UP


class RulesIn(In):
    """What a version charges; docs/parking.md explains each field with worked examples."""

    mode: TariffMode = TariffMode.PER_PERIOD
    free_minutes: Minutes = 0
    free_mode: FreeMode = FreeMode.DEDUCTED
    first_period_minutes: Minutes = 0
    first_period_price: Price = Decimal("0")
    unit_minutes: Unit = 60
    unit_price: Price = Decimal("0")
    night: NightIn | None = None
    entry_price: Price = Decimal("0")
    cap: CapIn | None = None
    class_multipliers: dict[VehicleClass, Factor] = Field(default_factory=dict)
    plate_multipliers: dict[PlateColor, Factor] = Field(default_factory=dict)
    rounding: RoundingIn = Field(default_factory=RoundingIn)


class TariffIn(In):
    site_id: Id
    code: Code
    name: Name
    effective_from: AwareDatetime
    rules: RulesIn


class VersionIn(In):
    effective_from: AwareDatetime
    rules: RulesIn


class CouponIn(In):
    kind: CouponKind
    value: Annotated[Decimal, Field(ge=0, le=527040, max_digits=9, decimal_places=2)] = \
        Decimal("0")
    code: Annotated[str, Field(max_length=64)] = ""


class PriorChargeIn(In):
    entry: AwareDatetime
    exit: AwareDatetime
    amount: Price


class QuoteIn(In):
    entry: AwareDatetime
    exit: AwareDatetime
    vehicle_class: VehicleClass = VehicleClass.SMALL
    plate_color: PlateColor = PlateColor.BLUE
    coupons: Annotated[list[CouponIn], Field(max_length=10)] = Field(default_factory=list)
    prior_charges: Annotated[list[PriorChargeIn], Field(max_length=50)] = \
        Field(default_factory=list)


class VersionOut(Out):
    id: int
    number: int
    effective_from: datetime
    rules: dict[str, Any]
    created_at: datetime


class TariffOut(Out):
    id: int
    site_id: int
    code: str
    name: str
    created_at: datetime
    versions: list[VersionOut] = Field(default_factory=list)


class QuoteLineOut(Out):
    kind: LineKind
    rule: str
    start: datetime | None
    end: datetime | None
    unit_price: Decimal | None
    units: int | None
    amount: Decimal
    explain_zh: str
    explain_en: str


class CapWindowOut(Out):
    start: datetime
    end: datetime
    earlier: Decimal
    charged: Decimal


class QuoteOut(Out):
    tariff_id: int
    version: int
    effective_from: datetime
    currency: str
    total: Decimal
    lines: list[QuoteLineOut]
    windows: list[CapWindowOut]
