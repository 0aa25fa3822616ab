"""Prepaid balances: what a payment leaves over is kept for the unit and pays the next bills
as they are committed; payments without a bill settle the oldest bills first."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM
from hub.handlers.billing_runs import CommitRun
from hub.store.billing_tables import balance_entries, bills
from tests.integration.billing import community

D = Decimal


async def _state(hub: Hub, unit_id: int) -> tuple[dict[str, tuple[str, str]], str]:
    async with hub.engine.connect() as conn:
        rows = (await conn.execute(select(bills.c.period, bills.c.total, bills.c.paid).where(
            bills.c.unit_id == unit_id))).all()
        balance = await conn.scalar(select(func.coalesce(func.sum(balance_entries.c.amount), 0))
                                    .where(balance_entries.c.unit_id == unit_id))
    return ({r.period: (str(r.total), str(r.paid)) for r in rows},
            str(D(balance).quantize(D("0.01"))))


async def test_a_prepayment_pays_the_oldest_bills_then_the_next_ones_at_commit(
        hub: Hub) -> None:
    m = await community.build(hub)
    unit = m.units["1-101"]
    for period in ("2026-06", "2026-07"):
        await hub.bus.handle(CommitRun(SYSTEM, site_id=m.site, period=period,
                                       fee_item_ids=(m.property_fee,)))

    paid = await community.pay(hub, unit, "600.00", "prepay")  # 235.00 × 2 owed

    assert (paid["applied"], paid["to_balance"]) == ("470.00", "130.00")
    assert await _state(hub, unit) == ({"2026-06": ("235.00", "235.00"),
                                        "2026-07": ("235.00", "235.00")}, "130.00")

    await hub.bus.handle(CommitRun(SYSTEM, site_id=m.site, period="2026-08",
                                   fee_item_ids=(m.property_fee,)))

    bills_now, balance = await _state(hub, unit)
    assert bills_now["2026-08"] == ("235.00", "130.00")  # the balance went onto August
    assert balance == "0.00"


async def test_a_payment_for_one_bill_keeps_the_excess_as_balance(hub: Hub) -> None:
    m = await community.build(hub)
    unit = m.units["1-102"]
    for period in ("2026-06", "2026-07"):
        await hub.bus.handle(CommitRun(SYSTEM, site_id=m.site, period=period,
                                       fee_item_ids=(m.property_fee,)))
    async with hub.engine.connect() as conn:
        july = await conn.scalar(select(bills.c.id).where(bills.c.unit_id == unit,
                                                          bills.c.period == "2026-07"))

    await community.pay(hub, unit, "300.00", "july", bill_id=july)

    assert await _state(hub, unit) == ({"2026-06": ("208.87", "0.00"),
                                        "2026-07": ("208.87", "208.87")}, "91.13")
