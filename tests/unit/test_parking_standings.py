"""Who a plate is to the gate: the order of standings, pass validity and grace days in the
site's calendar, list validity, and the offline allow-list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.errors import Invalid
from hub.domain.parking.registry import (
    Lane,
    Lot,
    MonthlyPass,
    PlateList,
    PlateListEntry,
    Space,
    SpaceKind,
    Vehicle,
    check_no_cycle,
)
from hub.domain.parking.standing import Direction, PlateStanding, Standing
from hub.domain.parking.standings import KnownVehicle, allowed_plates, standing_of
from hub.domain.parking.tariff import PlateColor, VehicleClass

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLATE = "沪A12345"
NOON = datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI)


def _pass(valid_from: date, valid_to: date, grace_days: int = 0, *, pass_id: int = 12,
          lot_ids: list[int] | None = None, plate: str = PLATE) -> MonthlyPass:
    return MonthlyPass(site_id=1, plate=plate, valid_from=valid_from, valid_to=valid_to,
                       grace_days=grace_days, lot_ids=lot_ids or [], id=pass_id)


def _entry(kind: PlateList, valid_from: datetime, valid_to: datetime | None = None, *,
           reason: str = "owners' committee", entry_id: int = 7,
           plate: str = PLATE) -> PlateListEntry:
    return PlateListEntry(site_id=1, list=kind, plate=plate, reason=reason,
                          valid_from=valid_from, valid_to=valid_to, id=entry_id)


def _vehicle(space: Space | None = None, *, plate: str = PLATE) -> KnownVehicle:
    return KnownVehicle(vehicle_id=5, plate=plate, unit_label="3-1-201",
                        vehicle_class=VehicleClass.SMALL, plate_color=PlateColor.BLUE,
                        space=space, resident_ids=(31, 32))


def _of(at: datetime = NOON, *, vehicles: list[KnownVehicle] | None = None,
        passes: list[MonthlyPass] | None = None, entries: list[PlateListEntry] | None = None,
        visitor: PlateStanding | None = None) -> PlateStanding:
    return standing_of(PLATE, at, zone=SHANGHAI, vehicles=vehicles or [], passes=passes or [],
                       list_entries=entries or [], visitor=visitor)


VISITOR = PlateStanding(PLATE, Standing.VISITOR, ("visitor pass 4 for unit 3-1-201",),
                        visitor_pass_id=4, visitor_free_minutes=120)


def test_an_unknown_plate_is_temporary() -> None:
    found = _of()
    assert found.standing == Standing.TEMPORARY
    assert found.plate == PLATE and found.vehicle_id is None


def test_a_registered_vehicle_says_its_unit_and_household() -> None:
    found = _of(vehicles=[_vehicle()])
    assert found.standing == Standing.REGISTERED
    assert found.reasons == ("registered to unit 3-1-201",)
    assert found.resident_ids == (31, 32) and found.vehicle_class == VehicleClass.SMALL


def test_a_rented_space_registers_the_car_only_within_its_dates() -> None:
    rented = Space(site_id=1, lot_id=1, code="B1-023", kind=SpaceKind.RENTED, unit_id=3,
                   valid_from=date(2026, 1, 1), valid_to=date(2026, 11, 27))
    assert _of(vehicles=[_vehicle(rented)]).reasons == (
        "registered to unit 3-1-201, space B1-023 rented to 2026-11-27",)
    next_day = _of(NOON + timedelta(days=1), vehicles=[_vehicle(rented)])
    assert next_day.standing == Standing.TEMPORARY
    assert "registered to unit 3-1-201, but space B1-023 is rented to 2026-11-27: ended" \
        in next_day.reasons
    assert next_day.resident_ids == (31, 32)  # still the household's car: they may pay


def test_a_monthly_pass_counts_from_its_first_to_its_last_local_day() -> None:
    passes = [_pass(date(2026, 11, 1), date(2026, 11, 30))]
    first = datetime(2026, 11, 1, 0, 0, tzinfo=SHANGHAI)
    last = datetime(2026, 11, 30, 23, 59, 59, tzinfo=SHANGHAI)
    assert _of(first - timedelta(seconds=1), passes=passes).standing == Standing.TEMPORARY
    assert _of(first, passes=passes).standing == Standing.MONTHLY
    assert _of(last, passes=passes).reasons == ("monthly pass 12 valid to 2026-11-30",)
    assert _of(last + timedelta(seconds=1), passes=passes).standing == Standing.TEMPORARY


def test_pass_days_are_the_sites_calendar_not_utc() -> None:
    passes = [_pass(date(2026, 11, 1), date(2026, 11, 30))]
    # 16:30 UTC on the 30th is 00:30 on 1 December in Shanghai: the pass has ended there.
    assert _of(datetime(2026, 11, 30, 16, 30, tzinfo=UTC), passes=passes).standing \
        == Standing.TEMPORARY
    assert _of(datetime(2026, 11, 30, 15, 59, tzinfo=UTC), passes=passes).standing \
        == Standing.MONTHLY


@given(grace_days=st.integers(0, 90), days_after=st.integers(-40, 100))
def test_grace_days_follow_the_last_valid_day(grace_days: int, days_after: int) -> None:
    valid_to = date(2026, 11, 24)
    at = datetime.combine(valid_to + timedelta(days=days_after), datetime.min.time(),
                          SHANGHAI) + timedelta(hours=9)
    found = _of(at, passes=[_pass(date(2026, 10, 25), valid_to, grace_days)])
    if days_after < -30:
        assert found.standing == Standing.TEMPORARY
        assert "monthly pass 12 starts 2026-10-25" in found.reasons
    elif days_after <= 0:
        assert found.standing == Standing.MONTHLY
    elif days_after <= grace_days:
        assert found.standing == Standing.MONTHLY_GRACE
        assert found.reasons == (f"monthly pass 12 expired after 2026-11-24, grace day "
                                 f"{days_after} of {grace_days}",)
        assert found.pass_id == 12
    else:
        assert found.standing == Standing.TEMPORARY
        assert found.reasons[-1].startswith("monthly pass 12 expired after 2026-11-24")


def test_grace_day_two_of_three_reads_as_a_guard_expects() -> None:
    found = _of(datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI),
                passes=[_pass(date(2026, 10, 25), date(2026, 11, 24), 3)])
    assert found.reasons == ("monthly pass 12 expired after 2026-11-24, grace day 2 of 3",)


def test_a_renewed_pass_wins_over_the_grace_of_the_old_one() -> None:
    old = _pass(date(2026, 10, 1), date(2026, 11, 24), 3, pass_id=12)
    renewed = _pass(date(2026, 11, 26), date(2026, 12, 25), pass_id=13)
    found = _of(datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI), passes=[old, renewed])
    assert (found.standing, found.pass_id) == (Standing.MONTHLY, 13)


def test_the_lots_of_the_valid_passes_are_named_and_one_for_every_lot_means_all() -> None:
    in_b1 = _pass(date(2026, 11, 1), date(2026, 11, 30), lot_ids=[2], pass_id=1)
    in_b2 = _pass(date(2026, 11, 1), date(2026, 12, 31), lot_ids=[3], pass_id=2)
    assert _of(passes=[in_b1, in_b2]).lot_ids == (2, 3)
    everywhere = _pass(date(2026, 11, 1), date(2026, 11, 30), pass_id=3)
    assert _of(passes=[in_b1, everywhere]).lot_ids == ()


def test_list_entries_count_only_within_their_validity() -> None:
    start = NOON - timedelta(days=1)
    white = _entry(PlateList.WHITE, start, NOON)
    assert _of(NOON - timedelta(microseconds=1), entries=[white]).standing \
        == Standing.WHITELISTED
    assert _of(NOON, entries=[white]).standing == Standing.TEMPORARY  # valid_to not included
    assert _of(start - timedelta(seconds=1), entries=[white]).standing == Standing.TEMPORARY
    black = _entry(PlateList.BLACK, start, NOON, reason="unpaid fees, 2025")
    assert _of(NOON, entries=[black], vehicles=[_vehicle()]).standing == Standing.REGISTERED


def test_the_order_is_registered_monthly_grace_white_visitor_temporary() -> None:
    valid = _pass(date(2026, 11, 1), date(2026, 11, 30))
    in_grace = _pass(date(2026, 10, 1), date(2026, 11, 26), 3, pass_id=9)
    white = _entry(PlateList.WHITE, NOON - timedelta(days=1))
    assert _of(vehicles=[_vehicle()], passes=[valid], entries=[white],
               visitor=VISITOR).standing == Standing.REGISTERED
    assert _of(passes=[valid, in_grace], entries=[white], visitor=VISITOR).standing \
        == Standing.MONTHLY
    assert _of(passes=[in_grace], entries=[white], visitor=VISITOR).standing \
        == Standing.MONTHLY_GRACE
    assert _of(entries=[white], visitor=VISITOR).standing == Standing.WHITELISTED
    visitor = _of(visitor=VISITOR)
    assert visitor.standing == Standing.VISITOR and visitor.visitor_free_minutes == 120


@given(registered=st.booleans(), monthly=st.booleans(), white=st.booleans(),
       visitor=st.booleans(), black_from_days=st.integers(-1000, 0))
def test_the_black_list_beats_everything(registered: bool, monthly: bool, white: bool,
                                         visitor: bool, black_from_days: int) -> None:
    black = _entry(PlateList.BLACK, NOON + timedelta(days=black_from_days),
                   reason="rammed the barrier", entry_id=99)
    found = _of(vehicles=[_vehicle()] if registered else [],
                passes=[_pass(date(2026, 1, 1), date(2026, 12, 31))] if monthly else [],
                entries=[black] + ([_entry(PlateList.WHITE, NOON)] if white else []),
                visitor=VISITOR if visitor else None)
    assert found.standing == Standing.BLACKLISTED
    assert found.reasons == ("blacklisted: rammed the barrier",)
    assert found.list_entry_id == 99


def test_records_of_other_plates_are_ignored() -> None:
    other = "沪B54321"
    found = _of(vehicles=[_vehicle(plate=other)],
                passes=[_pass(date(2026, 1, 1), date(2026, 12, 31), plate=other)],
                entries=[_entry(PlateList.BLACK, NOON - timedelta(days=1), plate=other)])
    assert found.standing == Standing.TEMPORARY


def test_the_allow_list_holds_free_plates_with_when_they_stop() -> None:
    rented = Space(site_id=1, lot_id=1, code="B1-023", kind=SpaceKind.RENTED, unit_id=3,
                   valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31))
    banned = "沪C11111"
    allowed = allowed_plates(
        NOON, zone=SHANGHAI, vehicles=[_vehicle(rented), _vehicle(plate=banned)],
        passes=[_pass(date(2026, 11, 1), date(2026, 11, 30), 3, plate="沪D22222")],
        list_entries=[_entry(PlateList.BLACK, NOON - timedelta(days=1), plate=banned),
                      _entry(PlateList.WHITE, NOON - timedelta(days=1), plate="沪E33333")])
    assert [(a.plate, a.standing, a.until) for a in allowed] == [
        (PLATE, Standing.REGISTERED, datetime(2027, 1, 1, tzinfo=SHANGHAI)),
        ("沪D22222", Standing.MONTHLY, datetime(2026, 12, 4, tzinfo=SHANGHAI)),
        ("沪E33333", Standing.WHITELISTED, None),
    ]


def test_nested_lots_cannot_form_a_cycle() -> None:
    parents = {1: None, 2: 1, 3: 2}
    check_no_cycle(3, 1, parents)
    with pytest.raises(Invalid) as err:
        check_no_cycle(1, 3, parents)  # 3 lies inside 2, inside 1
    assert err.value.field == "parent_id"
    with pytest.raises(Invalid):
        Lot(site_id=1, code="b1", name="B1", parent_id=4, id=4)


def test_records_refuse_bad_values_naming_the_field() -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: _pass(date(2026, 12, 1), date(2026, 11, 30)), "valid_to"),
        (lambda: _pass(date(2026, 11, 1), date(2026, 11, 30), 91), "grace_days"),
        (lambda: Space(site_id=1, lot_id=1, code="P-1", kind=SpaceKind.PUBLIC, unit_id=3),
         "unit_id"),
        (lambda: Space(site_id=1, lot_id=1, code="B1-1", kind=SpaceKind.OWNED), "unit_id"),
        (lambda: Space(site_id=1, lot_id=1, code="B1-1", kind="leased",  # type: ignore[arg-type]
                       unit_id=3), "kind"),
        (lambda: Vehicle(site_id=1, unit_id=3, plate="not a plate"), "plate"),
        (lambda: Lane(site_id=1, lot_id=1, code="north-in", direction="up",  # type: ignore[arg-type]
                      camera_device_id=1, barrier_device_id=2), "direction"),
        (lambda: Lane(site_id=1, lot_id=1, code="north-in", direction=Direction.IN,
                      camera_device_id=1, barrier_device_id=2, plate_colors=["pink"]),
         "plate_colors"),
        (lambda: _entry(PlateList.WHITE, NOON, NOON), "valid_to"),
        (lambda: Lot(site_id=1, code="b1", name="B1", temporary_capacity=-1),
         "temporary_capacity"),
    ]
    for make, field in cases:
        with pytest.raises(Invalid) as err:
            make()
        assert err.value.field == field


def test_plates_are_stored_in_their_normal_form() -> None:
    vehicle = Vehicle(site_id=1, unit_id=3, plate="沪a·12345")
    assert vehicle.plate == PLATE
