"""The fee for one stay, itemised: one line per charged period, then multipliers, caps and
coupons, each with a sentence anyone can check. The order and the rules are in docs/parking.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from hub.domain.errors import Invalid
from hub.domain.parking import explain
from hub.domain.parking.periods import Charge, Window, charges, windows_of
from hub.domain.parking.tariff import (
    CapWindow,
    FreeMode,
    PlateColor,
    Tariff,
    TariffMode,
    VehicleClass,
    price,
)

ZERO = Decimal("0.00")
CURRENCY = "CNY"
MAX_STAY = timedelta(days=366)
FIRST_YEAR, LAST_YEAR = 1970, 9000


class CouponKind(StrEnum):
    FREE = "free"  # 免单
    MINUTES = "minutes"  # 抵扣时长: charged as if the car left that much earlier
    PERCENT = "percent"  # 折扣
    AMOUNT = "amount"  # 抵用金额


@dataclass(frozen=True)
class Coupon:
    kind: CouponKind
    value: Decimal = ZERO  # minutes, percent (0–100] or yuan; unused for FREE
    code: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", CouponKind(self.kind))
        value = Decimal(self.value)
        if self.kind is CouponKind.MINUTES and (value != value.to_integral_value()
                                                or not 0 < value <= 366 * 24 * 60):
            raise Invalid("a minutes coupon needs whole minutes above 0", field="coupons.value")
        if self.kind is CouponKind.PERCENT and not 0 < value <= 100:
            raise Invalid("a percent coupon needs a percent above 0 and at most 100",
                          field="coupons.value")
        if self.kind is CouponKind.AMOUNT:
            value = price(value, "coupons.value")
            if value == 0:
                raise Invalid("an amount coupon needs an amount above 0", field="coupons.value")
        object.__setattr__(self, "value", value)


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid(f"{name} needs a UTC offset", field=name)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:  # windows and days reach beyond the stay
        raise Invalid(f"{name} must be within the years {FIRST_YEAR} to {LAST_YEAR}",
                      field=name)


@dataclass(frozen=True)
class Stay:
    """One stay of one car. The entry's offset is the site's clock for day, night and days."""

    entry: datetime
    exit: datetime
    vehicle_class: VehicleClass = VehicleClass.SMALL
    plate_color: PlateColor = PlateColor.BLUE
    coupons: tuple[Coupon, ...] = ()

    def __post_init__(self) -> None:
        _aware(self.entry, "entry")
        _aware(self.exit, "exit")
        if self.exit < self.entry:
            raise Invalid("exit is before entry", field="exit")
        if self.exit - self.entry > MAX_STAY:
            raise Invalid("a stay of more than 366 days cannot be quoted", field="exit")
        object.__setattr__(self, "vehicle_class", VehicleClass(self.vehicle_class))
        object.__setattr__(self, "plate_color", PlateColor(self.plate_color))


@dataclass(frozen=True)
class PriorCharge:
    """An earlier charged stay of the same plate: it counts against the cap of the window
    in which it entered (see docs/parking.md)."""

    entry: datetime
    exit: datetime
    amount: Decimal

    def __post_init__(self) -> None:
        _aware(self.entry, "prior_charges.entry")
        _aware(self.exit, "prior_charges.exit")
        object.__setattr__(self, "amount", price(self.amount, "prior_charges.amount"))


class LineKind(StrEnum):
    FREE = "free"
    FIRST_PERIOD = "first_period"
    DAY = "day"
    NIGHT = "night"
    ENTRY = "entry"
    MULTIPLIER = "multiplier"
    CAP = "cap"
    COUPON = "coupon"


@dataclass(frozen=True)
class QuoteLine:
    kind: LineKind
    rule: str  # which rule applied: "day", "class:large", "cap:rolling_24h", "coupon:percent"
    amount: Decimal
    explain_zh: str
    explain_en: str
    start: datetime | None = None
    end: datetime | None = None
    unit_price: Decimal | None = None
    units: int | None = None


@dataclass(frozen=True)
class CapWindowCharge:
    """What the plate paid in one cap window: earlier stays, and this one after the cap."""

    start: datetime
    end: datetime
    earlier: Decimal
    charged: Decimal


@dataclass(frozen=True)
class Quote:
    total: Decimal
    lines: tuple[QuoteLine, ...]
    windows: tuple[CapWindowCharge, ...] = ()
    currency: str = CURRENCY


def quote(tariff: Tariff, stay: Stay, history: Sequence[PriorCharge] = ()) -> Quote:
    """The fee for `stay` under `tariff`, given the plate's earlier charges in the cap window."""
    for prior in history:
        if prior.entry >= stay.entry:
            raise Invalid("a prior charge must have entered before this stay",
                          field="prior_charges.entry")
    lines, windows = _before_coupons(tariff, stay, history)
    subtotal = sum((line.amount for line in lines), ZERO)
    lines += _coupons(tariff, stay, history, subtotal)
    total = sum((line.amount for line in lines), ZERO)
    return Quote(total=total, lines=tuple(lines), windows=tuple(windows))


