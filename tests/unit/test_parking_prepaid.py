"""Paying before the exit, hand-computed to the cent (docs/parking.md, "Paying").

The tariff is the lakeside one of the tariff fixtures: 15 free minutes (deducted), first hour
¥5, then ¥2 per started 30 minutes, night 20:00–08:00 ¥1 per started hour, at most ¥30 per
rolling 24 hours. The grace after paying is 15 minutes. The car enters on 27 Nov at 09:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from hub.domain.errors import Invalid
from hub.domain.parking.prepaid import PrepaidPayment, reckon
from hub.domain.parking.quote import PriorCharge, Stay
from hub.domain.parking.tariff import Cap, CapWindow, NightRate, Tariff
from tests.unit.test_tariffs_fixtures import SH

D = Decimal
LAKESIDE = Tariff(free_minutes=15, first_period_minutes=60, first_period_price=D("5"),
                  unit_minutes=30, unit_price=D("2"),
                  night=NightRate(time(20), time(8), 60, D("1")),
                  cap=Cap(D("30"), CapWindow.ROLLING_24H))
GRACE = 15


def at(hour: int, minute: int = 0, day: int = 27) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def paid(amount: str, moment: datetime) -> PrepaidPayment:
    return PrepaidPayment(D(amount), moment)


ENTRY = at(9)

FIXTURES = [
    # (name, payments, exit, due, billed to)
    # 09:15–10:15 is the first hour (¥5): paid at 10:00, gone by 10:15 → nothing more.
    ("paid, left within grace", [paid("5", at(10))], at(10, 10), "0.00", at(10)),
    ("paid, left at the last minute of grace", [paid("5", at(10))], at(10, 15), "0.00",
     at(10)),
    # 10:20 is past the grace: the whole stay is ¥5 + the unit 10:15–10:45 ¥2 = ¥7, less ¥5.
    ("paid, left after grace", [paid("5", at(10))], at(10, 20), "2.00", at(10, 20)),
    ("nothing paid", [], at(10, 20), "7.00", at(10, 20)),
    ("paid too little, left within grace", [paid("3", at(10))], at(10, 10), "2.00", at(10)),
    ("paid more than the stay, never below 0", [paid("10", at(10))], at(10, 20), "0.00",
     at(10, 20)),
    # Second payment at 10:40 of the ¥2 then owed (¥7 − ¥5); 10:50 is within its grace.
    ("paid twice, left within the second grace",
     [paid("5", at(10)), paid("2", at(10, 40))], at(10, 50), "0.00", at(10, 40)),
    # 11:00 is past it: ¥5 + ¥2 (10:15) + ¥2 (10:45) = ¥9, less ¥7.
    ("paid twice, left after the second grace",
     [paid("5", at(10)), paid("2", at(10, 40))], at(11), "2.00", at(11)),
    # Two graces run at 10:24 (10:10's to 10:25, 10:20's to 10:35): the smaller figure,
    # ¥5 to 10:10, is billed; a cent paid at 10:20 must not bring back the ¥2 of 10:15.
    ("a second, small payment within a grace never raises",
     [paid("5", at(10, 10)), paid("0.01", at(10, 20))], at(10, 24), "0.00", at(10, 10)),
    # 09:15–10:15 ¥5, 20 half hours 10:15–20:15 ¥40: ¥45, capped at ¥30, paid at 20:00.
    # Leaving at 21:00 adds a night hour (¥1) but the cap of the window is reached.
    ("cap reached before paying stays reached", [paid("30", at(20))], at(21), "0.00", at(21)),
    # Next morning 10:00: window 1 (to 09:00 on the 28th): ¥5 + ¥40 + 12 night hours
    # 20:15–08:15 ¥12 + 08:15, 08:45 ¥4 = ¥61 → ¥30; window 2: 09:15, 09:45 ¥4. ¥34 − ¥30.
    ("a new cap window after paying", [paid("30", at(20))], at(10, day=28), "4.00",
     at(10, day=28)),
    # The camera's clock is 3 minutes behind the hub's: paid "after" the exit it reports.
    ("payment stamped after the exit counts at the exit", [paid("5", at(10, 5))], at(10, 2),
     "0.00", at(10, 2)),
    ("within the free minutes", [], at(9, 10), "0.00", at(9, 10)),
]


@pytest.mark.parametrize(("name", "payments", "exit", "due", "billed_to"), FIXTURES,
                         ids=[f[0] for f in FIXTURES])
def test_hand_computed(name: str, payments: list[PrepaidPayment], exit: datetime, due: str,
                       billed_to: datetime) -> None:
    result = reckon(LAKESIDE, Stay(ENTRY, exit), payments, GRACE)
    assert (result.due, result.billed_to) == (D(due), billed_to)
    assert result.paid == sum((p.amount for p in payments), D("0.00"))
    assert result.due == max(D("0"), result.quote.total - result.paid)


def test_the_lines_say_what_was_paid_and_why_the_clock_stopped() -> None:
    result = reckon(LAKESIDE, Stay(ENTRY, at(10, 10)), [paid("5", at(10))], GRACE)
    assert [(line.kind, line.amount) for line in result.lines] == [("paid", D("-5.00")),
                                                                   ("grace", D("0.00"))]
    assert "10:00" in result.lines[1].explain_en
    assert result.grace_until == at(10, 15)


def test_what_to_settle_is_the_stay_so_far_less_what_was_paid() -> None:
    # At 10:10 within grace the gate would open (due 0); the stay so far is still ¥5, paid.
    within = reckon(LAKESIDE, Stay(ENTRY, at(10, 10)), [paid("5", at(10))], GRACE)
    assert (within.due, within.to_settle) == (D("0"), D("0"))
    # At 10:50 (no grace) the stay so far is ¥9: settle ¥4, then 11:05 owes nothing.
    later = reckon(LAKESIDE, Stay(ENTRY, at(10, 50)), [paid("5", at(10))], GRACE)
    assert (later.due, later.to_settle) == (D("4.00"), D("4.00"))
    after = reckon(LAKESIDE, Stay(ENTRY, at(11, 5)),
                   [paid("5", at(10)), paid("4", at(10, 50))], GRACE)
    assert after.due == D("0")


def test_grace_zero_stops_the_clock_only_at_the_payment() -> None:
    assert reckon(LAKESIDE, Stay(ENTRY, at(10)), [paid("5", at(10))], 0).due == D("0")
    assert reckon(LAKESIDE, Stay(ENTRY, at(10, 16)), [paid("5", at(10))], 0).due == D("2.00")


def test_earlier_stays_count_against_the_cap_and_payments_do_not_twice() -> None:
    # An earlier stay that day paid ¥25 of the ¥30 cap: this one owes at most ¥5 in all.
    earlier = PriorCharge(at(7), at(8), D("25"))
    result = reckon(LAKESIDE, Stay(ENTRY, at(12)), [paid("3", at(10))], GRACE, [earlier])
    assert (result.quote.total, result.due) == (D("5.00"), D("2.00"))


def test_a_grace_beyond_a_day_or_a_naive_payment_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        reckon(LAKESIDE, Stay(ENTRY, at(10)), [], 24 * 60 + 1)
    assert err.value.field == "pay_grace_minutes"
    with pytest.raises(Invalid):
        PrepaidPayment(D("1"), datetime(2026, 11, 27, 10))
    for amount in ("-1", "0"):
        with pytest.raises(Invalid):
            PrepaidPayment(D(amount), datetime(2026, 11, 27, 10, tzinfo=UTC))
