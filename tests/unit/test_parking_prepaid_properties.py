"""Properties of paying before the exit (hypothesis), over every tariff kind the tariff
properties draw: never negative, never above the tariff's own figure, paying never raises
what is due, and paying what the app asks then leaving within the grace owes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hub.domain.parking.prepaid import PrepaidPayment, reckon
from hub.domain.parking.quote import Stay, quote
from hub.domain.parking.tariff import Tariff
from tests.unit.test_tariffs_properties import prices, stays, tariffs

graces = st.integers(0, 60)


@st.composite
def paid_stays(draw: st.DrawFn) -> tuple[Stay, list[PrepaidPayment]]:
    """A stay (coupons too) of at most 30 hours (the cap windows it crosses are the tariff
    properties' business) and payments during it, a few minutes either side (skew)."""
    drawn = draw(stays(coupons=True))
    stay = replace(drawn, exit=min(drawn.exit, drawn.entry + timedelta(hours=30)))
    length = int((stay.exit - stay.entry).total_seconds())
    payments = [PrepaidPayment(draw(prices.filter(bool)), stay.entry + timedelta(
        seconds=draw(st.integers(-600, length + 600)))) for _ in range(draw(st.integers(0, 3)))]
    return stay, payments


@settings(max_examples=40, deadline=None)
@given(tariffs(), paid_stays(), graces)
def test_never_negative_never_above_the_tariffs_figure(
        tariff: Tariff, drawn: tuple[Stay, list[PrepaidPayment]], grace: int) -> None:
    stay, payments = drawn
    result = reckon(tariff, stay, payments, grace)
    assert Decimal(0) <= result.due <= quote(tariff, stay).total
    assert Decimal(0) <= result.to_settle <= quote(tariff, stay).total
    assert result.due <= result.to_settle
    assert result.due == max(Decimal(0), result.quote.total - result.paid)


@settings(max_examples=40, deadline=None)
@given(tariffs(), paid_stays(), graces, prices.filter(bool), st.integers(0, 30 * 3600))
def test_paying_never_raises_what_is_due(tariff: Tariff,
                                         drawn: tuple[Stay, list[PrepaidPayment]], grace: int,
                                         amount: Decimal, offset: int) -> None:
    stay, payments = drawn
    one_more = PrepaidPayment(amount, stay.entry + timedelta(seconds=offset))
    before = reckon(tariff, stay, payments, grace)
    after = reckon(tariff, stay, [*payments, one_more], grace)
    assert after.due <= before.due
    assert after.to_settle <= before.to_settle


# Many draws owe nothing to ask for (free minutes, a zero price, paid ahead): filtered.
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.filter_too_much])
@given(tariffs(), paid_stays(), graces, st.integers(0, 10_000), st.data())
def test_paying_what_is_asked_then_leaving_within_grace_owes_nothing(
        tariff: Tariff, drawn: tuple[Stay, list[PrepaidPayment]], grace: int, pay_after: int,
        data: st.DataObject) -> None:
    stay, payments = drawn
    now = stay.exit + timedelta(seconds=pay_after)  # the app's "now", the stay so far
    asked = reckon(tariff, Stay(stay.entry, now, stay.vehicle_class, stay.plate_color,
                                stay.coupons), payments, grace).to_settle
    assume(asked > 0)  # nothing asked, nothing paid: the grace is a paid car's
    paid = [*payments, PrepaidPayment(asked, now)]
    leaves = now + timedelta(seconds=data.draw(st.integers(0, grace * 60)))
    exit_stay = Stay(stay.entry, leaves, stay.vehicle_class, stay.plate_color, stay.coupons)
    assert reckon(tariff, exit_stay, paid, grace).due == 0
