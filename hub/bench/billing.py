"""`hub bench billing`: a monthly billing run of a 10,000-unit community, preview and commit.

A fresh database (SQLite in a temporary folder, or a new database on the server `--database`
names) is seeded with one site of N units in buildings of 100, a resident per occupied unit
(2 % vacant, 1 % moving out on the 20th), three fee items — an area property fee, metered
water with three tiers and a reading per month, a parking fee for a share of the units — and,
by default, the previous month already billed and unpaid (so the run has a history to skip
and arrears to flag). Seeding writes rows with Core inserts and is not timed; the fee items
go through the billing handlers. Timed: the preview, the commit, and a second commit of the
same run (which must create nothing) through the bus, as the API calls them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, insert, select

from hub.bench.freshdb import backend_of, fresh_database
from hub.bootstrap import Hub, bootstrap
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM
from hub.domain.billing.fees import FeeKind
from hub.domain.billing.meters import ReadingSource
from hub.domain.property import UnitStatus
from hub.domain.residents import Relation
from hub.handlers.billing import CreateFeeItem
from hub.handlers.billing_runs import CommitRun, PreviewRun
from hub.settings import load_settings
from hub.store.billing_tables import bill_lines, bills, meter_readings
from hub.store.tables import buildings, residencies, residents, units

D = Decimal
UNITS_PER_BUILDING = 100
PERIOD, PREVIOUS = "2026-11", "2026-10"
READING_MONTHS = ("2026-09", "2026-10", "2026-11")


@dataclass(frozen=True)
class BillingPlan:
    units: int = 10_000
    database: str | None = None  # a server URL; None: SQLite in a temporary folder
    parking_share: float = 0.3
    history: bool = True  # the previous month billed (and unpaid) before the timed run


@dataclass(frozen=True)
class Seeded:
    site: int
    fee_items: tuple[int, ...]
    units: int
    occupied: int
    parking: int


async def run(plan: BillingPlan) -> dict[str, Any]:
    async with fresh_database(plan.database, "billing") as url:
        settings = load_settings(None, mode="demo", log_level="WARNING",
                                 database={"url": url})
        hub = bootstrap(settings, clock=lambda: datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
        try:
            t0 = time.perf_counter()
            seeded = await seed(hub, plan)
            if plan.history:
                await hub.bus.handle(CommitRun(SYSTEM, site_id=seeded.site, period=PREVIOUS,
                                               fee_item_ids=seeded.fee_items))
            seed_s = time.perf_counter() - t0
            before = await _counts(hub)
            run_args: dict[str, Any] = {"site_id": seeded.site, "period": PERIOD,
                                        "fee_item_ids": seeded.fee_items}
            cpu0, t0 = time.process_time(), time.perf_counter()
            preview = await hub.bus.handle(PreviewRun(SYSTEM, **run_args))
            t1 = time.perf_counter()
            committed = await hub.bus.handle(CommitRun(SYSTEM, **run_args))
            t2, cpu1 = time.perf_counter(), time.process_time()
            after = await _counts(hub)
            t3 = time.perf_counter()
            again = await hub.bus.handle(CommitRun(SYSTEM, **run_args))
            t4 = time.perf_counter()
            final = await _counts(hub)
        finally:
            await hub.close()
    if again["lines_created"] or again["bills_created"]:
        raise AssertionError(f"the second commit created rows: {again}")
    return {
        "scenario": "billing",
        "units": plan.units,
        "preview_s": round(t1 - t0, 3),
        "commit_s": round(t2 - t1, 3),
        "total_s": round(t2 - t0, 3),
        "bills": after[0] - before[0],
        "lines": after[1] - before[1],
        "backend": backend_of(plan.database),
        "recommit_s": round(t4 - t3, 3),
        "recommit_created": again["lines_created"] + again["bills_created"],
        "preview_lines": preview["lines"],
        "skipped": len(preview["skipped"]),
        "total_billed": str(committed["total_created"]),
        "history_bills": before[0],
        "unchanged_after_recommit": final == after,
        "occupied": seeded.occupied,
        "parking_units": seeded.parking,
        "seed_s": round(seed_s, 2),
        "cpu_s": round(cpu1 - cpu0, 3),
        "cores": os.cpu_count(),
    }


def describe(result: dict[str, Any]) -> str:
    return "\n".join((
        f"billing run {PERIOD}: {result['units']} units on {result['backend']}"
        f" ({result['history_bills']} bills of {PREVIOUS} already stored)",
        f"  preview   {result['preview_s']:7.2f} s  ({result['preview_lines']} lines planned,"
        f" {result['skipped']} skipped)",
        f"  commit    {result['commit_s']:7.2f} s  ({result['bills']} bills,"
        f" {result['lines']} lines, {result['total_billed']} billed)",
        f"  together  {result['total_s']:7.2f} s  (target < 10 s; {result['cpu_s']} s CPU of"
        f" this process, {result['cores']} cores)",
        f"  again     {result['recommit_s']:7.2f} s  ({result['recommit_created']} rows created)",
    ))


async def seed(hub: Hub, plan: BillingPlan) -> Seeded:
    """Site, buildings, units, residents and readings by Core inserts; fee items by command."""
    site = await hub.bus.handle(c.CreateSite(SYSTEM, code="bench", name="Bench Gardens"))
    n_buildings = -(-plan.units // UNITS_PER_BUILDING)
    building_ids = await _insert(hub, buildings, [
        {"site_id": site, "code": f"b{b + 1}", "name": f"{b + 1}号楼", "floors": 20}
        for b in range(n_buildings)])
    unit_rows = []
    for i in range(plan.units):
        floor, door = divmod(i % UNITS_PER_BUILDING, 5)
        gross = D(6000 + (i * 3701) % 9000) / 100  # 60.00–149.99 m²
        unit_rows.append({
            "site_id": site, "building_id": building_ids[i // UNITS_PER_BUILDING],
            "number": f"{i // UNITS_PER_BUILDING + 1}-{floor + 1}{door + 1:02d}",
            "floor": floor + 1, "gross_area": gross, "inner_area": gross - D(15),
            "layout": "", "status": UnitStatus.VACANT if i % 50 == 0 else UnitStatus.OCCUPIED})
    unit_ids = await _insert(hub, units, unit_rows)
    occupied = [(i, u) for i, u in enumerate(unit_ids) if i % 50]
    resident_ids = await _insert(hub, residents, [
        {"site_id": site, "name": f"住户{i}", "phone": ""} for i, _ in occupied])
    await _insert(hub, residencies, [
        {"resident_id": r, "unit_id": u, "relation": Relation.OWNER,
         "moved_in": date(2020, 1, 1), "moved_out": date(2026, 11, 20) if i % 100 == 7 else None}
        for r, (i, u) in zip(resident_ids, occupied, strict=True)], ids=False)
    now = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    readings: list[dict[str, Any]] = []
    for i, unit_id in occupied:
        value = D(1000 + i % 500)
        for month in READING_MONTHS:
            value += D(500 + (i * 7919 + len(readings)) % 3000) / 100  # 5–35 m³ a month
            readings.append({"site_id": site, "unit_id": unit_id, "meter": "water",
                             "period": month, "value": value,
                             "read_on": date(int(month[:4]), int(month[5:]), 28),
                             "source": ReadingSource.IMPORT, "created_at": now})
    await _insert(hub, meter_readings, readings, ids=False)
    parked = {u: D(1) for i, u in enumerate(unit_ids)
              if (i * 7) % 100 < round(plan.parking_share * 100)}
    start = date(2026, 1, 1)
    fee_items = (
        await hub.bus.handle(CreateFeeItem(
            SYSTEM, site_id=site, code="property", name="物业费", kind=FeeKind.AREA,
            unit_price=D("2.35"), effective_from=start)),
        await hub.bus.handle(CreateFeeItem(
            SYSTEM, site_id=site, code="water", name="水费", kind=FeeKind.METERED,
            meter="water", unit_price=D(0), effective_from=start,
            tiers=((D(10), D("3.00")), (D(20), D("4.50")), (None, D("6.00"))))),
        await hub.bus.handle(CreateFeeItem(
            SYSTEM, site_id=site, code="parking", name="车位管理费", kind=FeeKind.PARKING,
            unit_price=D(150), effective_from=start, quantities=parked)),
    )
    return Seeded(site=site, fee_items=fee_items, units=plan.units, occupied=len(occupied),
                  parking=len(parked))


async def _insert(hub: Hub, table: Table, rows: Sequence[dict[str, Any]],
                  ids: bool = True) -> list[int]:
    """Rows in chunks, one transaction; their ids in the order given."""
    out: list[int] = []
    async with hub.engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            chunk = rows[start:start + 2000]
            if ids:
                result = await conn.execute(
                    insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk)
                out.extend(row[0] for row in result)
            else:
                await conn.execute(insert(table), chunk)
    return out


async def _counts(hub: Hub) -> tuple[int, int]:
    async with hub.engine.connect() as conn:
        n_bills = await conn.scalar(select(func.count()).select_from(bills))
        n_lines = await conn.scalar(select(func.count()).select_from(bill_lines))
    return int(n_bills or 0), int(n_lines or 0)
