"""A billing run planned from facts: per unit and fee item one line, each with its reasons.

`plan_run` is pure: the handler gathers units, stays, readings, discounts and overdue bills,
and the same facts always give the same lines, to the cent. A preview shows the plan; a commit
stores the lines whose (bill, key) are not stored yet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hub.domain.billing.discounts import Discount, discount_on
from hub.domain.billing.fees import (
    TIME_BASED,
    AreaBasis,
    FeeItem,
    FeeKind,
    LateFeeMode,
    PriceVersion,
    price_on,
    tiered,
)
from hub.domain.billing.money import MAX_AMOUNT, ZERO
from hub.domain.billing.periods import Period
from hub.domain.errors import Invalid

Stay = tuple[date, date | None]  # moved in, moved out (exclusive)
DAYS_PER_LATE_MONTH = 30


@dataclass(frozen=True)
class UnitFacts:
    unit_id: int
    building_id: int
    number: str
    gross_area: Decimal
    inner_area: Decimal
    vacant: bool  # the unit's status says vacant (空置)
    stays: tuple[Stay, ...] = ()  # every residency the unit has had
    in_arrears: bool = False  # an earlier bill is overdue and unpaid


@dataclass(frozen=True)
class Readings:
    """A meter's reading attributed to this period and the latest one before it."""

    current: Decimal | None
    previous: Decimal | None


@dataclass(frozen=True)
class OverdueBill:
    """An earlier bill a late fee may be charged on."""

    bill_id: int
    unit_id: int
    period: str
    due_date: date
    principal: Decimal  # the bill's lines other than late fees
    outstanding: Decimal
    late_billed: Decimal  # late fees already charged on it


@dataclass(frozen=True)
class PlannedLine:
    unit_id: int
    key: str  # unique within a bill: "fee:<fee item id>" or "late:<fee item>:<bill id>"
    fee_item_id: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    gross: Decimal
    discount: Decimal
    amount: Decimal
    due_date: date
    detail: tuple[str, ...]  # how the amount came about, step by step


@dataclass(frozen=True)
class Skipped:
    unit_id: int
    fee_item_id: int
    reason: str


@dataclass(frozen=True)
class RunInput:
    period: Period
    as_of: date  # late fees count overdue days up to here
    fee_items: Sequence[tuple[FeeItem, Sequence[PriceVersion]]]
    units: Sequence[UnitFacts]
    readings: Mapping[tuple[int, str], Readings] = field(default_factory=dict)
    discounts: Sequence[Discount] = ()
    overdue: Mapping[int, Sequence[OverdueBill]] = field(default_factory=dict)


@dataclass
class RunPlan:
    period: Period
    lines: list[PlannedLine] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    def by_unit(self) -> dict[int, list[PlannedLine]]:
        units: dict[int, list[PlannedLine]] = {}
        for line in self.lines:
            units.setdefault(line.unit_id, []).append(line)
        return units


def occupied_days(stays: Sequence[Stay], period: Period) -> int:
    """Days of the period on which at least one residency was active (overlaps merged)."""
    spans = sorted((max(start, period.start), min(end or period.end, period.end))
                   for start, end in stays)
    days, reach = 0, period.start
    for first, end in spans:
        start = max(first, reach)
        if end > start:
            days += (end - start).days
            reach = max(reach, end)
    return days


def billable_days(unit: UnitFacts, period: Period) -> tuple[int, str]:
    """Days to charge a time-based fee for, and why.

    A vacant unit is charged the whole period (its discount, if any, comes from a vacant-unit
    discount); a unit with no residency on record is charged in full; otherwise the days some
    residency covered: move-in and move-out prorate by days.
    """
    if unit.vacant:
        return period.days, "vacant unit: whole period"
    if not unit.stays:
        return period.days, "no residency on record: whole period"
    days = occupied_days(unit.stays, period)
    return days, f"occupied {days} of {period.days} days"


def plan_run(facts: RunInput) -> RunPlan:
    plan = RunPlan(facts.period)
    for item, versions in facts.fee_items:
        assert item.id is not None
        if item.cycle != facts.period.cycle:
            raise Invalid(f"fee item {item.code} is billed {item.cycle}, not for period "
                          f"{facts.period.label}", field="fee_item_ids")
        version = price_on(versions, facts.period.start)
        for unit in facts.units:
            if not item.applies_to(unit.unit_id, unit.building_id):
                continue
            if version is None:
                plan.skipped.append(Skipped(unit.unit_id, item.id,
                                            f"no price in force on {facts.period.start}"))
                continue
            if item.kind == FeeKind.LATE_FEE:
                plan.lines.extend(_late_fees(item, version, unit, facts))
                continue
            line = _line(item, version, unit, facts, plan)
            if line is not None:
                plan.lines.append(line)
    return plan


