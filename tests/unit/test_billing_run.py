"""Billing runs planned from facts: formulas, proration, tiers, discounts and late fees."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from hub.domain.billing.discounts import Discount, DiscountKind
from hub.domain.billing.fees import (
    AreaBasis,
    FeeItem,
    FeeKind,
    LateFeeMode,
    PriceVersion,
    Tier,
    check_tiers,
    price_on,
    tiered,
)
from hub.domain.billing.money import Rounding, RoundingMode, money
from hub.domain.billing.periods import Cycle, attributed_period, parse_period
from hub.domain.billing.run import (
    OverdueBill,
    Readings,
    RunInput,
    UnitFacts,
    late_fee,
    occupied_days,
    plan_run,
)
from hub.domain.errors import Invalid

NOV = parse_period("2026-11")
D = Decimal
WATER_TIERS: list[dict[str, str | None]] = [
    {"up_to": "10", "price": "3.00"}, {"up_to": "20", "price": "4.50"},
    {"up_to": None, "price": "6.00"}]


def fee(ident: int, kind: FeeKind, **kw: object) -> FeeItem:
    item = FeeItem(site_id=1, code=f"f{ident}", name=f"fee {ident}", kind=kind, **kw)  # type: ignore[arg-type]
    item.id = ident
    return item


def price(ident: int, unit_price: str, tiers: list[dict[str, str | None]] | None = None,
          since: date = date(2026, 1, 1)) -> PriceVersion:
    return PriceVersion(fee_item_id=ident, effective_from=since, unit_price=D(unit_price),
                        tiers=tiers or [])


def unit(ident: int, gross: str, *, vacant: bool = False,
         stays: tuple[tuple[date, date | None], ...] = ()) -> UnitFacts:
    return UnitFacts(ident, 1, f"1-10{ident}", D(gross), D(gross) * D("0.8"), vacant, stays)


def test_periods_parse_and_know_their_days_and_due_dates() -> None:
    assert (NOV.start, NOV.end, NOV.days, NOV.label) == (date(2026, 11, 1), date(2026, 12, 1),
                                                         30, "2026-11")
    q4 = parse_period("2026-Q4")
    assert (q4.start, q4.end, q4.months, q4.label) == (date(2026, 10, 1), date(2027, 1, 1), 3,
                                                       "2026-Q4")
    assert parse_period("2026").days == 365
    assert NOV.due_date(15, prepaid=False) == date(2026, 12, 15)
    assert NOV.due_date(5, prepaid=True) == date(2026, 11, 5)
    for bad in ("2026-13", "26-11", "2026-Q5", "2026-11\n", ""):
        with pytest.raises(Invalid):
            parse_period(bad)


def test_dates_at_the_ends_of_the_calendar_are_invalid_not_errors() -> None:
    for day in (date(9999, 12, 31), date(1, 1, 1)):
        with pytest.raises(Invalid):
            attributed_period(day)
    with pytest.raises(Invalid):
        parse_period("9999-12")


def test_a_line_too_large_for_the_ledger_is_refused_by_name() -> None:
    huge = fee(1, FeeKind.AREA)
    with pytest.raises(Invalid, match="f1 comes to"):
        plan_run(RunInput(period=NOV, as_of=NOV.start, fee_items=[(huge, [price(1, "99999999")])],
                          units=[unit(1, "99999999.99")]))


def test_a_reading_taken_early_in_december_bills_november() -> None:
    assert attributed_period(date(2026, 12, 3)).label == "2026-11"
    assert attributed_period(date(2026, 11, 28)).label == "2026-11"
    assert attributed_period(date(2027, 1, 2)).label == "2026-12"


@pytest.mark.parametrize(("mode", "raw", "expected"), [
    (RoundingMode.HALF_UP, "3.525", "3.53"), (RoundingMode.HALF_EVEN, "3.525", "3.52"),
    (RoundingMode.DOWN, "3.529", "3.52"), (RoundingMode.UP, "3.521", "3.53"),
])
def test_rounding_modes(mode: RoundingMode, raw: str, expected: str) -> None:
    assert Rounding(2, mode).apply(D(raw)) == D(expected)


def test_rounding_to_whole_yuan_still_reads_in_cents() -> None:
    assert str(Rounding(0, RoundingMode.DOWN).apply(D("208.87"))) == "208.00"
    with pytest.raises(Invalid):
        Rounding(3)


def test_money_refuses_fractions_of_a_cent_and_nonsense() -> None:
    assert money("12.5") == D("12.50")
    for bad in ("0.001", "NaN", "Infinity", "1e20"):
        with pytest.raises(Invalid):
            money(bad)


def test_tiers_split_the_quantity() -> None:
    tiers = [Tier(D(10), D(3)), Tier(D(20), D("4.5")), Tier(None, D(6))]
    assert tiered(D("25.5"), tiers) == [(D(10), D(3)), (D(10), D("4.5")), (D("5.5"), D(6))]
    assert tiered(D("7.3"), tiers) == [(D("7.3"), D(3))]
    assert tiered(D(0), tiers) == []
    with pytest.raises(Invalid):
        check_tiers([Tier(D(10), D(3)), Tier(D(5), D(4)), Tier(None, D(5))])
    with pytest.raises(Invalid):
        check_tiers([Tier(D(10), D(3))])


def test_a_price_change_applies_from_its_date_only() -> None:
    old, new = price(1, "2.35"), price(1, "2.80", since=date(2027, 1, 1))
    assert price_on([old, new], date(2026, 11, 1)) is old
    assert price_on([old, new], date(2027, 1, 1)) is new
    assert price_on([new], date(2026, 11, 1)) is None


def test_occupied_days_merge_overlapping_stays() -> None:
    stays = ((date(2020, 5, 1), None), (date(2026, 11, 10), date(2026, 11, 20)))
    assert occupied_days(stays, NOV) == 30
    assert occupied_days(((date(2026, 11, 10), date(2026, 11, 20)),
                          (date(2026, 11, 15), date(2026, 11, 25))), NOV) == 15
    assert occupied_days(((date(2026, 12, 1), None),), NOV) == 0


def test_the_hand_computed_november_run() -> None:
    """The fixture of docs/billing.md, the integration test stores the same numbers."""
    area, water, late = (fee(1, FeeKind.AREA), fee(2, FeeKind.METERED, meter="water"),
                         fee(3, FeeKind.LATE_FEE, grace_days=10, cap_rate=D("0.05")))
    units = [unit(1, "100.00", stays=((date(2020, 5, 1), None),)),
             unit(2, "88.88", stays=((date(2020, 5, 1), date(2026, 11, 20)),)),
             unit(3, "120.50", vacant=True)]
    plan = plan_run(RunInput(
        period=NOV, as_of=date(2026, 12, 1),
        fee_items=[(area, [price(1, "2.35")]), (water, [price(2, "0", WATER_TIERS)]),
                   (late, [price(3, "0.0005")])],
        units=units,
        readings={(1, "water"): Readings(D("1025.5"), D("1000.0")),
                  (2, "water"): Readings(D("507.3"), D("500.0"))},
        discounts=[Discount(site_id=1, name="空置房七折", kind=DiscountKind.VACANT_UNIT,
                            percent=D(30), fee_item_id=1)],
        overdue={1: [OverdueBill(10, 1, "2026-06", date(2026, 7, 15), D("235.00"),
                                 D("235.00"), D(0))],
                 2: [OverdueBill(11, 2, "2026-10", date(2026, 11, 15), D("208.87"),
                                 D("208.87"), D(0))]}))
    amounts = {(ln.unit_id, ln.key): (ln.gross, ln.discount, ln.amount) for ln in plan.lines}
    assert amounts == {
        # 100.00 m² × 2.35 = 235.00
        (1, "fee:1"): (D("235.00"), D("0.00"), D("235.00")),
        # 88.88 × 2.35 = 208.868; moved out 20 Nov: 19 of 30 days → 132.2830… → 132.28
        (2, "fee:1"): (D("132.28"), D("0.00"), D("132.28")),
        # 120.50 × 2.35 = 283.175 → 283.18; vacant 30 % = 84.954 → 84.95; 198.23
        (3, "fee:1"): (D("283.18"), D("84.95"), D("198.23")),
        # 25.5 m³: 10 × 3.00 + 10 × 4.50 + 5.5 × 6.00 = 30 + 45 + 33 = 108.00
        (1, "fee:2"): (D("108.00"), D("0.00"), D("108.00")),
        # 7.3 m³ × 3.00 = 21.90
        (2, "fee:2"): (D("21.90"), D("0.00"), D("21.90")),
        # June bill due 15 Jul: 139 days to 1 Dec − 10 grace = 129; 235 × 0.0005 × 129 =
        # 15.1575 → 15.16, capped at 5 % of 235.00 = 11.75
        (1, "late:3:10"): (D("11.75"), D("0.00"), D("11.75")),
        # October bill due 15 Nov: 16 days − 10 grace = 6; 208.87 × 0.0005 × 6 = 0.62661 → 0.63
        (2, "late:3:11"): (D("0.63"), D("0.00"), D("0.63")),
    }
    assert plan.total() == D("707.79")  # 354.75 + 154.81 + 198.23
    assert [(s.unit_id, s.fee_item_id) for s in plan.skipped] == [(3, 2)]  # no reading


def test_late_fees_wait_out_the_grace_and_count_months_when_asked() -> None:
    bill = OverdueBill(1, 1, "2026-10", date(2026, 11, 15), D("100.00"), D("100.00"), D(0))
    per_day = fee(3, FeeKind.LATE_FEE, grace_days=10)
    assert late_fee(per_day, D("0.001"), bill, date(2026, 11, 25))[0] == D(0)
    assert late_fee(per_day, D("0.001"), bill, date(2026, 11, 26))[0] == D("0.10")
    monthly = fee(3, FeeKind.LATE_FEE, late_mode=LateFeeMode.PER_MONTH, grace_days=0,
                  cap_amount=D("2.50"))
    assert late_fee(monthly, D("0.01"), bill, date(2026, 11, 16))[0] == D("1.00")
    assert late_fee(monthly, D("0.01"), bill, date(2026, 12, 16))[0] == D("2.00")
    assert late_fee(monthly, D("0.01"), bill, date(2027, 3, 1))[0] == D("2.50")


def test_late_fees_already_charged_are_not_charged_again() -> None:
    late = fee(3, FeeKind.LATE_FEE)
    bill = OverdueBill(9, 1, "2026-10", date(2026, 11, 1), D("100.00"), D("100.00"), D("1.00"))
    plan = plan_run(RunInput(period=NOV, as_of=date(2026, 11, 21),
                             fee_items=[(late, [price(3, "0.001")])], units=[unit(1, "50")],
                             overdue={1: [bill]}))
    assert [ln.amount for ln in plan.lines] == [D("1.00")]  # 2.00 accrued − 1.00 charged


def test_discounts_only_without_arrears_fixed_and_free_months() -> None:
    area = fee(1, FeeKind.AREA, area_basis=AreaBasis.INNER)
    loyal = Discount(site_id=1, name="no arrears 10%", kind=DiscountKind.PERCENTAGE,
                     percent=D(10), only_if_no_arrears=True)
    fixed = Discount(site_id=1, name="-500", kind=DiscountKind.FIXED, amount=D(500))
    free = Discount(site_id=1, name="free Dec", kind=DiscountKind.FREE_MONTHS,
                    valid_from=date(2026, 12, 1), valid_to=date(2027, 1, 1))
    good = unit(1, "100")
    owing = UnitFacts(2, 1, "1-102", D(100), D(80), False, (), in_arrears=True)
    plan = plan_run(RunInput(period=NOV, as_of=NOV.start,
                             fee_items=[(area, [price(1, "2.00")])], units=[good, owing],
                             discounts=[loyal, free]))
    assert [(ln.gross, ln.amount) for ln in plan.lines] == [(D("160.00"), D("144.00")),
                                                             (D("160.00"), D("160.00"))]
    capped = plan_run(RunInput(period=NOV, as_of=NOV.start,
                               fee_items=[(area, [price(1, "2.00")])], units=[good],
                               discounts=[fixed]))
    assert capped.lines[0].amount == D("0.00")
    december = plan_run(RunInput(period=parse_period("2026-12"), as_of=NOV.start,
                                 fee_items=[(area, [price(1, "2.00")])], units=[good],
                                 discounts=[free]))
    assert december.lines[0].amount == D("0.00")


def test_parking_fixed_and_applicability() -> None:
    parking = fee(1, FeeKind.PARKING, quantities={"1": "2"})
    bins = fee(2, FeeKind.FIXED, cycle=Cycle.MONTHLY, building_ids=[7])
    plan = plan_run(RunInput(period=NOV, as_of=NOV.start,
                             fee_items=[(parking, [price(1, "150")]), (bins, [price(2, "10")])],
                             units=[unit(1, "90"), unit(2, "90")]))
    assert [(ln.unit_id, ln.amount) for ln in plan.lines] == [(1, D("300.00"))]


def test_a_fee_item_of_another_cycle_is_refused_by_name() -> None:
    yearly = fee(1, FeeKind.FIXED, cycle=Cycle.YEARLY)
    with pytest.raises(Invalid, match="f1 is billed yearly"):
        plan_run(RunInput(period=NOV, as_of=NOV.start, fee_items=[(yearly, [price(1, "1")])],
                          units=[unit(1, "90")]))


def test_a_meter_that_went_back_is_skipped_with_a_reason() -> None:
    water = fee(2, FeeKind.METERED, meter="water")
    plan = plan_run(RunInput(period=NOV, as_of=NOV.start, fee_items=[(water, [price(2, "3")])],
                             units=[unit(1, "90")],
                             readings={(1, "water"): Readings(D(5), D(9))}))
    assert plan.lines == []
    assert "went back" in plan.skipped[0].reason
