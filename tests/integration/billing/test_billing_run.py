"""A billing run on Maple Court matches the hand computation to the cent, and bills once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM
from hub.handlers.billing_runs import CommitRun, PreviewRun
from hub.store.billing_tables import balance_entries, bill_lines, bills
from tests.integration.billing import community
from tests.integration.billing.community import Maple

D = Decimal

# Hand computation, November 2026 (30 days), late fees counted to 1 December:
#
# 1-101  property 100.00 m² × 2.35                                          = 235.00
#        water 1025.5 − 1000.0 = 25.5 m³: 10 × 3.00 + 10 × 4.50 + 5.5 × 6.00 = 108.00
#        late fee on June (235.00 unpaid, due 15 Jul): 139 days − 10 grace = 129;
#          235.00 × 0.0005 × 129 = 15.1575 → 15.16, capped at 5 % × 235.00   =  11.75
#                                                                     bill    354.75
# 1-102  property 88.88 × 2.35 = 208.868; moved out 20 Nov: 19/30 days
#          208.868 × 19 / 30 = 132.2830… → half-up                          = 132.28
#        water 507.3 − 500.0 = 7.3 m³ × 3.00                                 =  21.90
#        late fee on October (208.87 unpaid, due 15 Nov): 16 days − 10 = 6;
#          208.87 × 0.0005 × 6 = 0.62661 → 0.63 (under the 10.44 cap)        =   0.63
#                                                                     bill    154.81
# 1-103  vacant: property 120.50 × 2.35 = 283.175 → 283.18, less 30 %:
#          283.18 × 0.30 = 84.954 → 84.95                                    = 198.23
#        no water reading: skipped, with the reason
#                                                                     run     707.79
EXPECTED = {
    ("1-101", "property"): ("235.00", "0.00", "235.00"),
    ("1-101", "water"): ("108.00", "0.00", "108.00"),
    ("1-101", "late"): ("11.75", "0.00", "11.75"),
    ("1-102", "property"): ("132.28", "0.00", "132.28"),
    ("1-102", "water"): ("21.90", "0.00", "21.90"),
    ("1-102", "late"): ("0.63", "0.00", "0.63"),
    ("1-103", "property"): ("283.18", "84.95", "198.23"),
}
BILLS = {"1-101": D("354.75"), "1-102": D("154.81"), "1-103": D("198.23")}


def _november(m: Maple) -> dict[str, Any]:
    return {"site_id": m.site, "period": "2026-11",
            "fee_item_ids": (m.property_fee, m.water, m.late)}


def _named(m: Maple, rows: list[tuple[int, int, str, str, str]]) -> dict[tuple[str, str], tuple[
        str, str, str]]:
    numbers = {v: k for k, v in m.units.items()}
    items = {m.property_fee: "property", m.water: "water", m.late: "late"}
    return {(numbers[unit], items[item]): (str(gross), str(off), str(amount))
            for unit, item, gross, off, amount in rows}


async def _rows(hub: Hub, period: str) -> list[Any]:
    async with hub.engine.connect() as conn:
        return list(await conn.execute(
            select(bills.c.unit_id, bill_lines.c.fee_item_id, bill_lines.c.gross,
                   bill_lines.c.discount, bill_lines.c.amount)
            .join(bills, bills.c.id == bill_lines.c.bill_id).where(bills.c.period == period)))


async def _counts(hub: Hub) -> tuple[int, int, int]:
    async with hub.engine.connect() as conn:
        return (int(await conn.scalar(select(func.count()).select_from(bills)) or 0),
                int(await conn.scalar(select(func.count()).select_from(bill_lines)) or 0),
                int(await conn.scalar(select(func.count()).select_from(balance_entries)) or 0))


async def test_the_november_run_matches_the_hand_computation_to_the_cent(hub: Hub) -> None:
    m = await community.build(hub)
    await community.history(hub, m)
    before = await _counts(hub)

    preview = await hub.bus.handle(PreviewRun(SYSTEM, **_november(m)))

    assert await _counts(hub) == before  # a preview writes nothing
    numbers = {v: k for k, v in m.units.items()}
    items = {m.property_fee: "property", m.water: "water", m.late: "late"}
    seen = {(numbers[u["unit_id"]], items[ln["fee_item_id"]]):
            (str(ln["gross"]), str(ln["discount"]), str(ln["amount"]))
            for u in preview["units"] for ln in u["lines"]}
    assert seen == EXPECTED
    assert {numbers[u["unit_id"]]: u["total"] for u in preview["units"]} == BILLS
    assert preview["total"] == D("707.79")
    assert [(numbers[s["unit_id"]], s["reason"]) for s in preview["skipped"]] == [
        ("1-103", "no water reading for 2026-11")]

    committed = await hub.bus.handle(CommitRun(SYSTEM, **_november(m)))

    assert (committed["bills_created"], committed["lines_created"]) == (3, 7)
    assert committed["total_created"] == D("707.79")
    assert _named(m, await _rows(hub, "2026-11")) == EXPECTED


async def test_the_same_run_committed_twice_bills_once(hub: Hub) -> None:
    m = await community.build(hub)
    await community.history(hub, m)
    first = await hub.bus.handle(CommitRun(SYSTEM, **_november(m)))
    after_first = (await _counts(hub), sorted(await _rows(hub, "2026-11")))

    again = await hub.bus.handle(CommitRun(SYSTEM, **_november(m)))
    preview = await hub.bus.handle(PreviewRun(SYSTEM, **_november(m)))

    assert first["lines_created"] == 7
    assert (again["bills_created"], again["lines_created"], again["lines_already_billed"]) == \
        (0, 0, 7)
    assert (await _counts(hub), sorted(await _rows(hub, "2026-11"))) == after_first
    assert all(ln["already_billed"] for u in preview["units"] for ln in u["lines"])


async def test_a_later_run_adds_only_the_fee_items_not_billed_yet(hub: Hub) -> None:
    m = await community.build(hub)
    await community.history(hub, m)
    await hub.bus.handle(CommitRun(SYSTEM, site_id=m.site, period="2026-11",
                                   fee_item_ids=(m.property_fee,)))
    more = await hub.bus.handle(CommitRun(SYSTEM, **_november(m)))
    assert (more["bills_created"], more["lines_created"], more["lines_already_billed"]) == \
        (0, 4, 3)
    assert _named(m, await _rows(hub, "2026-11")) == EXPECTED
