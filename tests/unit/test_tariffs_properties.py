"""Properties of every tariff kind (hypothesis): never negative, the lines add up, never above
the cap of a window (across entries too), monotonic in duration, free minutes respected,
units priced by the hours they start in, rounding by the tariff's rule, and deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.billing.money import Rounding, RoundingMode
from hub.domain.parking.periods import is_night
from hub.domain.parking.quote import (
    Coupon,
    CouponKind,
    LineKind,
    PriorCharge,
    Stay,
    quote,
)
from hub.domain.parking.tariff import (
    Cap,
    CapWindow,
    FreeMode,
    NightRate,
    PlateColor,
    Tariff,
    TariffMode,
    VehicleClass,
    tariff_from_dict,
)

ZONES = [ZoneInfo("Asia/Shanghai"), UTC, ZoneInfo("Asia/Urumqi")]
BASE = datetime(2026, 11, 1, tzinfo=UTC)
prices = st.integers(0, 2000).map(lambda cents: Decimal(cents) / 100)
factors = st.integers(0, 300).map(lambda n: Decimal(n) / 100)


@st.composite
def tariffs(draw: st.DrawFn) -> Tariff:
    night = None
    if draw(st.booleans()):
        start, end = draw(st.lists(st.integers(0, 23 * 60 + 59), min_size=2, max_size=2,
                                   unique=True))
        night = NightRate(time(start // 60, start % 60), time(end // 60, end % 60),
                          draw(st.integers(1, 180)), draw(prices))
    per_entry = draw(st.booleans()) and night is None
    return Tariff(
        mode=TariffMode.PER_ENTRY if per_entry else TariffMode.PER_PERIOD,
        free_minutes=draw(st.integers(0, 60)), free_mode=draw(st.sampled_from(FreeMode)),
        first_period_minutes=0 if per_entry else draw(st.integers(0, 180)),
        first_period_price=draw(prices), unit_minutes=draw(st.integers(1, 120)),
        unit_price=draw(prices), night=night, entry_price=draw(prices),
        cap=draw(st.none() | st.builds(Cap, prices.map(lambda p: p * 5),
                                       st.sampled_from(CapWindow))),
        class_multipliers=draw(st.dictionaries(st.sampled_from(VehicleClass), factors)),
        plate_multipliers=draw(st.dictionaries(st.sampled_from(PlateColor), factors)),
        rounding=Rounding(draw(st.integers(0, 2)), draw(st.sampled_from(RoundingMode))))


@st.composite
def stays(draw: st.DrawFn, coupons: bool = False) -> Stay:
    zone = draw(st.sampled_from(ZONES))
    entry = (BASE + timedelta(minutes=draw(st.integers(0, 60 * 24 * 30)))).astimezone(zone)
    length = timedelta(seconds=draw(st.integers(0, 4 * 24 * 3600)))
    drawn: tuple[Coupon, ...] = ()
    if coupons:
        drawn = tuple(draw(st.lists(st.one_of(
            st.just(Coupon(CouponKind.FREE)),
            st.integers(1, 600).map(lambda m: Coupon(CouponKind.MINUTES, Decimal(m))),
            st.integers(1, 100).map(lambda p: Coupon(CouponKind.PERCENT, Decimal(p))),
            prices.filter(bool).map(lambda a: Coupon(CouponKind.AMOUNT, a))), max_size=3)))
    return Stay(entry, entry + length, draw(st.sampled_from(VehicleClass)),
                draw(st.sampled_from(PlateColor)), drawn)


@st.composite
def histories(draw: st.DrawFn, stay: Stay, cap: Decimal) -> list[PriorCharge]:
    """Earlier stays entered within a day before this one, together within the cap."""
    found, left = [], cap
    for minutes in sorted(draw(st.lists(st.integers(1, 36 * 60), max_size=3, unique=True))):
        amount = draw(st.integers(0, int(left * 100))) / Decimal(100)
        entry = stay.entry - timedelta(minutes=minutes)
        found.append(PriorCharge(entry, entry + timedelta(minutes=minutes // 2), amount))
        left -= amount
    return found


@settings(max_examples=120, deadline=None)
@given(tariffs(), stays(coupons=True))
def test_never_negative_and_the_lines_add_up_to_the_cent(tariff: Tariff, stay: Stay) -> None:
    result = quote(tariff, stay)
    assert result.total >= 0
    assert result.total == sum(line.amount for line in result.lines)
    assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in result.lines)
    assert result == quote(tariff, stay)  # the same stay quoted twice: the same quote


@settings(max_examples=120, deadline=None)
@given(tariffs(), stays(), st.integers(0, 3 * 24 * 60))
def test_a_longer_stay_never_costs_less(tariff: Tariff, stay: Stay, more: int) -> None:
    longer = Stay(stay.entry, stay.exit + timedelta(minutes=more), stay.vehicle_class,
                  stay.plate_color)
    assert quote(tariff, longer).total >= quote(tariff, stay).total


@settings(max_examples=100, deadline=None)
@given(tariffs(), stays(coupons=True))
def test_within_the_free_minutes_nothing_is_charged(tariff: Tariff, stay: Stay) -> None:
    short = Stay(stay.entry, stay.entry + timedelta(minutes=tariff.free_minutes),
                 stay.vehicle_class, stay.plate_color, stay.coupons)
    assert quote(tariff, short).total == 0


@settings(max_examples=100, deadline=None)
@given(tariffs(), stays())
def test_deducted_free_minutes_are_never_charged(tariff: Tariff, stay: Stay) -> None:
    if tariff.free_mode is not FreeMode.DEDUCTED:
        return
    free_end = stay.entry + timedelta(minutes=tariff.free_minutes)
    charged = [x for x in quote(tariff, stay).lines if x.units is not None]
    assert all(x.start is not None and x.start >= free_end for x in charged)


@settings(max_examples=120, deadline=None)
@given(tariffs().filter(lambda t: t.cap is not None), stays(coupons=True).flatmap(
    lambda s: st.tuples(st.just(s), st.integers(0, 1))), st.data())
def test_never_above_the_cap_of_a_window_across_entries(tariff: Tariff, drawn: tuple[Stay, int],
                                                        data: st.DataObject) -> None:
    stay, with_history = drawn
    assert tariff.cap is not None
    history = data.draw(histories(stay, tariff.cap.amount)) if with_history else []
    result = quote(tariff, stay, history)
    for window in result.windows:
        assert window.earlier + window.charged <= tariff.cap.amount
        assert window.end - window.start <= timedelta(hours=25)  # a day, or a DST day
    days = (stay.exit - stay.entry) / timedelta(hours=24)
    assert result.total <= tariff.cap.amount * (int(days) + 2)


@settings(max_examples=120, deadline=None)
@given(tariffs().filter(lambda t: t.mode is TariffMode.PER_PERIOD), stays())
def test_each_unit_is_priced_by_the_hours_it_starts_in(tariff: Tariff, stay: Stay) -> None:
    zone = stay.entry.tzinfo
    periods = [x for x in quote(tariff, stay).lines
               if x.kind in (LineKind.DAY, LineKind.NIGHT, LineKind.FIRST_PERIOD)]
    for line in periods:
        assert line.start is not None and line.units is not None and line.units >= 1
        assert line.start < stay.exit
        if line.kind is LineKind.NIGHT:
            assert is_night(tariff.night, line.start, zone)
            assert tariff.night is not None and line.unit_price == tariff.night.unit_price
        else:
            assert not is_night(tariff.night, line.start, zone)
    # Periods follow each other without a gap: each starts where the last one's units end.
    for before, after in pairwise(periods):
        assert before.start is not None and before.units is not None
        minutes = (tariff.first_period_minutes if before.kind is LineKind.FIRST_PERIOD else
                   tariff.night.unit_minutes if before.kind is LineKind.NIGHT and tariff.night
                   else tariff.unit_minutes)
        assert after.start == before.start + timedelta(minutes=minutes * before.units)


@settings(max_examples=100, deadline=None)
@given(tariffs().filter(lambda t: t.cap is None), stays())
def test_multipliers_round_by_the_tariffs_rule(tariff: Tariff, stay: Stay) -> None:
    """Without a cap the stay is one window: each multiplier scales what came before it."""
    by_class, by_plate = tariff.multiplier_of(stay.vehicle_class, stay.plate_color)
    lines = quote(tariff, stay).lines
    amount = sum((x.amount for x in lines if x.kind is not LineKind.MULTIPLIER), Decimal("0.00"))
    for line in lines:
        if line.kind is LineKind.MULTIPLIER:
            factor = by_class if line.rule.startswith("class:") else by_plate
            assert amount + line.amount == tariff.rounding.apply(amount * factor)
            amount += line.amount


@settings(max_examples=100, deadline=None)
@given(tariffs(), stays(coupons=True))
def test_coupons_only_ever_lower_the_fee(tariff: Tariff, stay: Stay) -> None:
    plain = Stay(stay.entry, stay.exit, stay.vehicle_class, stay.plate_color)
    assert quote(tariff, stay).total <= quote(tariff, plain).total


@settings(max_examples=100, deadline=None)
@given(tariffs())
def test_a_tariff_survives_its_stored_form(tariff: Tariff) -> None:
    assert tariff_from_dict(tariff.to_dict()) == tariff
