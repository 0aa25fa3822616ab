"""Opening balances (期初): what each unit owed or had paid ahead when the hub took over from
the previous system, as the data migration imports them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from hub.domain.audit import AuditAction, entry_by
from hub.domain.billing.fees import FeeItem, FeeKind, PriceVersion
from hub.domain.billing.ledger import OPENING_PERIOD, BalanceEntry, BalanceKind, Bill, BillLine
from hub.domain.billing.money import ZERO, money
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid
from hub.handlers.scope import visible_unit
from hub.ports import Clock, UnitOfWork


@dataclass(frozen=True)
class RecordOpeningBalance(Command):
    """What a unit owed (`owed`, 期初欠费) or had paid ahead (`credit`, 期初预存) when the hub
    took over from the previous system; one of the two, once per unit."""

    unit_id: int
    as_of: date
    owed: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)



async def record_opening_balance(cmd: RecordOpeningBalance, uow: UnitOfWork,
                                 clock: Clock) -> int:
    """Arrears become a bill of period "opening" due on `as_of` (so ageing, payments and late
    fees treat them like any bill); credit becomes prepaid balance. Importing the same balance
    again is a 409, never a second balance."""
    unit = await visible_unit(uow, cmd.actor, cmd.unit_id)
    assert unit.id is not None
    owed, credit = money(cmd.owed, "owed"), money(cmd.credit, "credit")
    if owed < 0 or credit < 0 or (owed > 0) == (credit > 0):
        raise Invalid("give either owed or credit, more than zero", field="owed")
    # (`kind` is find's own parameter: entries are filtered here.)
    credits = [e for e in await uow.find(BalanceEntry, unit_id=unit.id)
               if e.kind == BalanceKind.OPENING]
    arrears = await uow.find_one(Bill, unit_id=unit.id, period=OPENING_PERIOD)
    if credits or arrears is not None:
        raise Conflict(f"unit {unit.number} has an opening balance already", field="unit_id")
    now = clock()
    if credit > 0:
        entry = BalanceEntry(site_id=unit.site_id, unit_id=unit.id, amount=credit,
                             kind=BalanceKind.OPENING, at=now)
        uow.add(entry)
        await uow.flush()
        ident = entry.id
    else:
        item = await _opening_fee_item(uow, unit.site_id, cmd.as_of, now)
        bill = Bill(site_id=unit.site_id, building_id=unit.building_id, unit_id=unit.id,
                    period=OPENING_PERIOD, period_start=cmd.as_of,
                    period_end=cmd.as_of + timedelta(days=1), due_date=cmd.as_of,
                    issued_at=now, total=owed)
        uow.add(bill)
        await uow.flush()
        assert bill.id is not None and item.id is not None
        uow.add(BillLine(bill_id=bill.id, key=OPENING_PERIOD, fee_item_id=item.id,
                         description=item.name, quantity=Decimal(1), unit_price=owed,
                         gross=owed, discount=ZERO, amount=owed, due_date=cmd.as_of,
                         detail=[f"owed when the hub took over on {cmd.as_of}"]))
        ident = bill.id
    uow.audit(entry_by(cmd.actor, now, AuditAction.CONFIG_CHANGED, f"unit:{unit.id}",
                       {"change": "opening_balance", "owed": str(owed),
                        "credit": str(credit)}))
    await uow.commit()
    assert ident is not None
    return ident


async def _opening_fee_item(uow: UnitOfWork, site_id: int, as_of: date,
                            now: datetime) -> FeeItem:
    """The site's one-off item that opening arrears are lines of, made on first use."""
    item = await uow.find_one(FeeItem, site_id=site_id, code=OPENING_PERIOD)
    if item is None:
        item = FeeItem(site_id=site_id, code=OPENING_PERIOD, name="期初欠费 opening balance",
                       kind=FeeKind.ONE_OFF, prorate=False, active=False)
        uow.add(item)
        await uow.flush()
        assert item.id is not None
        uow.add(PriceVersion(fee_item_id=item.id, effective_from=as_of, unit_price=ZERO,
                             created_at=now))
    return item
