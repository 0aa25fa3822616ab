"""Reads of billing: fee items, readings, bills with their lines, payments, statements and
receipts. Scope is in the SQL: staff see their sites and buildings, residents their units."""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from sqlalchemy import ColumnElement, Select, case, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.errors import NotFound
from hub.store.billing_tables import (
    allocations,
    balance_entries,
    bill_lines,
    bills,
    discounts,
    fee_items,
    fee_prices,
    meter_readings,
    payments,
    refunds,
)
from hub.store.tables import buildings, sites, units
from hub.views.property import HOUSEHOLD_UNITS, HouseholdList
from hub.views.scoping import building_filter, site_filter

OUTSTANDING = (bills.c.total - bills.c.paid - bills.c.written_off).label("outstanding")


def bill_status() -> ColumnElement[str]:
    return case((bills.c.total - bills.c.paid - bills.c.written_off <= 0, "paid"),
                (bills.c.paid + bills.c.written_off == 0, "open"), else_="partial")


def unit_scope(actor: Actor, site_id: ColumnElement[int], building_id: ColumnElement[int],
               unit_id: ColumnElement[int]) -> ColumnElement[bool]:
    """Rows about a unit: staff by site or building, residents by their own units only."""
    if actor.is_resident:
        return unit_id.in_(actor.unit_ids) if actor.unit_ids else false()
    return building_filter(actor, site_id, building_id)


def staff_site_scope(actor: Actor, site_id: ColumnElement[int]) -> ColumnElement[bool]:
    return false() if actor.is_resident else site_filter(actor, site_id)


def fee_item_query(actor: Actor, site_id: int | None = None) -> Select[Any]:
    query = select(fee_items).where(staff_site_scope(actor, fee_items.c.site_id))
    if site_id is not None:
        query = query.where(fee_items.c.site_id == site_id)
    return query.order_by(fee_items.c.id)


async def prices_of(session: AsyncSession, fee_item_ids: list[int]) -> dict[int, list[dict[
        str, Any]]]:
    rows = await session.execute(select(fee_prices).where(
        fee_prices.c.fee_item_id.in_(fee_item_ids)).order_by(fee_prices.c.effective_from))
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in fee_item_ids}
    for row in rows:
        found[row.fee_item_id].append(dict(row._mapping))
    return found


def discount_query(actor: Actor, site_id: int | None = None) -> Select[Any]:
    query = select(discounts).where(staff_site_scope(actor, discounts.c.site_id))
    if site_id is not None:
        query = query.where(discounts.c.site_id == site_id)
    return query.order_by(discounts.c.id)


def reading_query(actor: Actor, *, site_id: int | None = None, unit_id: int | None = None,
                  meter: str | None = None, period: str | None = None) -> Select[Any]:
    query = select(meter_readings).join(units, units.c.id == meter_readings.c.unit_id).where(
        unit_scope(actor, units.c.site_id, units.c.building_id, units.c.id))
    for column, value in ((meter_readings.c.site_id, site_id),
                          (meter_readings.c.unit_id, unit_id),
                          (meter_readings.c.meter, meter), (meter_readings.c.period, period)):
        if value is not None:
            query = query.where(column == value)
    return query.order_by(meter_readings.c.id)


def _bills() -> Select[Any]:
    return select(bills.c.id, bills.c.site_id, bills.c.building_id, bills.c.unit_id,
                  units.c.number.label("unit_number"), bills.c.period, bills.c.period_start,
                  bills.c.period_end, bills.c.due_date, bills.c.issued_at, bills.c.total,
                  bills.c.paid, bills.c.written_off, OUTSTANDING,
                  bill_status().label("status")).join(units, units.c.id == bills.c.unit_id)


@functools.cache
def household_bills(status: str | None) -> HouseholdList:
    """A resident's bills (hub.views.property.household_params), newest period first."""
    query = _bills().where(bills.c.unit_id.in_(HOUSEHOLD_UNITS))
    if status is not None:
        query = query.where(bill_status() == status)
    return HouseholdList.of(query.order_by(bills.c.period_start.desc(), bills.c.id))


def bill_query(actor: Actor, *, site_id: int | None = None, building_id: int | None = None,
               unit_id: int | None = None, period: str | None = None,
               status: str | None = None) -> Select[Any]:
    query = _bills().where(
        unit_scope(actor, bills.c.site_id, bills.c.building_id, bills.c.unit_id))
    for column, value in ((bills.c.site_id, site_id), (bills.c.building_id, building_id),
                          (bills.c.unit_id, unit_id), (bills.c.period, period)):
        if value is not None:
            query = query.where(column == value)
    if status is not None:
        query = query.where(bill_status() == status)
    return query.order_by(bills.c.period_start.desc(), bills.c.id)


async def bill_detail(session: AsyncSession, actor: Actor, bill_id: int) -> dict[str, Any]:
    row = (await session.execute(bill_query(actor).where(bills.c.id == bill_id))).first()
    if row is None:
        raise NotFound("bill", bill_id)
    bill = dict(row._mapping)
    lines = await session.execute(select(bill_lines).where(
        bill_lines.c.bill_id == bill_id).order_by(bill_lines.c.id))
    bill["lines"] = [dict(line._mapping) for line in lines]
    return bill


