"""Billing runs: gather the facts of a site and period, plan (preview), and commit.

Committing stores the lines whose (bill, key) are not stored yet, so the same (site, period,
fee item) committed twice bills once; two commits racing meet at the unique keys of bills and
lines (one gets 409, its retry creates nothing). A new or grown bill takes what it can from the
unit's prepaid balance at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

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
from hub.domain.property import UnitStatus
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


class RunStore(Protocol):
    """Bulk reads and writes of a run, in the unit of work's transaction (the SQL one is
    hub.store.billing_runs_sql.SqlBillingRuns)."""

    async def units(self, uow: UnitOfWork, site_id: int) -> list[Any]: ...
    async def stays(self, uow: UnitOfWork,
                    site_id: int) -> dict[int, list[tuple[date, date | None]]]: ...
    async def readings(self, uow: UnitOfWork, site_id: int, label: str,
                       meters: Iterable[str]) -> dict[tuple[int, str], Readings]: ...
    async def period_bills(self, uow: UnitOfWork, site_id: int,
                           label: str) -> dict[int, int]: ...
    async def load_bills(self, uow: UnitOfWork, ids: Sequence[int]) -> list[Bill]: ...
    async def stored_keys(self, uow: UnitOfWork, bill_of: Mapping[int, int],
                          fee_item_ids: Iterable[int]) -> dict[int, set[str]]: ...
    async def owing_units(self, uow: UnitOfWork, site_id: int, as_of: date) -> set[int]: ...
    async def overdue_bills(self, uow: UnitOfWork, site_id: int,
                            as_of: date) -> list[Bill]: ...
    async def insert_bills(self, uow: UnitOfWork, rows: Sequence[dict[str, Any]],
                           order: Sequence[int]) -> dict[int, int]: ...
    async def insert_lines(self, uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> None: ...


async def preview_run(cmd: PreviewRun, uow: UnitOfWork, run_store: RunStore) -> dict[str, Any]:
    plan, units, existing = await _plan(cmd, uow, run_store)
    stored = await run_store.stored_keys(uow, existing, cmd.fee_item_ids)
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


async def commit_run(cmd: CommitRun, uow: UnitOfWork, clock: Clock,
                     run_store: RunStore) -> dict[str, Any]:
    """New bills in multi-row inserts, then the lines not stored yet likewise, then the
    prepaid balances, all in one transaction: a run's cost does not grow with a statement
    per unit, and only the period's own bills are read."""
    plan, units, existing = await _plan(cmd, uow, run_store)
    label = plan.period.label
    stored = await run_store.stored_keys(uow, existing, cmd.fee_item_ids)
    now = clock()
    by_unit = sorted(plan.by_unit().items())
    # Born with its total: no UPDATE per new bill when its lines follow.
    fresh: list[dict[str, Any]] = [
             {"site_id": cmd.site_id, "building_id": units[unit_id].building_id,
              "unit_id": unit_id, "period": label, "period_start": plan.period.start,
              "period_end": plan.period.end, "due_date": min(ln.due_date for ln in planned),
              "issued_at": now, "total": sum((ln.amount for ln in planned), ZERO),
              "paid": ZERO, "written_off": ZERO}
             for unit_id, planned in by_unit if unit_id not in existing]
    born = await run_store.insert_bills(uow, fresh, [u for u, _ in by_unit if u not in existing])
    bill_of = existing | born
    kept, grown = 0, list[tuple[int, int]]()
    created: list[PlannedLine] = []
    rows: list[dict[str, Any]] = []
    growth: dict[int, list[PlannedLine]] = {}
    for unit_id, planned in by_unit:
        new = [ln for ln in planned if ln.key not in stored.get(unit_id, ())]
        kept += len(planned) - len(new)
        if not new:
            continue
        bill_id = bill_of[unit_id]
        rows.extend({"bill_id": bill_id, "key": ln.key, "fee_item_id": ln.fee_item_id,
                     "description": ln.description, "quantity": ln.quantity,
                     "unit_price": ln.unit_price, "gross": ln.gross, "discount": ln.discount,
                     "amount": ln.amount, "paid": ZERO, "written_off": ZERO,
                     "due_date": ln.due_date, "detail": list(ln.detail)} for ln in new)
        if unit_id not in born:
            growth[bill_id] = new
        created.extend(new)
        grown.append((unit_id, bill_id))
    await run_store.insert_lines(uow, rows)
    for bill in await run_store.load_bills(uow, sorted(growth)):
        assert bill.id is not None
        bill.total += sum((ln.amount for ln in growth[bill.id]), ZERO)
        bill.due_date = min(bill.due_date, *(ln.due_date for ln in growth[bill.id]))
    await uow.flush()
    await _deduct_balances(uow, cmd.site_id, grown, now, run_store)
    await uow.commit()
    return {"site_id": cmd.site_id, "period": label, "as_of": _as_of(cmd),
            "bills_created": len(fresh), "lines_created": len(created),
            "lines_already_billed": kept, "total_created": sum((ln.amount for ln in created),
                                                               ZERO),
            "skipped": [{"unit_id": s.unit_id, "fee_item_id": s.fee_item_id,
                         "reason": s.reason} for s in plan.skipped]}


