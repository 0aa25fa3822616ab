"""Fee items, their prices, discounts and meter readings: the standards billing runs apply.

The commands live here rather than in hub.domain.commands because only this module handles
them (as with devices). Everything is scoped: fee items and discounts belong to a site and need
the whole site; a reading needs its unit to be visible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

from hub.domain.accounts import Actor
from hub.domain.audit import AuditAction, entry_by
from hub.domain.billing.discounts import Discount, DiscountKind
from hub.domain.billing.fees import AreaBasis, FeeItem, FeeKind, LateFeeMode, PriceVersion
from hub.domain.billing.ledger import Bill, BillLine
from hub.domain.billing.meters import MeterReading, ReadingSource
from hub.domain.billing.money import RoundingMode
from hub.domain.billing.periods import Cycle, attributed_period, parse_period
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.property import Building, Unit
from hub.handlers.billing_opening import RecordOpeningBalance, record_opening_balance
from hub.handlers.scope import managed_site, visible_unit
from hub.ports import Clock, UnitOfWork

# What a change may touch. Kind, cycle, code and site define what was billed: they stay.
EDITABLE = frozenset({"name", "due_day", "places", "rounding", "prepaid", "building_ids",
                      "unit_ids", "quantities", "prorate", "grace_days", "cap_amount",
                      "cap_rate", "active", "late_mode"})


@dataclass(frozen=True)
class CreateFeeItem(Command):
    site_id: int
    code: str
    name: str
    kind: FeeKind
    unit_price: Decimal
    effective_from: date
    tiers: tuple[tuple[Decimal | None, Decimal], ...] = ()
    cycle: Cycle = Cycle.MONTHLY
    due_day: int = 15
    places: int = 2
    rounding: RoundingMode = RoundingMode.HALF_UP
    prepaid: bool = False
    area_basis: AreaBasis = AreaBasis.GROSS
    meter: str = ""
    building_ids: tuple[int, ...] = ()
    unit_ids: tuple[int, ...] = ()
    quantities: Mapping[int, Decimal] = field(default_factory=dict)
    prorate: bool = True
    late_mode: LateFeeMode = LateFeeMode.PER_DAY
    grace_days: int = 0
    cap_amount: Decimal | None = None
    cap_rate: Decimal | None = None


@dataclass(frozen=True)
class ChangeFeeItem(Command):
    fee_item_id: int
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class AddPrice(Command):
    fee_item_id: int
    effective_from: date
    unit_price: Decimal
    tiers: tuple[tuple[Decimal | None, Decimal], ...] = ()


@dataclass(frozen=True)
class CreateDiscount(Command):
    site_id: int
    name: str
    kind: DiscountKind
    percent: Decimal | None = None
    amount: Decimal | None = None
    fee_item_id: int | None = None
    building_ids: tuple[int, ...] = ()
    unit_ids: tuple[int, ...] = ()
    valid_from: date | None = None
    valid_to: date | None = None
    only_if_no_arrears: bool = False


@dataclass(frozen=True)
class RecordReading(Command):
    unit_id: int
    meter: str
    value: Decimal
    read_on: date
    period: str | None = None  # None: the month the reading measures, by its date
    source: ReadingSource = ReadingSource.STAFF


def _tiers(tiers: tuple[tuple[Decimal | None, Decimal], ...]) -> list[dict[str, str | None]]:
    return [{"up_to": None if up_to is None else str(up_to), "price": str(price)}
            for up_to, price in tiers]


async def visible_fee_item(uow: UnitOfWork, actor: Actor, fee_item_id: int) -> FeeItem:
    item = await uow.get(FeeItem, fee_item_id)
    if item is None or not actor.sees_site(item.site_id) or actor.is_resident:
        raise NotFound("fee item", fee_item_id)
    return item


async def _applicability(uow: UnitOfWork, site_id: int, building_ids: tuple[int, ...],
                         unit_ids: tuple[int, ...], quantities: Mapping[int, Any]) -> None:
    """Buildings and units named by a fee item or discount are of its own site."""
    for building_id in building_ids:
        building = await uow.get(Building, building_id)
        if building is None or building.site_id != site_id:
            raise NotFound("building", building_id)
    for unit_id in (*unit_ids, *quantities):
        unit = await uow.get(Unit, unit_id)
        if unit is None or unit.site_id != site_id:
            raise NotFound("unit", unit_id)


async def create_fee_item(cmd: CreateFeeItem, uow: UnitOfWork, clock: Clock) -> int:
    await managed_site(uow, cmd.actor, cmd.site_id)
    await _applicability(uow, cmd.site_id, cmd.building_ids, cmd.unit_ids, cmd.quantities)
    if await uow.find_one(FeeItem, site_id=cmd.site_id, code=cmd.code):
        raise Conflict(f"fee item code {cmd.code!r} exists in this site", field="code")
    values = {f.name: getattr(cmd, f.name) for f in fields(FeeItem)
              if f.init and f.name not in ("id", "active") and hasattr(cmd, f.name)}
    values |= {"building_ids": list(cmd.building_ids), "unit_ids": list(cmd.unit_ids),
               "quantities": {str(k): str(v) for k, v in cmd.quantities.items()}}
    item = FeeItem(**values)
    price = PriceVersion(fee_item_id=0, effective_from=cmd.effective_from,
                         unit_price=cmd.unit_price, tiers=_tiers(cmd.tiers), created_at=clock())
    uow.add(item)
    await uow.flush()
    assert item.id is not None
    price.fee_item_id = item.id
    uow.add(price)
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.CONFIG_CHANGED, f"fee_item:{item.id}",
                       {"change": "created", "kind": item.kind.value}))
    await uow.commit()
    return item.id


async def change_fee_item(cmd: ChangeFeeItem, uow: UnitOfWork, clock: Clock) -> None:
    unknown = set(cmd.changes) - EDITABLE
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"{name} cannot be changed on a fee item", field=name)
    item = await visible_fee_item(uow, cmd.actor, cmd.fee_item_id)
    await managed_site(uow, cmd.actor, item.site_id)
    changes = dict(cmd.changes)
    if "quantities" in changes:
        changes["quantities"] = {str(k): str(v) for k, v in changes["quantities"].items()}
    await _applicability(uow, item.site_id, tuple(changes.get("building_ids", ())),
                         tuple(changes.get("unit_ids", ())),
                         {int(k): v for k, v in changes.get("quantities", {}).items()})
    values = {f.name: getattr(item, f.name) for f in fields(FeeItem) if f.init}
    values.update(changes)
    FeeItem(**values)  # the domain's own checks, on a copy
    for name, value in changes.items():
        setattr(item, name, list(value) if isinstance(value, tuple) else value)
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.CONFIG_CHANGED, f"fee_item:{item.id}",
                       {"change": "changed", "fields": ",".join(sorted(changes))}))
    await uow.commit()


async def add_price(cmd: AddPrice, uow: UnitOfWork, clock: Clock) -> int:
    """A new price from a date on. Periods already billed keep the price they were billed at,
    so a version may not start on or before the start of a billed period."""
    item = await visible_fee_item(uow, cmd.actor, cmd.fee_item_id)
    await managed_site(uow, cmd.actor, item.site_id)
    if await uow.find_one(PriceVersion, fee_item_id=item.id, effective_from=cmd.effective_from):
        raise Conflict(f"a price from {cmd.effective_from} exists for this fee item",
                       field="effective_from")
    billed = await last_billed_start(uow, cmd.fee_item_id)
    if billed is not None and cmd.effective_from <= billed:
        raise Conflict(f"periods up to the one starting {billed} are billed already; a new "
                       "price must start after it", field="effective_from")
    price = PriceVersion(fee_item_id=cmd.fee_item_id, effective_from=cmd.effective_from,
                         unit_price=cmd.unit_price, tiers=_tiers(cmd.tiers), created_at=clock())
    uow.add(price)
    await uow.flush()
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.CONFIG_CHANGED, f"fee_item:{item.id}",
                       {"change": "price", "effective_from": cmd.effective_from.isoformat()}))
    await uow.commit()
    assert price.id is not None
    return price.id


async def last_billed_start(uow: UnitOfWork, fee_item_id: int) -> date | None:
    starts = [bill.period_start for line in await uow.find(BillLine, fee_item_id=fee_item_id)
              if (bill := await uow.get(Bill, line.bill_id)) is not None]
    return max(starts) if starts else None


async def create_discount(cmd: CreateDiscount, uow: UnitOfWork, clock: Clock) -> int:
    await managed_site(uow, cmd.actor, cmd.site_id)
    await _applicability(uow, cmd.site_id, cmd.building_ids, cmd.unit_ids, {})
    if cmd.fee_item_id is not None:
        item = await uow.get(FeeItem, cmd.fee_item_id)
        if item is None or item.site_id != cmd.site_id:
            raise NotFound("fee item", cmd.fee_item_id)
    discount = Discount(
        site_id=cmd.site_id, name=cmd.name, kind=cmd.kind, percent=cmd.percent,
        amount=cmd.amount, fee_item_id=cmd.fee_item_id, building_ids=list(cmd.building_ids),
        unit_ids=list(cmd.unit_ids), valid_from=cmd.valid_from, valid_to=cmd.valid_to,
        only_if_no_arrears=cmd.only_if_no_arrears)
    uow.add(discount)
    await uow.flush()
    assert discount.id is not None
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.CONFIG_CHANGED,
                       f"discount:{discount.id}", {"change": "created", "kind": cmd.kind.value}))
    await uow.commit()
    return discount.id


async def record_reading(cmd: RecordReading, uow: UnitOfWork, clock: Clock) -> int:
    unit = await visible_unit(uow, cmd.actor, cmd.unit_id)
    assert unit.id is not None
    label = parse_period(cmd.period).label if cmd.period else \
        attributed_period(cmd.read_on).label
    if parse_period(label).cycle != Cycle.MONTHLY:
        raise Invalid("a reading bills one month, like 2026-11", field="period")
    if await uow.find_one(MeterReading, unit_id=unit.id, meter=cmd.meter, period=label):
        raise Conflict(f"a {cmd.meter} reading for {label} exists for this unit",
                       field="period")
    reading = MeterReading(site_id=unit.site_id, unit_id=unit.id, meter=cmd.meter, period=label,
                           value=cmd.value, read_on=cmd.read_on, source=cmd.source,
                           created_at=clock(), entered_by=cmd.actor.account_id)
    uow.add(reading)
    await uow.commit()
    assert reading.id is not None
    return reading.id


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    CreateFeeItem: create_fee_item,
    ChangeFeeItem: change_fee_item,
    AddPrice: add_price,
    CreateDiscount: create_discount,
    RecordReading: record_reading,
    RecordOpeningBalance: record_opening_balance,
}
