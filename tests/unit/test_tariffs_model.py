"""Tariff rules, stays and coupons refuse what cannot be charged, naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hub.domain.errors import Invalid
from hub.domain.parking.quote import Coupon, CouponKind, PriorCharge, Stay, quote
from hub.domain.parking.tariff import (
    NightRate,
    ParkingTariff,
    Tariff,
    TariffMode,
    TariffVersion,
    tariff_from_dict,
    version_at,
)

NOON = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.mark.parametrize(("rules", "field"), [
    ({"unit_price": "-1"}, "unit_price"),
    ({"unit_price": "1.001"}, "unit_price"),
    ({"unit_price": "NaN"}, "unit_price"),
    ({"unit_price": "abc"}, "unit_price"),
    ({"unit_minutes": 0}, "unit_minutes"),
    ({"free_minutes": -1}, "free_minutes"),
    ({"free_minutes": 1.5}, "free_minutes"),
    ({"first_period_minutes": 8 * 24 * 60}, "first_period_minutes"),
    ({"mode": "hourly"}, "mode"),
    ({"free_mode": "sometimes"}, "free_mode"),
    ({"night": {"start": "20:00", "end": "20:00", "unit_minutes": 60, "unit_price": "1"}},
     "night.end"),
    ({"night": {"start": "25:00", "end": "08:00", "unit_minutes": 60, "unit_price": "1"}},
     "night.start"),
    ({"cap": {"amount": "30", "window": "weekly"}}, "cap.window"),
    ({"cap": {"amount": "-30", "window": "rolling_24h"}}, "cap.amount"),
    ({"class_multipliers": {"tank": "2"}}, "class_multipliers.tank"),
    ({"plate_multipliers": {"green": "11"}}, "plate_multipliers.green"),
    ({"plate_multipliers": {"green": "0.12345"}}, "plate_multipliers.green"),
    ({"rounding": {"places": 3}}, "rounding.places"),
    ({"rounding": {"mode": "bankers"}}, "rounding"),
    ({"discount": "5"}, "discount"),
    ({"night": "20:00-08:00"}, "night"),
    ({"cap": 30}, "cap"),
    ({"mode": "per_entry", "first_period_minutes": 60}, "mode"),
])
def test_rules_that_cannot_be_charged_are_invalid_naming_the_field(rules: dict[str, Any],
                                                                   field: str) -> None:
    with pytest.raises(Invalid) as caught:
        tariff_from_dict(rules)
    assert caught.value.field == field


def test_the_stored_form_is_normal_and_reads_back_the_same() -> None:
    tariff = tariff_from_dict({"unit_price": "2", "night": {
        "start": "20:00", "end": "08:00", "unit_minutes": 60, "unit_price": "1"}})
    stored = tariff.to_dict()
    assert stored["unit_price"] == "2.00" and stored["night"]["start"] == "20:00"
    assert tariff_from_dict(stored) == tariff
    assert tariff_from_dict({}) == Tariff()


def test_night_hours_across_midnight_and_within_a_day() -> None:
    late = NightRate(time(20), time(8), 60, Decimal("1"))
    assert late.covers(time(23, 59)) and late.covers(time(0)) and late.covers(time(7, 59))
    assert not late.covers(time(8)) and not late.covers(time(19, 59))
    siesta = NightRate(time(12), time(14), 30, Decimal("0"))
    assert siesta.covers(time(12)) and not siesta.covers(time(14))


def test_stays_need_offsets_and_an_exit_after_entry() -> None:
    with pytest.raises(Invalid, match="UTC offset") as naive:
        Stay(NOON.replace(tzinfo=None), NOON)
    assert naive.value.field == "entry"
    with pytest.raises(Invalid) as backwards:
        Stay(NOON, NOON - timedelta(seconds=1))
    assert backwards.value.field == "exit"
    with pytest.raises(Invalid, match="366 days"):
        Stay(NOON, NOON + timedelta(days=367))
    far = datetime(9999, 12, 31, 23, tzinfo=UTC)
    with pytest.raises(Invalid, match="years") as future:
        Stay(far - timedelta(hours=1), far)
    assert future.value.field == "entry"


@pytest.mark.parametrize(("kind", "value"), [
    (CouponKind.MINUTES, Decimal("0")), (CouponKind.MINUTES, Decimal("1.5")),
    (CouponKind.PERCENT, Decimal("0")), (CouponKind.PERCENT, Decimal("101")),
    (CouponKind.AMOUNT, Decimal("0")), (CouponKind.AMOUNT, Decimal("0.001")),
])
def test_coupons_that_mean_nothing_are_invalid(kind: CouponKind, value: Decimal) -> None:
    with pytest.raises(Invalid):
        Coupon(kind, value)


def test_a_prior_charge_must_have_entered_before_the_stay() -> None:
    tariff = Tariff(unit_price=Decimal("1"))
    with pytest.raises(Invalid) as caught:
        quote(tariff, Stay(NOON, NOON + timedelta(hours=1)),
              [PriorCharge(NOON, NOON + timedelta(hours=2), Decimal("1"))])
    assert caught.value.field == "prior_charges.entry"


def test_version_at_takes_the_latest_in_force_at_entry() -> None:
    rules = Tariff(mode=TariffMode.PER_ENTRY, entry_price=Decimal("5")).to_dict()
    versions = [TariffVersion(1, n, NOON + timedelta(days=d), rules, NOON)
                for n, d in ((1, -10), (2, 0), (3, 10))]
    assert version_at(versions, NOON).number == 2  # in force from that very instant
    assert version_at(versions, NOON - timedelta(microseconds=1)).number == 1
    assert version_at(versions, NOON + timedelta(days=30)).number == 3
    with pytest.raises(Invalid):
        version_at(versions, NOON.replace(tzinfo=None))


def test_a_tariff_needs_a_code_and_a_name() -> None:
    with pytest.raises(Invalid) as code:
        ParkingTariff(1, "Visitors!", "临停", NOON)
    assert code.value.field == "code"
    with pytest.raises(Invalid) as name:
        ParkingTariff(1, "visitors", "  ", NOON)
    assert name.value.field == "name"
