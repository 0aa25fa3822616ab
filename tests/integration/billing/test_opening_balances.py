"""Opening balances carried over from the previous system: arrears become a bill that ages and
is paid like any other, credit becomes prepaid balance; once per unit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM
from hub.domain.errors import Conflict, Invalid
from hub.handlers.billing_opening import RecordOpeningBalance
from hub.handlers.billing_runs import CommitRun
from hub.store.billing_tables import balance_entries, bills
from tests.integration.billing import community

D = Decimal


async def test_opening_arrears_and_credit(hub: Hub) -> None:
    m = await community.build(hub)
    owing, ahead = m.units["1-101"], m.units["1-102"]
    await hub.bus.handle(RecordOpeningBalance(SYSTEM, owing, date(2026, 5, 31),
                                              owed=D("1200.50")))
    await hub.bus.handle(RecordOpeningBalance(SYSTEM, ahead, date(2026, 5, 31),
                                              credit=D("300.00")))
    with pytest.raises(Conflict, match="opening balance already"):
        await hub.bus.handle(RecordOpeningBalance(SYSTEM, owing, date(2026, 5, 31),
                                                  owed=D("1200.50")))
    with pytest.raises(Invalid):
        await hub.bus.handle(RecordOpeningBalance(SYSTEM, m.units["1-103"], date(2026, 5, 31),
                                                  owed=D("1"), credit=D("1")))

    await hub.bus.handle(CommitRun(SYSTEM, site_id=m.site, period="2026-06",
                                   fee_item_ids=(m.property_fee,)))
    paid = await community.pay(hub, owing, "1200.50", "opening")

    async with hub.engine.connect() as conn:
        rows = {(r.unit_id, r.period): (str(r.total), str(r.paid)) for r in await conn.execute(
            select(bills.c.unit_id, bills.c.period, bills.c.total, bills.c.paid))}
        credit_left = await conn.scalar(select(func.sum(balance_entries.c.amount)).where(
            balance_entries.c.unit_id == ahead))
    assert paid["applied"] == "1200.50"  # the opening bill is the oldest: paid first
    assert rows[(owing, "opening")] == ("1200.50", "1200.50")
    assert rows[(owing, "2026-06")] == ("235.00", "0.00")
    assert rows[(ahead, "2026-06")] == ("208.87", "208.87")  # from the opening credit
    assert D(credit_left) == D("91.13")
