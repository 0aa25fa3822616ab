"""Billing runs: gather the facts of a site and period, plan (preview), and commit.

Committing stores the lines whose (bill, key) are not stored yet, so the same (site, period,
fee item) committed twice bills once; two commits racing meet at the unique keys of bills and
lines (one gets 409, its retry creates nothing). A new or grown bill takes what it can from the
unit's prepaid balance at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from hub.domain.billing.discounts import Discount
from hub.domain.billing.fees import FeeItem, FeeKind, PriceVersion
from hub.domain.billing.ledger import (
    AllocationKind,
    BalanceEntry,
    BalanceKind,
    Bill,
    BillLine,
    settle,
)
from hub.domain.billing.meters import MeterReading
from hub.domain.billing.money import ZERO
from hub.domain.billing.periods import parse_period
from hub.domain.billing.run import (
    OverdueBill,
    PlannedLine,
    Readings,
    RunInput,
    RunPlan,
    UnitFacts,
    plan_run,
)
from hub.domain.commands import Command
from hub.domain.errors import Invalid, NotFound
from hub.domain.property import Unit, UnitStatus
from hub.domain.residents import Residency
from hub.handlers.scope import managed_site
from hub.ports import Clock, UnitOfWork


@dataclass(frozen=True)
class PreviewRun(Command):
    site_id: int
    period: str
    fee_item_ids: tuple[int, ...]
    as_of: date | None = None  # late fees count overdue days up to here; default: period end


@dataclass(frozen=True)
class CommitRun(PreviewRun):
    pass


async def preview_run(cmd: PreviewRun, uow: UnitOfWork) -> dict[str, Any]:
    plan, units, existing = await _plan(cmd, uow)
    stored = await _stored_keys(uow, existing, cmd.fee_item_ids)
    rows = []
    for unit_id, lines in sorted(plan.by_unit().items()):
        rows.append({
            "unit_id": unit_id, "number": units[unit_id].number,
            "building_id": units[unit_id].building_id,
            "total": sum((ln.amount for ln in lines), ZERO),
            "lines": [_line_out(ln, ln.key in stored.get(unit_id, ())) for ln in lines],
        })
    return {"site_id": cmd.site_id, "period": plan.period.label, "as_of": _as_of(cmd),
            "total": plan.total(), "lines": len(plan.lines), "units": rows,
            "skipped": [{"unit_id": s.unit_id, "fee_item_id": s.fee_item_id,
                         "reason": s.reason} for s in plan.skipped]}


async def commit_run(cmd: CommitRun, uow: UnitOfWork, clock: Clock) -> dict[str, Any]:
    """New bills first (one flush), then the lines not stored yet (one flush), then the
    prepaid balances: a run's cost does not grow with a query per unit."""
    plan, units, existing = await _plan(cmd, uow)
    stored = await _stored_keys(uow, existing, cmd.fee_item_ids)
    now = clock()
    by_unit = sorted(plan.by_unit().items())
    fresh = []
    for unit_id, planned in by_unit:
        if unit_id not in existing:
            unit = units[unit_id]
            # Born with its total: no UPDATE per new bill when its lines follow.
            bill = Bill(site_id=cmd.site_id, building_id=unit.building_id, unit_id=unit_id,
                        period=plan.period.label, period_start=plan.period.start,
                        period_end=plan.period.end,
                        due_date=min(ln.due_date for ln in planned), issued_at=now,
                        total=sum((ln.amount for ln in planned), ZERO))
            uow.add(bill)
            existing[unit_id] = bill
            fresh.append(bill)
    await uow.flush()
    born = {id(bill) for bill in fresh}
    kept, grown = 0, []
    created: list[PlannedLine] = []
    for unit_id, planned in by_unit:
        bill = existing[unit_id]
        assert bill.id is not None
        new = [ln for ln in planned if ln.key not in stored.get(unit_id, ())]
        kept += len(planned) - len(new)
        if not new:
            continue
        for ln in new:
            uow.add(BillLine(bill_id=bill.id, key=ln.key, fee_item_id=ln.fee_item_id,
                             description=ln.description, quantity=ln.quantity,
                             unit_price=ln.unit_price, gross=ln.gross, discount=ln.discount,
                             amount=ln.amount, due_date=ln.due_date, detail=list(ln.detail)))
        if id(bill) not in born:
            bill.total += sum((ln.amount for ln in new), ZERO)
            bill.due_date = min(bill.due_date, *(ln.due_date for ln in new))
        created.extend(new)
        grown.append(bill)
    await uow.flush()
    await _deduct_balances(uow, cmd.site_id, grown, now)
    await uow.commit()
    return {"site_id": cmd.site_id, "period": plan.period.label, "as_of": _as_of(cmd),
            "bills_created": len(fresh), "lines_created": len(created),
            "lines_already_billed": kept, "total_created": sum((ln.amount for ln in created),
                                                               ZERO),
            "skipped": [{"unit_id": s.unit_id, "fee_item_id": s.fee_item_id,
                         "reason": s.reason} for s in plan.skipped]}