def _line(item: FeeItem, version: PriceVersion, unit: UnitFacts, facts: RunInput,
          plan: RunPlan) -> PlannedLine | None:
    assert item.id is not None
    period, rule = facts.period, item.rule
    detail: list[str] = []
    price = version.unit_price
    if item.kind == FeeKind.AREA:
        area = unit.gross_area if item.area_basis == AreaBasis.GROSS else unit.inner_area
        quantity, raw = area, area * price * period.months
        detail.append(f"{item.area_basis.value} area {area} m² × {price} × "
                      f"{period.months} month(s)")
    elif item.kind == FeeKind.PARKING:
        quantity = item.quantity_for(unit.unit_id)
        if quantity == 0:
            return None
        raw = quantity * price * period.months
        detail.append(f"{quantity} space(s) × {price} × {period.months} month(s)")
    elif item.kind == FeeKind.FIXED:
        quantity, raw = Decimal(1), price
        detail.append(f"fixed {price} per {period.cycle.value} period")
    elif item.kind == FeeKind.ONE_OFF:
        quantity, raw = Decimal(1), price
        detail.append(f"one-off {price}")
    else:
        measured = _usage(item, version, unit, facts, plan)
        if measured is None:
            return None
        quantity, raw, steps = measured
        detail.extend(steps)
    if item.kind in TIME_BASED and item.prorate:
        days, why = billable_days(unit, period)
        if days == 0:
            plan.skipped.append(Skipped(unit.unit_id, item.id, "not occupied in the period"))
            return None
        if days != period.days:
            raw = raw * days / period.days
            detail.append(f"prorated {days}/{period.days} days ({why})")
    gross = rule.apply(raw)
    if gross > MAX_AMOUNT:
        raise Invalid(f"fee item {item.code} comes to {gross} for unit {unit.number}: more than "
                      "a bill line holds; check its price and quantities", field="fee_item_ids")
    detail.append(f"= {gross} ({rule.mode.value}, {rule.places} places)")
    applicable = [d for d in facts.discounts if d.applies(
        fee_item_id=item.id, unit_id=unit.unit_id, building_id=unit.building_id,
        vacant=unit.vacant, period_start=period.start, in_arrears=unit.in_arrears)]
    off, notes = discount_on(gross, applicable, rule)
    detail.extend(notes)
    return PlannedLine(unit.unit_id, f"fee:{item.id}", item.id, item.name, quantity, price, gross,
                       off, gross - off, period.due_date(item.due_day, item.prepaid),
                       tuple(detail))


def _usage(item: FeeItem, version: PriceVersion, unit: UnitFacts, facts: RunInput,
           plan: RunPlan) -> tuple[Decimal, Decimal, list[str]] | None:
    assert item.id is not None
    readings = facts.readings.get((unit.unit_id, item.meter), Readings(None, None))
    if readings.current is None:
        plan.skipped.append(Skipped(unit.unit_id, item.id,
                                    f"no {item.meter} reading for {facts.period.label}"))
        return None
    if item.kind == FeeKind.USAGE:
        used, steps = readings.current, [f"{item.meter} usage {readings.current}"]
    else:
        if readings.previous is None:
            plan.skipped.append(Skipped(unit.unit_id, item.id,
                                        f"no earlier {item.meter} reading to subtract"))
            return None
        used = readings.current - readings.previous
        if used < 0:
            plan.skipped.append(Skipped(unit.unit_id, item.id,
                                        f"{item.meter} reading went back "
                                        f"({readings.previous} → {readings.current})"))
            return None
        steps = [f"{item.meter} {readings.current} − {readings.previous} = {used}"]
    tiers = version.tier_list()
    if not tiers:
        steps.append(f"× {version.unit_price}")
        return used, used * version.unit_price, steps
    raw = ZERO
    for quantity, price in tiered(used, tiers):
        raw += quantity * price
        steps.append(f"tier {quantity} × {price} = {quantity * price}")
    return used, raw, steps


def _late_fees(item: FeeItem, version: PriceVersion, unit: UnitFacts,
               facts: RunInput) -> list[PlannedLine]:
    """滞纳金: a rate per overdue day (or started 30 days) after the grace days, on what is
    still unpaid of each earlier bill's principal, capped, less what was charged before."""
    assert item.id is not None
    lines = []
    for bill in facts.overdue.get(unit.unit_id, ()):
        accrued, steps = late_fee(item, version.unit_price, bill, facts.as_of)
        amount = max(ZERO, accrued - bill.late_billed)
        if amount == 0:
            continue
        if bill.late_billed:
            steps.append(f"− {bill.late_billed} charged before = {amount}")
        lines.append(PlannedLine(
            unit.unit_id, f"late:{item.id}:{bill.bill_id}", item.id,
            f"{item.name} ({bill.period})", Decimal(1), version.unit_price, amount, ZERO, amount,
            facts.period.due_date(item.due_day, item.prepaid), tuple(steps)))
    return lines


def late_fee(item: FeeItem, rate: Decimal, bill: OverdueBill,
             as_of: date) -> tuple[Decimal, list[str]]:
    """The late fee accrued on one bill by `as_of`, before subtracting earlier charges."""
    overdue = (as_of - bill.due_date).days
    base = min(bill.outstanding, bill.principal)
    steps = [f"bill {bill.period} due {bill.due_date}, {overdue} day(s) overdue on {as_of}, "
             f"{item.grace_days} day(s) grace"]
    charged = overdue - item.grace_days
    if charged <= 0 or base <= 0:
        return ZERO, steps
    if item.late_mode == LateFeeMode.PER_DAY:
        raw = base * rate * charged
        steps.append(f"{base} × {rate} × {charged} day(s)")
    else:
        months = math.ceil(charged / DAYS_PER_LATE_MONTH)
        raw = base * rate * months
        steps.append(f"{base} × {rate} × {months} month(s)")
    accrued = item.rule.apply(raw)
    steps.append(f"= {accrued}")
    caps = [c for c in (item.cap_amount,
                        None if item.cap_rate is None else
                        item.rule.apply(bill.principal * item.cap_rate)) if c is not None]
    if caps and accrued > min(caps):
        accrued = min(caps)
        steps.append(f"capped at {accrued}")
    return accrued, steps