async def _deduct_balances(uow: UnitOfWork, site_id: int, bills: list[tuple[int, int]],
                           now: Any, run_store: RunStore) -> None:
    """自动抵扣: a prepaid balance pays what it can of a new or grown bill (unit id, bill id)
    right away. Only the bills of units with a balance are read back as entities."""
    balances: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for entry in await uow.find(BalanceEntry, site_id=site_id):
        balances[entry.unit_id] += entry.amount
    if not any(amount > 0 for amount in balances.values()):
        return
    wanted = sorted(bill_id for unit_id, bill_id in bills if balances[unit_id] > 0)
    for bill in await run_store.load_bills(uow, wanted):
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


async def _plan(cmd: PreviewRun, uow: UnitOfWork,
                run_store: RunStore) -> tuple[RunPlan, dict[int, UnitFacts], dict[int, int]]:
    """The run's facts: the site's units and stays, the readings it bills, the bills overdue
    on `as_of` (arrears flags, late fees) and the period's own bills — never the whole
    history of the site's bills."""
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
    late_items = [i for i, _ in items if i.kind == FeeKind.LATE_FEE]
    # The arrears flag needs only the owing units; late fees need the overdue bills.
    overdue_bills = await run_store.overdue_bills(uow, cmd.site_id, as_of) if late_items \
        else []
    owing = {b.unit_id for b in overdue_bills} if late_items \
        else await run_store.owing_units(uow, cmd.site_id, as_of)
    units = await _unit_facts(uow, run_store, cmd.site_id, owing)
    readings = await run_store.readings(uow, cmd.site_id, period.label,
                                        {i.meter for i, _ in items
                                         if i.kind in (FeeKind.METERED, FeeKind.USAGE)})
    existing = await run_store.period_bills(uow, cmd.site_id, period.label)
    overdue = await _overdue(uow, overdue_bills, late_items, period.label,
                             set(existing.values()))
    discounts = list(await uow.find(Discount, site_id=cmd.site_id, active=True))
    plan = plan_run(RunInput(period=period, as_of=as_of, fee_items=items,
                             units=list(units.values()), readings=readings,
                             discounts=discounts, overdue=overdue))
    return plan, units, existing


async def _unit_facts(uow: UnitOfWork, run_store: RunStore, site_id: int,
                      owing: set[int]) -> dict[int, UnitFacts]:
    stays = await run_store.stays(uow, site_id)
    facts = {}
    for unit_id, building_id, number, gross, inner, status in await run_store.units(
            uow, site_id):
        facts[unit_id] = UnitFacts(
            unit_id=unit_id, building_id=building_id, number=number, gross_area=gross,
            inner_area=inner, vacant=status == UnitStatus.VACANT,
            stays=tuple(sorted(stays.get(unit_id, ()), key=_stay_order)),
            in_arrears=unit_id in owing)
    return facts


def _stay_order(stay: tuple[date, date | None]) -> tuple[date, date]:
    return stay[0], stay[1] or date.max


async def _overdue(uow: UnitOfWork, bills: list[Bill], late_items: list[FeeItem],
                   label: str, this_period: set[int]) -> dict[int, list[OverdueBill]]:
    """`bills`: those due before `as_of` and unpaid; `this_period`: ids of the period's
    bills."""
    if not late_items:
        return {}
    late_billed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    earlier = [b for b in bills if b.period != label]
    # Charged in earlier periods' bills only: this period's own late lines are what the run
    # plans again (and finds stored), so a second commit plans the same lines.
    overdue: dict[int, list[OverdueBill]] = defaultdict(list)
    lines_of: dict[int, list[BillLine]] = {}
    for bill in earlier:
        lines_of[bill.id or 0] = list(await uow.find(BillLine, bill_id=bill.id))
    names = {str(b.id) for b in earlier}
    for item in late_items:
        for line in await uow.find(BillLine, fee_item_id=item.id):
            name = line.key.rsplit(":", 1)[-1]
            # key "late:<fee item>:<bill>": what was charged on that bill, by any item
            if name in names and line.bill_id not in this_period:
                late_billed[name] += line.amount
    for bill in sorted(earlier, key=lambda b: (b.due_date, b.id or 0)):
        if bill.outstanding <= 0:
            continue
        assert bill.id is not None
        principal = sum((ln.amount for ln in lines_of[bill.id] if not ln.is_late_fee), ZERO)
        overdue[bill.unit_id].append(OverdueBill(
            bill_id=bill.id, unit_id=bill.unit_id, period=bill.period, due_date=bill.due_date,
            principal=principal, outstanding=bill.outstanding,
            late_billed=late_billed[str(bill.id)]))
    return overdue


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {PreviewRun: preview_run, CommitRun: commit_run}
