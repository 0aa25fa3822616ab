"""Hand-computed stays (docs/parking.md works them out): each must match to the cent."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hub.domain.errors import Invalid
from hub.domain.parking.quote import Coupon, CouponKind, LineKind, PriorCharge, Stay, quote
from hub.domain.parking.tariff import (
    Cap,
    CapWindow,
    FreeMode,
    NightRate,
    PlateColor,
    Tariff,
    TariffMode,
    TariffVersion,
    VehicleClass,
    version_at,
)

SH = ZoneInfo("Asia/Shanghai")
D = Decimal

# 15 free minutes, first hour ¥5, then ¥2 per started 30 min, night 20:00–08:00 ¥1 per started
# hour, at most ¥30 per rolling 24 hours, green plates ×0.5.
LAKESIDE = Tariff(free_minutes=15, first_period_minutes=60, first_period_price=D("5"),
                  unit_minutes=30, unit_price=D("2"),
                  night=NightRate(time(20), time(8), 60, D("1")),
                  cap=Cap(D("30"), CapWindow.ROLLING_24H),
                  plate_multipliers={PlateColor.GREEN: D("0.5")})
CALENDAR = Tariff(**{**LAKESIDE.__dict__, "cap": Cap(D("30"), CapWindow.CALENDAR_DAY)})
GRACE = Tariff(**{**LAKESIDE.__dict__, "free_mode": FreeMode.GRACE})
PER_ENTRY = Tariff(mode=TariffMode.PER_ENTRY, free_minutes=15, free_mode=FreeMode.GRACE,
                   entry_price=D("10"), cap=Cap(D("20"), CapWindow.CALENDAR_DAY),
                   class_multipliers={VehicleClass.LARGE: D("2")})


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


FIXTURES = [
    # (name, tariff, entry, exit, plate, expected total)
    ("0 minutes", LAKESIDE, at(27, 9), at(27, 9), "blue", "0.00"),
    ("exactly the free 15 minutes", LAKESIDE, at(27, 9), at(27, 9, 15), "blue", "0.00"),
    ("16 minutes: the first hour starts", LAKESIDE, at(27, 9), at(27, 9, 16), "blue", "5.00"),
    ("2h40 by day", LAKESIDE, at(27, 9), at(27, 11, 40), "blue", "11.00"),
    ("evening into night, green", LAKESIDE, at(27, 18), at(27, 22, 10), "green", "5.50"),
    ("evening into night, blue", LAKESIDE, at(27, 18), at(27, 22, 10), "blue", "11.00"),
    ("entered at night, across midnight", LAKESIDE, at(27, 23), at(28, 1, 30), "blue", "3.00"),
    ("night unit runs past 08:00", LAKESIDE, at(27, 6), at(27, 9), "blue", "6.00"),
    ("23h59", LAKESIDE, at(27, 9), at(28, 8, 59), "blue", "30.00"),
    ("24h01", LAKESIDE, at(27, 9), at(28, 9, 1), "blue", "30.00"),
    ("24h30", LAKESIDE, at(27, 9), at(28, 9, 30), "blue", "32.00"),
    ("3 days", LAKESIDE, at(27, 9), at(30, 9), "blue", "90.00"),
    ("3 days, green: capped after the multiplier", LAKESIDE, at(27, 9), at(30, 9), "green",
     "90.00"),
    ("calendar day cap, across midnight", CALENDAR, at(27, 18), at(28, 10), "blue", "29.00"),
    ("grace: 16 minutes charged from entry", GRACE, at(27, 9), at(27, 9, 16), "blue", "5.00"),
    ("grace: 1h10 from entry", GRACE, at(27, 9), at(27, 10, 10), "blue", "7.00"),
    ("deducted: 1h10, the first hour from 09:15", LAKESIDE, at(27, 9), at(27, 10, 10), "blue",
     "5.00"),
    ("per entry within grace", PER_ENTRY, at(27, 9), at(27, 9, 10), "blue", "0.00"),
    ("per entry", PER_ENTRY, at(27, 9), at(27, 18), "blue", "10.00"),
]


@pytest.mark.parametrize(("name", "tariff", "entry", "exit_", "plate", "expected"), FIXTURES,
                         ids=[f[0] for f in FIXTURES])
def test_hand_computed_stays_match_to_the_cent(name: str, tariff: Tariff, entry: datetime,
                                               exit_: datetime, plate: str,
                                               expected: str) -> None:
    result = quote(tariff, Stay(entry, exit_, plate_color=PlateColor(plate)))
    assert result.total == D(expected)
    assert result.total == sum(line.amount for line in result.lines)
    assert result.currency == "CNY"


def test_lines_of_an_evening_stay_say_what_each_period_cost() -> None:
    result = quote(LAKESIDE, Stay(at(27, 18), at(27, 22, 10), plate_color=PlateColor.GREEN))
    rows = [(x.kind, x.start, x.end, x.unit_price, x.units, x.amount) for x in result.lines]
    assert rows == [
        (LineKind.FREE, at(27, 18), at(27, 18, 15), None, None, D("0.00")),
        (LineKind.FIRST_PERIOD, at(27, 18, 15), at(27, 19, 15), D("5.00"), 1, D("5.00")),
        (LineKind.DAY, at(27, 19, 15), at(27, 20, 15), D("2.00"), 2, D("4.00")),
        (LineKind.NIGHT, at(27, 20, 15), at(27, 22, 10), D("1.00"), 2, D("2.00")),
        (LineKind.MULTIPLIER, None, None, None, None, D("-5.50")),
    ]
    assert result.lines[2].explain_en == "Day 08:00–20:00: ¥2.00 per started 30 minutes × 2 = ¥4.00"
    assert result.lines[2].explain_zh.startswith("日间08:00–20:00 每30分钟 ¥2.00")
    assert result.lines[4].explain_en == "Green plate ×0.5: ¥11.00 → ¥5.50"
    assert result.lines[4].rule == "plate:green"


def test_a_long_stay_is_capped_per_rolling_window_with_a_line_each() -> None:
    result = quote(LAKESIDE, Stay(at(27, 9), at(30, 9)))
    caps = [x for x in result.lines if x.kind is LineKind.CAP]
    assert [x.amount for x in caps] == [D("-31.00"), D("-30.00"), D("-30.00")]
    assert [(w.start, w.charged) for w in result.windows] == [
        (at(27, 9), D("30.00")), (at(28, 9), D("30.00")), (at(29, 9), D("30.00"))]
    assert caps[0].explain_en == "Cap ¥30.00 per 24 hours from 11-27 09:00: ¥61.00 → ¥30.00"


def test_rolling_cap_counts_an_earlier_entry_of_the_same_plate() -> None:
    # The morning stay 09:00–14:00 paid ¥21 (¥5 + 8 × ¥2). The evening stay's first window is
    # the morning's: ¥25 there is cut to the ¥9 left; after 09:00 a new window: ¥4.
    morning = PriorCharge(at(27, 9), at(27, 14), D("21.00"))
    assert quote(LAKESIDE, Stay(at(27, 9), at(27, 14))).total == D("21.00")
    result = quote(LAKESIDE, Stay(at(27, 18), at(28, 10)), [morning])
    assert result.total == D("13.00")
    assert [(w.earlier, w.charged) for w in result.windows] == [
        (D("21.00"), D("9.00")), (D("0.00"), D("4.00"))]
    cap = next(x for x in result.lines if x.kind is LineKind.CAP)
    assert "earlier stays paid ¥21.00" in cap.explain_en and "此前停车已收¥21.00" in cap.explain_zh


def test_an_entry_more_than_24_hours_later_starts_a_fresh_window() -> None:
    old = PriorCharge(at(26, 8), at(26, 20), D("30.00"))
    assert quote(LAKESIDE, Stay(at(27, 9), at(27, 11, 40)), [old]).total == D("11.00")


def test_calendar_day_cap_counts_earlier_stays_of_the_same_day_only() -> None:
    morning = PriorCharge(at(27, 9), at(27, 14), D("21.00"))
    yesterday = PriorCharge(at(26, 9), at(26, 14), D("21.00"))
    assert quote(CALENDAR, Stay(at(27, 18), at(28, 10)), [morning, yesterday]).total == \
        D("25.00")  # day 27: ¥13 cut to the ¥9 left; day 28: ¥16


def test_per_entry_multiplier_and_cap_across_entries() -> None:
    large = Stay(at(27, 9), at(27, 18), vehicle_class=VehicleClass.LARGE)
    assert quote(PER_ENTRY, large).total == D("20.00")
    small = Stay(at(27, 19), at(27, 21))
    assert quote(PER_ENTRY, small, [PriorCharge(at(27, 9), at(27, 18), D("10"))]).total == \
        D("10.00")
    assert quote(PER_ENTRY, small, [PriorCharge(at(27, 9), at(27, 18), D("20"))]).total == \
        D("0.00")


COUPONS = [
    ("amount ¥3", (Coupon(CouponKind.AMOUNT, D("3")),), "8.00"),
    ("20 percent", (Coupon(CouponKind.PERCENT, D("20")),), "8.80"),
    ("free", (Coupon(CouponKind.FREE),), "0.00"),
    ("60 minutes: as if left at 10:40", (Coupon(CouponKind.MINUTES, D("60")),), "7.00"),
    ("amount then percent: percent first", (Coupon(CouponKind.AMOUNT, D("5")),
                                            Coupon(CouponKind.PERCENT, D("10"))), "4.90"),
    ("¥20 on ¥11: never below zero", (Coupon(CouponKind.AMOUNT, D("20")),), "0.00"),
]


@pytest.mark.parametrize(("name", "coupons", "expected"), COUPONS, ids=[c[0] for c in COUPONS])
def test_coupons_on_an_11_yuan_stay(name: str, coupons: tuple[Coupon, ...],
                                    expected: str) -> None:
    result = quote(LAKESIDE, Stay(at(27, 9), at(27, 11, 40), coupons=coupons))
    assert result.total == D(expected)
    assert all(x.amount <= 0 for x in result.lines if x.kind is LineKind.COUPON)


def test_multiplier_rounds_by_the_tariffs_rule() -> None:
    from hub.domain.billing.money import Rounding, RoundingMode

    whole = Tariff(**{**LAKESIDE.__dict__, "class_multipliers": {VehicleClass.LARGE: D("1.5")},
                      "rounding": Rounding(0, RoundingMode.HALF_UP)})
    result = quote(whole, Stay(at(27, 9), at(27, 11, 40), vehicle_class=VehicleClass.LARGE))
    assert result.total == D("17.00")  # ¥11 × 1.5 = ¥16.50, to whole yuan half up


def test_version_in_force_at_entry_applies_across_a_tariff_change() -> None:
    winter = Tariff(**{**LAKESIDE.__dict__,
                       "night": NightRate(time(20), time(8), 60, D("1.50"))})
    created = datetime(2026, 1, 1, tzinfo=UTC)
    versions = [
        TariffVersion(1, 1, datetime(2026, 1, 1, tzinfo=SH), LAKESIDE.to_dict(), created),
        TariffVersion(1, 2, datetime(2026, 12, 1, tzinfo=SH), winter.to_dict(), created),
    ]
    before = Stay(at(30, 23, 30), datetime(2026, 12, 1, 2, tzinfo=SH))
    chosen = version_at(versions, before.entry)
    assert chosen.number == 1
    assert quote(chosen.tariff(), before).total == D("3.00")  # night 23:45, 00:45, 01:45
    after = Stay(datetime(2026, 12, 1, 0, 30, tzinfo=SH), datetime(2026, 12, 1, 3, tzinfo=SH))
    assert version_at(versions, after.entry).number == 2
    assert quote(version_at(versions, after.entry).tariff(), after).total == D("4.50")
    with pytest.raises(Invalid, match="no tariff version"):
        version_at(versions, datetime(2025, 6, 1, tzinfo=SH))


def test_the_same_stay_in_utc_costs_the_same_as_on_the_sites_clock() -> None:
    # Night hours are the site's: the API turns any offset into the site's zone first.
    stay = Stay(at(27, 18), at(27, 22, 10))
    utc = Stay(stay.entry.astimezone(UTC).astimezone(SH), stay.exit.astimezone(UTC))
    assert quote(LAKESIDE, utc).total == quote(LAKESIDE, stay).total
    assert stay.exit - stay.entry == timedelta(hours=4, minutes=10)
