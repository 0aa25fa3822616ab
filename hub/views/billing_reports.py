"""Billing reports: arrears ageing, collection rate (收缴率), revenue by fee item, arrears by
building; as rows for JSON, CSV or Excel. Scope is in the SQL, as for every read."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.billing.ledger import AllocationKind
from hub.store.billing_tables import allocations, bill_lines, bills, fee_items
from hub.store.tables import buildings, units
from hub.views.billing import unit_scope

ZERO = Decimal("0.00")
BUCKETS = (("0-30", 0, 30), ("31-90", 31, 90), ("91-180", 91, 180), (">180", 181, None))
RATE = Decimal("0.0001")


def _scoped(actor: Actor, site_id: int) -> Any:
    return and_(bills.c.site_id == site_id,
                unit_scope(actor, bills.c.site_id, bills.c.building_id, bills.c.unit_id))


async def ageing(session: AsyncSession, actor: Actor, site_id: int, as_of: date,
                 by: str) -> list[dict[str, Any]]:
    """Outstanding by how long it is overdue on `as_of`, per unit or per building."""
    query: Select[Any] = select(
        bills.c.unit_id, units.c.number, bills.c.building_id, buildings.c.name.label("building"),
        bills.c.due_date, (bills.c.total - bills.c.paid - bills.c.written_off).label("owed"),
    ).join(units, units.c.id == bills.c.unit_id).join(
        buildings, buildings.c.id == bills.c.building_id).where(
        _scoped(actor, site_id), bills.c.total - bills.c.paid - bills.c.written_off > 0,
        bills.c.due_date < as_of)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for bill in await session.execute(query):
        key = (bill.unit_id,) if by == "unit" else (bill.building_id,)
        row = rows.setdefault(key, {
            **({"unit_id": bill.unit_id, "unit_number": bill.number} if by == "unit" else {}),
            "building_id": bill.building_id, "building": bill.building,
            **{name: ZERO for name, _, _ in BUCKETS}, "total": ZERO})
        days = (as_of - bill.due_date).days
        name = next(n for n, low, high in BUCKETS if days >= low and (high is None
                                                                       or days <= high))
        row[name] += bill.owed
        row["total"] += bill.owed
    return [rows[k] for k in sorted(rows)]


async def collection(session: AsyncSession, actor: Actor, site_id: int, by: str,
                     period: str | None) -> list[dict[str, Any]]:
    """收缴率: what was collected of what was billed, per period, building or fee item."""
    group = {"period": bills.c.period, "building": bills.c.building_id,
             "fee_item": bill_lines.c.fee_item_id}[by]
    query = select(group.label(by), func.sum(bill_lines.c.amount).label("billed"),
                   func.sum(bill_lines.c.paid).label("collected"),
                   func.sum(bill_lines.c.written_off).label("written_off")).join(
        bills, bills.c.id == bill_lines.c.bill_id).where(_scoped(actor, site_id)).group_by(
        group).order_by(group)
    if period is not None:
        query = query.where(bills.c.period == period)
    names = await _names(session, by)
    out = []
    for row in await session.execute(query):
        billed, collected = Decimal(row.billed), Decimal(row.collected)
        out.append({by: row[0], "name": names.get(row[0], str(row[0])), "billed": billed,
                    "collected": collected, "written_off": Decimal(row.written_off),
                    "outstanding": billed - collected - Decimal(row.written_off),
                    "rate": (collected / billed).quantize(RATE) if billed else None})
    return out


async def revenue(session: AsyncSession, actor: Actor, site_id: int, first: datetime,
                  last: datetime) -> list[dict[str, Any]]:
    """Money put onto lines in [first, last), net of refunds, per fee item."""
    query = select(bill_lines.c.fee_item_id, fee_items.c.name,
                   func.sum(allocations.c.amount).label("amount")).join(
        bill_lines, bill_lines.c.id == allocations.c.line_id).join(
        bills, bills.c.id == allocations.c.bill_id).join(
        fee_items, fee_items.c.id == bill_lines.c.fee_item_id).where(
        _scoped(actor, site_id), allocations.c.at >= first, allocations.c.at < last,
        allocations.c.kind != AllocationKind.WRITE_OFF.value).group_by(
        bill_lines.c.fee_item_id, fee_items.c.name).order_by(bill_lines.c.fee_item_id)
    return [{"fee_item_id": r.fee_item_id, "name": r.name, "revenue": Decimal(r.amount)}
            for r in await session.execute(query)]


async def arrears(session: AsyncSession, actor: Actor, site_id: int,
                  as_of: date) -> list[dict[str, Any]]:
    """Overdue and unpaid, per building: amount, bills and units owing."""
    owed = bills.c.total - bills.c.paid - bills.c.written_off
    query = select(bills.c.building_id, buildings.c.name, func.sum(owed).label("amount"),
                   func.count().label("bills"),
                   func.count(func.distinct(bills.c.unit_id)).label("units")).join(
        buildings, buildings.c.id == bills.c.building_id).where(
        _scoped(actor, site_id), owed > 0, bills.c.due_date < as_of).group_by(
        bills.c.building_id, buildings.c.name).order_by(bills.c.building_id)
    return [{"building_id": r.building_id, "building": r.name, "amount": Decimal(r.amount),
             "bills": r.bills, "units": r.units} for r in await session.execute(query)]


async def _names(session: AsyncSession, by: str) -> dict[Any, str]:
    if by == "building":
        rows = await session.execute(select(buildings.c.id, buildings.c.name))
    elif by == "fee_item":
        rows = await session.execute(select(fee_items.c.id, fee_items.c.name))
    else:
        return {}
    return {r[0]: r[1] for r in rows}


def _cell(value: Any) -> Any:
    return "" if value is None else value


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def as_xlsx(rows: list[dict[str, Any]], title: str) -> bytes:
    """Amounts stay exact: openpyxl writes a Decimal as the number it is."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    if rows:
        sheet.append(list(rows[0]))
        for row in rows:
            sheet.append([_cell(v) for v in row.values()])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