async def _stored_keys(uow: UnitOfWork, bills: dict[int, Bill],
                       fee_item_ids: tuple[int, ...]) -> dict[int, set[str]]:
    """Keys already billed in these bills for these fee items, per unit: one read per item."""
    units_of = {bill.id: unit_id for unit_id, bill in bills.items()}
    keys: dict[int, set[str]] = defaultdict(set)
    for fee_item_id in set(fee_item_ids):
        for line in await uow.find(BillLine, fee_item_id=fee_item_id):
            if line.bill_id in units_of:
                keys[units_of[line.bill_id]].add(line.key)
    return keys


async def _deduct_balances(uow: UnitOfWork, site_id: int, bills: list[Bill], now: Any) -> None:
    """自动抵扣: a prepaid balance pays what it can of a new or grown bill right away."""
    balances: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for entry in await uow.find(BalanceEntry, site_id=site_id):
        balances[entry.unit_id] += entry.amount
    for bill in bills:
        use = min(balances[bill.unit_id], bill.outstanding)
        if use <= 0:
            continue
        lines = await uow.find(BillLine, bill_id=bill.id)
        for allocation in settle(bill, lines, use, AllocationKind.BALANCE, now):
            uow.add(allocation)
        uow.add(BalanceEntry(site_id=bill.site_id, unit_id=bill.unit_id, amount=-use,
                             kind=BalanceKind.DEDUCTION, at=now, bill_id=bill.id))
        balances[bill.unit_id] -= use


async def unit_balance(uow: UnitOfWork, unit_id: int) -> Decimal:
    return sum((e.amount for e in await uow.find(BalanceEntry, unit_id=unit_id)), ZERO)


def _as_of(cmd: PreviewRun) -> date:
    return cmd.as_of or parse_period(cmd.period).end


def _line_out(line: PlannedLine, stored: bool) -> dict[str, Any]:
    return {"key": line.key, "fee_item_id": line.fee_item_id, "description": line.description,
            "quantity": line.quantity, "unit_price": line.unit_price, "gross": line.gross,
            "discount": line.discount, "amount": line.amount, "due_date": line.due_date,
            "detail": list(line.detail), "already_billed": stored}


async def _plan(cmd: PreviewRun, uow: UnitOfWork) -> tuple[RunPlan, dict[int, UnitFacts],
                                                          dict[int, Bill]]:
    await managed_site(uow, cmd.actor, cmd.site_id)
    period = parse_period(cmd.period)
    as_of = _as_of(cmd)
    if not cmd.fee_item_ids:
        raise Invalid("name at least one fee item", field="fee_item_ids")
    items: list[tuple[FeeItem, list[PriceVersion]]] = []
    for fee_item_id in dict.fromkeys(cmd.fee_item_ids):
        item = await uow.get(FeeItem, fee_item_id)
        if item is None or item.site_id != cmd.site_id:
            raise NotFound("fee item", fee_item_id)
        if not item.active:
            raise Invalid(f"fee item {item.code} is not active", field="fee_item_ids")
        items.append((item, list(await uow.find(PriceVersion, fee_item_id=fee_item_id))))
    site_bills = list(await uow.find(Bill, site_id=cmd.site_id))
    owing = {b.unit_id for b in site_bills if b.outstanding > 0 and b.due_date < as_of}
    units = await _unit_facts(uow, cmd.site_id, owing)
    readings = await _readings(uow, cmd.site_id, period.label,
                               {i.meter for i, _ in items if i.kind in (FeeKind.METERED,
                                                                        FeeKind.USAGE)})
    overdue = await _overdue(uow, site_bills, [i for i, _ in items
                                              if i.kind == FeeKind.LATE_FEE], as_of,
                             period.label)
    discounts = list(await uow.find(Discount, site_id=cmd.site_id, active=True))
    plan = plan_run(RunInput(period=period, as_of=as_of, fee_items=items,
                             units=list(units.values()), readings=readings,
                             discounts=discounts, overdue=overdue))
    existing = {b.unit_id: b for b in site_bills if b.period == period.label}
    return plan, units, existing