def payment_query(actor: Actor, *, site_id: int | None = None, unit_id: int | None = None,
                  bill_id: int | None = None, status: str | None = None) -> Select[Any]:
    query = select(payments.c.id, payments.c.site_id, payments.c.unit_id, payments.c.bill_id,
                   payments.c.amount, payments.c.channel, payments.c.status,
                   payments.c.created_at, payments.c.paid_at, payments.c.provider,
                   payments.c.provider_ref, payments.c.reference, payments.c.refunded).join(
        units, units.c.id == payments.c.unit_id).where(
        unit_scope(actor, units.c.site_id, units.c.building_id, units.c.id))
    for column, value in ((payments.c.site_id, site_id), (payments.c.unit_id, unit_id),
                          (payments.c.bill_id, bill_id), (payments.c.status, status)):
        if value is not None:
            query = query.where(column == value)
    return query.order_by(payments.c.id.desc())


async def one_payment(session: AsyncSession, actor: Actor, payment_id: int) -> dict[str, Any]:
    row = (await session.execute(payment_query(actor).where(
        payments.c.id == payment_id))).first()
    if row is None:
        raise NotFound("payment", payment_id)
    return dict(row._mapping)


async def balance_of(session: AsyncSession, unit_id: int) -> Decimal:
    total = await session.scalar(select(func.coalesce(func.sum(balance_entries.c.amount), 0))
                                 .where(balance_entries.c.unit_id == unit_id))
    return Decimal(total or 0).quantize(Decimal("0.01"))


async def statement(session: AsyncSession, actor: Actor, unit_id: int, first: date | None,
                    last: date | None) -> dict[str, Any]:
    """对账单: a unit's bills and payments in a date range, with its balance and arrears."""
    unit = (await session.execute(select(units).where(units.c.id == unit_id, unit_scope(
        actor, units.c.site_id, units.c.building_id, units.c.id)))).first()
    if unit is None:
        raise NotFound("unit", unit_id)
    bill_rows = bill_query(actor, unit_id=unit_id)
    pay_rows = payment_query(actor, unit_id=unit_id)
    if first is not None:
        bill_rows = bill_rows.where(bills.c.period_end > first)
        pay_rows = pay_rows.where(func.date(payments.c.created_at) >= first)
    if last is not None:
        bill_rows = bill_rows.where(bills.c.period_start <= last)
        pay_rows = pay_rows.where(func.date(payments.c.created_at) <= last)
    found = [dict(r._mapping) for r in await session.execute(bill_rows)]
    paid = [dict(r._mapping) for r in await session.execute(pay_rows)]
    arrears = await session.scalar(select(func.coalesce(func.sum(OUTSTANDING), 0)).where(
        bills.c.unit_id == unit_id))
    return {"unit_id": unit_id, "unit_number": unit.number, "from": first, "to": last,
            "bills": found, "payments": paid,
            "billed": sum((b["total"] for b in found), Decimal("0.00")),
            "outstanding": Decimal(arrears or 0).quantize(Decimal("0.01")),
            "balance": await balance_of(session, unit_id)}


async def receipt_html(session: AsyncSession, actor: Actor, payment_id: int) -> str:
    """A printable receipt (收据): who paid what for which bills, and what was refunded."""
    payment = await one_payment(session, actor, payment_id)
    place = (await session.execute(
        select(sites.c.name.label("site"), buildings.c.name.label("building"),
               units.c.number).join(buildings, buildings.c.id == units.c.building_id)
        .join(sites, sites.c.id == units.c.site_id).where(units.c.id == payment["unit_id"]))
    ).one()
    parts = (await session.execute(
        select(bills.c.period, bill_lines.c.description,
               func.sum(allocations.c.amount).label("amount"))
        .join(bill_lines, bill_lines.c.id == allocations.c.line_id)
        .join(bills, bills.c.id == allocations.c.bill_id)
        .where(allocations.c.payment_id == payment_id)
        .group_by(bills.c.period, bill_lines.c.description, bill_lines.c.id)
        .order_by(bill_lines.c.id))).all()
    refunded = (await session.execute(select(refunds.c.amount, refunds.c.at).where(
        refunds.c.payment_id == payment_id).order_by(refunds.c.id))).all()
    rows = "".join(f"<tr><td>{escape(p.period)}</td><td>{escape(p.description)}</td>"
                   f"<td class=n>{p.amount}</td></tr>" for p in parts)
    back = "".join(f"<p>Refunded {r.amount} on {r.at:%Y-%m-%d %H:%M} UTC</p>" for r in refunded)
    return f"""<!doctype html><html lang="zh"><head><meta charset="utf-8">
<title>Receipt {payment['id']}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}td,th{{padding:.2em .6em}}
.n{{text-align:right}}@media print{{button{{display:none}}}}</style></head><body>
<h1>收据 Receipt No. {payment['id']}</h1>
<p>{escape(place.site)} · {escape(place.building)} · {escape(place.number)}</p>
<p>Amount <strong>{payment['amount']}</strong> by {escape(payment['channel'])},
status {escape(payment['status'])}, paid {payment['paid_at'] or '—'}</p>
<table><tr><th>Period</th><th>Item</th><th class=n>Applied</th></tr>{rows}</table>
{back}<button onclick="print()">Print</button></body></html>"""
