"""Properties of billing that must hold for any facts: hypothesis looks for a counterexample."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.billing.discounts import Discount, DiscountKind
from hub.domain.billing.fees import FeeItem, FeeKind, PriceVersion
from hub.domain.billing.ledger import (
    Allocation,
    AllocationKind,
    Bill,
    BillLine,
    settle,
    take_back,
)
from hub.domain.billing.money import ZERO, Rounding, RoundingMode
from hub.domain.billing.periods import parse_period
from hub.domain.billing.run import Readings, RunInput, UnitFacts, plan_run

NOV = parse_period("2026-11")
AT = datetime(2026, 12, 1, tzinfo=UTC)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal("50"), places=4)
areas = st.decimals(min_value=Decimal("10"), max_value=Decimal("500"), places=2)
modes = st.sampled_from(list(RoundingMode))
days = st.integers(min_value=0, max_value=40)


@st.composite
def discounts(draw: st.DrawFn) -> Discount:
    kind = draw(st.sampled_from(list(DiscountKind)))
    return Discount(
        site_id=1, name=f"d-{kind}", kind=kind,
        percent=draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)),
        amount=draw(amounts), valid_from=date(2026, 1, 1), valid_to=date(2027, 1, 1),
        only_if_no_arrears=draw(st.booleans()))


@st.composite
def units(draw: st.DrawFn, ident: int) -> UnitFacts:
    gross = draw(areas)
    moved_in = NOV.start + timedelta(days=draw(days) - 10)
    moved_out = draw(st.none() | days.map(lambda d: moved_in + timedelta(days=d + 1)))
    return UnitFacts(ident, 1, f"1-{ident}", gross, gross, draw(st.booleans()),
                     draw(st.sampled_from([(), ((moved_in, moved_out),)])), draw(st.booleans()))


@given(area_price=prices, fixed_price=prices, water_price=prices, mode=modes,
       places=st.integers(0, 2), facts=st.tuples(units(1), units(2), units(3)),
       offs=st.lists(discounts(), max_size=3),
       reading=st.decimals(min_value=Decimal(0), max_value=Decimal(999), places=3))
@settings(max_examples=300, deadline=None)
def test_lines_are_never_negative_and_totals_are_their_sum(
        area_price: Decimal, fixed_price: Decimal, water_price: Decimal, mode: RoundingMode,
        places: int, facts: tuple[UnitFacts, ...], offs: list[Discount],
        reading: Decimal) -> None:
    items = []
    for ident, kind, value in ((1, FeeKind.AREA, area_price), (2, FeeKind.FIXED, fixed_price),
                               (3, FeeKind.METERED, water_price)):
        item = FeeItem(site_id=1, code=f"f{ident}", name="f", kind=kind, places=places,
                       rounding=mode, meter="water")
        item.id = ident
        items.append((item, [PriceVersion(ident, date(2026, 1, 1), value)]))
    plan = plan_run(RunInput(NOV, NOV.end, items, facts,
                             readings={(u.unit_id, "water"): Readings(reading + 5, reading)
                                       for u in facts},
                             discounts=offs))
    rule = Rounding(places, mode)
    for line in plan.lines:
        assert line.amount >= 0 and line.discount >= 0
        assert line.amount == line.gross - line.discount
        assert rule.apply(line.gross) == line.gross  # already rounded: rounding is stable
    by_unit = plan.by_unit()
    assert sum((sum((ln.amount for ln in lines), ZERO) for lines in by_unit.values()),
               ZERO) == plan.total()


@given(raw=st.decimals(min_value=Decimal(0), max_value=Decimal(10**9), places=6), mode=modes,
       places=st.integers(0, 2))
def test_rounding_is_idempotent_close_and_monotone(raw: Decimal, mode: RoundingMode,
                                                   places: int) -> None:
    rule = Rounding(places, mode)
    once = rule.apply(raw)
    assert rule.apply(once) == once
    assert abs(once - raw) < Decimal(1).scaleb(-places)
    assert rule.apply(raw + Decimal("0.01")) >= once
    assert once.as_tuple().exponent == -2


def _bill(line_amounts: list[Decimal]) -> tuple[Bill, list[BillLine]]:
    bill = Bill(1, 1, 1, "2026-11", NOV.start, NOV.end, NOV.end, AT, id=1)
    lines = []
    for index, value in enumerate(line_amounts, start=1):
        lines.append(BillLine(1, f"fee:{index}", index, "f", Decimal(1), value, value, ZERO,
                              value, NOV.end, id=index))
        bill.total += value
    return bill, lines


@given(line_amounts=st.lists(amounts, min_size=1, max_size=5), pay=amounts,
       refund_share=st.fractions(min_value=0, max_value=1))
def test_a_payment_applied_then_refunded_restores_the_bill_exactly(
        line_amounts: list[Decimal], pay: Decimal, refund_share: object) -> None:
    bill, lines = _bill(line_amounts)
    before = (bill.paid, bill.outstanding, [ln.paid for ln in lines])
    given_ = settle(bill, lines, pay, AllocationKind.PAYMENT, AT, payment_id=7)
    for index, allocation in enumerate(given_, start=1):
        allocation.id = index
    applied = sum((a.amount for a in given_), ZERO)
    excess = pay - applied
    assert applied <= pay and bill.outstanding >= 0
    assert bill.paid == sum((ln.paid for ln in lines), ZERO)
    reversals, left = take_back({ln.id or 0: ln for ln in lines}, {1: bill}, given_, applied,
                                AT, 7)
    assert left == 0
    assert sum((a.amount for a in reversals), ZERO) == -applied
    assert (bill.paid, bill.outstanding, [ln.paid for ln in lines]) == before
    assert excess + applied == pay  # the rest went to (and comes back from) the balance


@given(line_amounts=st.lists(amounts, min_size=1, max_size=4), pay=amounts,
       parts=st.lists(st.integers(1, 100), min_size=1, max_size=4))
def test_partial_refunds_in_any_steps_end_where_a_whole_refund_ends(
        line_amounts: list[Decimal], pay: Decimal, parts: list[int]) -> None:
    bill, lines = _bill(line_amounts)
    given_: list[Allocation] = settle(bill, lines, pay, AllocationKind.PAYMENT, AT, 7)
    applied = sum((a.amount for a in given_), ZERO)
    for index, allocation in enumerate(given_, start=1):
        allocation.id = index
    weight = sum(parts)
    steps = [(applied * p / weight).quantize(Decimal("0.01")) for p in parts[:-1]]
    steps.append(applied - sum(steps, ZERO))
    for step in steps:
        if step <= 0:
            continue
        reversals, left = take_back({ln.id or 0: ln for ln in lines}, {1: bill}, given_, step,
                                    AT, 7)
        assert left == 0
        for allocation in reversals:
            allocation.id = len(given_) + 1
            given_.append(allocation)
    assert bill.paid == 0
    assert all(ln.paid == 0 for ln in lines)
