"""The read side of billing on every backend: bills with status, statements, receipts and
the reports, on Maple Court after June and October were billed and partly paid."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM, Actor, Role
from hub.store.billing_tables import payments
from hub.views import billing as views
from hub.views import billing_reports as reports
from tests.integration.billing import community

D = Decimal


async def test_reports_statements_and_receipts_read_the_same_on_every_backend(
        hub: Hub) -> None:
    m = await community.build(hub)
    await community.history(hub, m)
    unit = m.units["1-102"]
    outsider = Actor(account_id=99, role=Role.FINANCE, whole_sites=frozenset({m.site + 1000}))
    async with hub.sessions() as db:
        bills = [dict(r._mapping) for r in await db.execute(
            views.bill_query(SYSTEM, site_id=m.site, status="open"))]
        statement = await views.statement(db, SYSTEM, unit, date(2026, 1, 1), None)
        payment_id = await db.scalar(select(payments.c.id).where(payments.c.unit_id == unit))
        receipt = await views.receipt_html(db, SYSTEM, int(payment_id or 0))
        ageing = await reports.ageing(db, SYSTEM, m.site, date(2026, 12, 1), "unit")
        collection = await reports.collection(db, SYSTEM, m.site, "fee_item", None)
        revenue = await reports.revenue(db, SYSTEM, m.site, datetime(2026, 1, 1, tzinfo=UTC),
                                        datetime(2027, 1, 1, tzinfo=UTC))
        arrears = await reports.arrears(db, SYSTEM, m.site, date(2026, 12, 1))
        hidden = await reports.arrears(db, outsider, m.site, date(2026, 12, 1))

    numbers = {v: k for k, v in m.units.items()}
    # Unpaid: 1-101's June (235.00), 1-102's October (208.87).
    assert sorted((numbers[b["unit_id"]], b["period"], b["outstanding"]) for b in bills) == [
        ("1-101", "2026-06", D("235.00")), ("1-102", "2026-10", D("208.87"))]
    assert (statement["billed"], statement["outstanding"], statement["balance"]) == (
        D("417.74"), D("208.87"), D("0.00"))
    assert "208.87" in receipt and "2026-06" in receipt
    # On 1 December: June due 15 July is 139 days overdue, October due 15 November 16 days.
    assert [(r["unit_number"], r[">180"], r["91-180"], r["0-30"], r["total"]) for r in ageing] == [
        ("1-101", D(0), D("235.00"), D(0), D("235.00")),
        ("1-102", D(0), D(0), D("208.87"), D("208.87"))]
    # Billed 2 × (235.00 + 208.87 + 198.23) = 1284.20; collected 208.87 + 396.46 + 235.00.
    assert [(r["name"], r["billed"], r["collected"], r["rate"]) for r in collection] == [
        ("物业费", D("1284.20"), D("840.33"), D("0.6544"))]
    assert [(r["name"], r["revenue"]) for r in revenue] == [("物业费", D("840.33"))]
    assert [(r["building"], r["amount"], r["bills"], r["units"]) for r in arrears] == [
        ("1号楼", D("443.87"), 2, 2)]
    assert hidden == []