async def _unit_facts(uow: UnitOfWork, site_id: int, owing: set[int]) -> dict[int, UnitFacts]:
    units = sorted(await uow.find(Unit, site_id=site_id), key=lambda u: u.id or 0)
    ids = {u.id for u in units}
    # One read of every residency; per-unit reads would be one query per unit.
    stays: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for residency in await uow.find(Residency):
        if residency.unit_id in ids:
            stays[residency.unit_id].append((residency.moved_in, residency.moved_out))
    facts = {}
    for unit in units:
        assert unit.id is not None
        facts[unit.id] = UnitFacts(
            unit_id=unit.id, building_id=unit.building_id, number=unit.number,
            gross_area=unit.gross_area, inner_area=unit.inner_area,
            vacant=unit.status == UnitStatus.VACANT,
            stays=tuple(sorted(stays[unit.id], key=_stay_order)),
            in_arrears=unit.id in owing)
    return facts


def _stay_order(stay: tuple[date, date | None]) -> tuple[date, date]:
    return stay[0], stay[1] or date.max


async def _readings(uow: UnitOfWork, site_id: int, label: str,
                    meters: set[str]) -> dict[tuple[int, str], Readings]:
    """This period's reading and the latest earlier one, per unit and meter."""
    if not meters:
        return {}
    current: dict[tuple[int, str], Decimal] = {}
    previous: dict[tuple[int, str], tuple[str, Decimal]] = {}
    for reading in await uow.find(MeterReading, site_id=site_id):
        key = (reading.unit_id, reading.meter)
        if reading.meter not in meters:
            continue
        if reading.period == label:
            current[key] = reading.value
        elif reading.period < label and (key not in previous or previous[key][0]
                                         < reading.period):
            previous[key] = (reading.period, reading.value)
    return {key: Readings(current.get(key), previous[key][1] if key in previous else None)
            for key in current.keys() | previous.keys()}


async def _overdue(uow: UnitOfWork, bills: list[Bill], late_items: list[FeeItem], as_of: date,
                   label: str) -> dict[int, list[OverdueBill]]:
    if not late_items:
        return {}
    # Charged in earlier periods' bills only: this period's own late lines are what the run
    # plans again (and finds stored), so a second commit plans the same lines.
    this_period = {b.id for b in bills if b.period == label}
    late_billed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in late_items:
        for line in await uow.find(BillLine, fee_item_id=item.id):
            if line.bill_id not in this_period:
                # key "late:<fee item>:<bill>": what was charged on that bill, by any item
                late_billed[line.key.rsplit(":", 1)[-1]] += line.amount
    overdue: dict[int, list[OverdueBill]] = defaultdict(list)
    for bill in sorted(bills, key=lambda b: (b.due_date, b.id or 0)):
        if bill.period == label or bill.due_date >= as_of or bill.outstanding <= 0:
            continue
        assert bill.id is not None
        lines = await uow.find(BillLine, bill_id=bill.id)
        principal = sum((ln.amount for ln in lines if not ln.is_late_fee), ZERO)
        overdue[bill.unit_id].append(OverdueBill(
            bill_id=bill.id, unit_id=bill.unit_id, period=bill.period, due_date=bill.due_date,
            principal=principal, outstanding=bill.outstanding,
            late_billed=late_billed[str(bill.id)]))
    return overdue


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {PreviewRun: preview_run, CommitRun: commit_run}