def _before_coupons(tariff: Tariff, stay: Stay, history: Sequence[PriorCharge]
                    ) -> tuple[list[QuoteLine], list[CapWindowCharge]]:
    lines, start = _free(tariff, stay)
    if start is None:
        return lines, []
    windows = windows_of(tariff.cap, stay.entry, [p.entry for p in history], stay.entry.tzinfo)
    found = charges(tariff, start, stay.exit, stay.entry.tzinfo, windows)
    by_window: dict[Window, list[Charge]] = {}
    for charge in found:
        by_window.setdefault(windows.of(charge.start), []).append(charge)
    spent: list[CapWindowCharge] = []
    zone = stay.entry.tzinfo
    for window, parts in by_window.items():
        begins, ends = window.start.astimezone(zone), window.end.astimezone(zone)
        window_lines = [_period_line(tariff, stay, part) for part in parts]
        window_lines += _multipliers(tariff, stay, sum((x.amount for x in window_lines), ZERO))
        amount = sum((x.amount for x in window_lines), ZERO)
        if tariff.cap is not None:
            earlier = sum((p.amount for p in history
                           if window.start <= p.entry.astimezone(UTC) < window.end), ZERO)
            room = max(ZERO, tariff.cap.amount - earlier)
            if amount > room:
                zh, en = explain.cap(tariff.cap.window, tariff.cap.amount, begins, zone,
                                     earlier, amount, room)
                window_lines.append(QuoteLine(LineKind.CAP, f"cap:{tariff.cap.window.value}",
                                              room - amount, zh, en, begins, ends))
                amount = room
            spent.append(CapWindowCharge(begins, ends, earlier, amount))
        lines += window_lines
    return lines, spent


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _free(tariff: Tariff, stay: Stay) -> tuple[list[QuoteLine], datetime | None]:
    """The free-minutes line, and when charging starts (None: nothing to charge)."""
    free = timedelta(minutes=tariff.free_minutes)
    stayed = stay.exit - stay.entry
    if stayed <= free:  # a stay of zero length is never charged either
        if not tariff.free_minutes:
            return [], None
        zh, en = explain.free_within(tariff.free_minutes, _minutes(stayed))
        return [QuoteLine(LineKind.FREE, "free_minutes", ZERO, zh, en, stay.entry,
                          stay.exit)], None
    if not tariff.free_minutes:
        return [], stay.entry
    if tariff.free_mode is FreeMode.DEDUCTED:
        zh, en = explain.free_deducted(tariff.free_minutes)
        return [QuoteLine(LineKind.FREE, "free_minutes", ZERO, zh, en, stay.entry,
                          stay.entry + free)], stay.entry + free
    zh, en = explain.grace_exceeded(tariff.free_minutes, _minutes(stayed))
    return [QuoteLine(LineKind.FREE, "grace", ZERO, zh, en, stay.entry, stay.entry)], stay.entry


def _period_line(tariff: Tariff, stay: Stay, part: Charge) -> QuoteLine:
    if part.kind == "entry":
        zh, en = explain.per_entry(part.unit_price)
        kind = LineKind.ENTRY
    elif part.kind == "first_period":
        zh, en = explain.first_period(part.unit_minutes, part.unit_price)
        kind = LineKind.FIRST_PERIOD
    else:
        zh, en = explain.per_unit(tariff.night, part.kind == "night", part.unit_minutes,
                                  part.unit_price, part.units)
        kind = LineKind(part.kind)
    return QuoteLine(kind, kind.value, part.unit_price * part.units, zh, en,
                     part.start, min(part.end, stay.exit), part.unit_price, part.units)


def _multipliers(tariff: Tariff, stay: Stay, base: Decimal) -> list[QuoteLine]:
    by_class, by_plate = tariff.multiplier_of(stay.vehicle_class, stay.plate_color)
    lines = []
    if by_class != 1:
        after = tariff.rounding.apply(base * by_class)
        zh, en = explain.class_multiplier(stay.vehicle_class, by_class, base, after)
        lines.append(QuoteLine(LineKind.MULTIPLIER, f"class:{stay.vehicle_class.value}",
                               after - base, zh, en))
        base = after
    if by_plate != 1:
        after = tariff.rounding.apply(base * by_plate)
        zh, en = explain.plate_multiplier(stay.plate_color, by_plate, base, after)
        lines.append(QuoteLine(LineKind.MULTIPLIER, f"plate:{stay.plate_color.value}",
                               after - base, zh, en))
    return lines


def _coupons(tariff: Tariff, stay: Stay, history: Sequence[PriorCharge],
             subtotal: Decimal) -> list[QuoteLine]:
    """Coupons in a fixed order, whatever order they came in: free, minutes, percent, amount.
    None takes the fee below zero."""
    order = [CouponKind.FREE, CouponKind.MINUTES, CouponKind.PERCENT, CouponKind.AMOUNT]
    coupons = sorted(stay.coupons, key=lambda c: order.index(c.kind))
    remaining, lines = subtotal, []
    minutes = sum(int(c.value) for c in coupons if c.kind is CouponKind.MINUTES)
    for coupon in coupons:
        if coupon.kind is CouponKind.FREE:
            reduction, (zh, en) = remaining, explain.coupon_free()
        elif coupon.kind is CouponKind.MINUTES:
            if minutes == 0:
                continue  # every minutes coupon is used together, on the first one's line
            as_if = max(stay.entry, stay.exit - timedelta(minutes=minutes))
            shorter = replace(stay, exit=as_if, coupons=())
            lines_then, _ = _before_coupons(tariff, shorter, history)
            then = sum((x.amount for x in lines_then), ZERO)
            reduction = min(remaining, max(ZERO, subtotal - then))
            zh, en = explain.coupon_minutes(minutes, as_if, stay.entry.tzinfo)
            minutes = 0
        elif coupon.kind is CouponKind.PERCENT:
            reduction = min(remaining, tariff.rounding.apply(remaining * coupon.value / 100))
            zh, en = explain.coupon_percent(coupon.value)
        else:
            reduction = min(remaining, coupon.value)
            zh, en = explain.coupon_amount(coupon.value)
        remaining -= reduction
        lines.append(QuoteLine(LineKind.COUPON, f"coupon:{coupon.kind.value}",
                               ZERO - reduction, zh, en))
    return lines


__all__ = ["CapWindow", "Coupon", "CouponKind", "LineKind", "PriorCharge", "Quote",
           "QuoteLine", "Stay", "TariffMode", "quote"]
