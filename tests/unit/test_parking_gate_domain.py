"""The gate's pure rules: plate matching among cars inside, camera clock guards, the entry
and exit decisions (hypothesis for the properties, a few tables for the cases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hub.domain.parking.decisions import (
    Fee,
    LotLoad,
    decide_entry,
    decide_exit,
    first_period_fee,
    stay_fee,
)
from hub.domain.parking.matching import CONFUSABLE_GROUPS, match_inside
from hub.domain.parking.plates import LETTERS, PROVINCES
from hub.domain.parking.sessions import (
    ParkingSession,
    SessionState,
    Verdict,
    billable_span,
    event_time,
)
from hub.domain.parking.standing import Direction, LaneInfo, LotInfo, PlateStanding, Standing
from hub.domain.parking.tariff import Tariff, VehicleClass

T0 = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
SKEW = timedelta(minutes=10)
DIGITS_AND_LETTERS = "0123456789" + LETTERS
plates = st.builds(lambda p, a, rest: p + a + rest, st.sampled_from(PROVINCES),
                   st.sampled_from(LETTERS), st.text(DIGITS_AND_LETTERS, min_size=5, max_size=5))
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1),
                       timezones=st.just(UTC))
TARIFF = Tariff(free_minutes=15, first_period_minutes=60, first_period_price=Decimal("5.00"),
                unit_minutes=60, unit_price=Decimal("2.00"))
LANE = LaneInfo(1, 1, 10, "in-1", Direction.IN, 5, 6)
LOT = LotInfo(10, 1, "main", "Main", None, 2, 1)


def _misread(plate: str, at: int) -> str | None:
    for group in CONFUSABLE_GROUPS:
        if plate[at] in group:
            other = next(c for c in group if c != plate[at])
            return plate[:at] + other + plate[at + 1:]
    return None


@settings(max_examples=50)
@given(plates, st.sets(plates, max_size=8))
def test_a_car_inside_always_matches_its_exact_read(plate: str, others: set[str]) -> None:
    found = match_inside(plate, others | {plate})
    assert found.plate == plate and found.exact


@given(plates, st.integers(2, 6), st.sampled_from("0DQ8B2Z1"), st.sets(plates, max_size=8))
def test_one_confusable_misread_matches_only_when_one_car_fits(
        base: str, at: int, seen: str, others: set[str]) -> None:
    plate = base[:at] + seen + base[at + 1:]
    read = _misread(plate, at)
    assert read is not None
    assume(read not in others)
    inside = others | {plate}
    fits = [p for p in inside if p != read and match_inside(read, {p}).plate == p]
    found = match_inside(read, inside)
    if len(fits) == 1:
        assert found.plate == plate and not found.exact and "matched" in (found.reason or "")
    else:
        assert found.plate is None and "could be any of" in (found.reason or "")


@given(plates, plates)
def test_two_differences_never_match(plate: str, other: str) -> None:
    differences = sum(a != b for a, b in zip(plate, other, strict=True))
    assume(differences >= 2)
    assert match_inside(other, {plate}).plate is None


def test_a_misread_province_matches_and_an_ambiguous_read_names_both() -> None:
    assert match_inside("苏A12345", {"沪A12345"}).plate == "沪A12345"
    found = match_inside("沪A1234Q", {"沪A12340", "沪A1234D"})
    assert found.plate is None and "沪A12340, 沪A1234D" in (found.reason or "")
    assert match_inside("沪A·1234B", {"沪A12348"}).plate == "沪A12348"  # separators, 8/B


@given(st.one_of(st.none(), moments), moments)
def test_an_event_is_never_after_its_receipt_and_keeps_a_time_behind_it(
        ts: datetime | None, received: datetime) -> None:
    when = event_time(ts, received, SKEW)
    assert when.at <= received
    if ts is not None and ts <= received:
        assert when.at == ts
        assert when.doubtful == (received - ts > SKEW)
    else:
        assert when.at == received and not when.doubtful


@given(moments, moments, moments, moments)
def test_a_stay_is_never_negative(entry: datetime, leave: datetime, entry_rx: datetime,
                                  leave_rx: datetime) -> None:
    start, end, why = billable_span(entry, leave, (entry_rx, leave_rx))
    assert end >= start
    assert (why is None) == (leave >= entry)


def _session(standing: Standing = Standing.TEMPORARY, **kw: object) -> ParkingSession:
    values: dict[str, object] = {"site_id": 1, "lot_id": 10, "plate": "沪A12345",
                                 "standing": standing, "state": SessionState.INSIDE,
                                 "updated_at": T0, "entry_at": T0, "id": 1}
    values.update(kw)
    return ParkingSession(**values)  # type: ignore[arg-type]


@given(st.integers(0, 3 * 24 * 60), st.integers(0, 3 * 24 * 60))
def test_a_longer_stay_never_costs_less_and_never_opens_unpaid(a: int, b: int) -> None:
    short, long = sorted((a, b))
    session = _session()
    fee_short = stay_fee(session, T0 + timedelta(minutes=short), TARIFF, UTC)
    fee_long = stay_fee(session, T0 + timedelta(minutes=long), TARIFF, UTC)
    assert Decimal(0) <= fee_short.total <= fee_long.total
    decision = decide_exit(fee_long, session, T0 + timedelta(minutes=long))
    assert (decision.verdict is Verdict.OPEN) == (fee_long.total == 0)
    assert decision.due == (fee_long.total if decision.verdict is Verdict.AWAIT_PAYMENT else 0)


@given(st.integers(1, 600), st.integers(0, 60))
def test_paid_in_advance_opens_within_grace_and_owes_the_rest_after(paid_at: int,
                                                                    late: int) -> None:
    session = _session()
    paid = stay_fee(session, T0 + timedelta(minutes=paid_at), TARIFF, UTC).total
    session.paid_amount, session.paid_until = paid, T0 + timedelta(minutes=paid_at + 15)
    leave = T0 + timedelta(minutes=paid_at + 15 + late)
    fee = stay_fee(session, leave, TARIFF, UTC)
    decision = decide_exit(fee, session, leave)
    if late == 0 or fee.total == paid:
        assert decision.verdict is Verdict.OPEN
    else:
        assert decision.verdict is Verdict.AWAIT_PAYMENT and decision.due == fee.total - paid


def test_exit_with_no_entry_charges_the_first_period() -> None:
    fee = first_period_fee(TARIFF, T0, UTC, _session(entry_at=None))
    assert fee.total == Decimal("5.00") and "first period" in fee.reasons[0]


def _standing(standing: Standing, **kw: object) -> PlateStanding:
    return PlateStanding("沪A12345", standing, (f"{standing.value}",), **kw)  # type: ignore[arg-type]


def test_entry_decisions_by_standing_and_capacity() -> None:
    free_lot, full_lot = [LotLoad(LOT, 1)], [LotLoad(LOT, 2)]
    cases = [
        (Standing.REGISTERED, full_lot, Verdict.OPEN),
        (Standing.MONTHLY, full_lot, Verdict.OPEN),
        (Standing.MONTHLY_GRACE, full_lot, Verdict.OPEN),
        (Standing.WHITELISTED, full_lot, Verdict.OPEN),
        (Standing.VISITOR, full_lot, Verdict.OPEN),
        (Standing.TEMPORARY, free_lot, Verdict.OPEN),
        (Standing.TEMPORARY, full_lot, Verdict.REFUSE),
        (Standing.BLACKLISTED, free_lot, Verdict.REFUSE),
    ]
    for standing, loads, verdict in cases:
        decided = decide_entry(_standing(standing), LANE, loads, None, None)
        assert decided.verdict is verdict, (standing, decided.reasons)
        assert decided.alert_security == (standing is Standing.BLACKLISTED)
        assert decided.reasons


def test_a_parent_lot_full_refuses_too_and_a_pass_for_another_lot_pays() -> None:
    parent = LotInfo(1, 1, "site", "Whole site", None, 5, 1)
    decided = decide_entry(_standing(Standing.TEMPORARY), LANE,
                           [LotLoad(LOT, 0), LotLoad(parent, 5)], None, None)
    assert decided.verdict is Verdict.REFUSE and "Whole site is full" in decided.reasons[-1]
    other_lot = _standing(Standing.MONTHLY, lot_ids=(99,))
    decided = decide_entry(other_lot, LANE, [LotLoad(LOT, 2)], None, None)
    assert decided.verdict is Verdict.REFUSE  # parks as temporary, and the lot is full


def test_lane_restrictions_and_anti_passback_refuse_with_reasons() -> None:
    lane = LaneInfo(1, 1, 10, "in-1", Direction.IN, 5, 6,
                    vehicle_classes=frozenset({VehicleClass.SMALL}))
    large = _standing(Standing.REGISTERED, vehicle_class=VehicleClass.LARGE)
    decided = decide_entry(large, lane, [], None, None)
    assert decided.verdict is Verdict.REFUSE and "not large" in decided.reasons[-1]
    inside = _session(Standing.REGISTERED, id=41)
    decided = decide_entry(_standing(Standing.REGISTERED), LANE, [], inside, None, UTC)
    assert decided.verdict is Verdict.REFUSE
    assert "already inside since 2026-11-27 01:00 (session 41)" in decided.reasons[-1]


def test_free_cars_and_lots_without_tariff_pay_nothing() -> None:
    leave = T0 + timedelta(hours=30)
    assert stay_fee(_session(Standing.MONTHLY), leave, TARIFF, UTC).total == 0
    assert stay_fee(_session(), leave, None, UTC).total == 0
    visitor = _session(Standing.VISITOR, visitor_free_minutes=120)
    assert stay_fee(visitor, T0 + timedelta(minutes=130), TARIFF, UTC).total == 0
    assert decide_exit(Fee(Decimal(0), None), visitor, leave).verdict is Verdict.OPEN
