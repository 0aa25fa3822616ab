"""Ownership chains, leases and a unit's status, as pure rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from hub.domain.errors import Conflict, Invalid
from hub.domain.ownership import (
    Lease,
    LeaseTenant,
    OwnerShare,
    Ownership,
    TransferReason,
    check_lease,
    check_shares,
    derive_status,
    transfer,
    vacant_from,
)
from hub.domain.property import UnitStatus
from hub.domain.residents import Relation, Residency

TODAY = date(2026, 11, 27)
AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
UNIT = 101


def ownership(on: date, reason: TransferReason, *owners: tuple[int, str]) -> Ownership:
    return Ownership(unit_id=UNIT, started_on=on, reason=reason, document_ref="沪房-001",
                     recorded_by=7, recorded_at=AT,
                     owners=[OwnerShare(resident_id=r, share=D(s)) for r, s in owners])


def chain_of_three() -> list[Ownership]:
    chain: list[Ownership] = []
    for new in (ownership(date(2015, 3, 1), TransferReason.FIRST_REGISTRATION, (1, "100")),
                ownership(date(2019, 6, 15), TransferReason.SALE, (2, "50"), (3, "50")),
                ownership(date(2024, 2, 1), TransferReason.INHERITANCE, (4, "100"))):
        transfer(chain, new, TODAY)
        chain.append(new)
    return chain


def test_each_change_closes_the_current_ownership_on_its_date() -> None:
    chain = chain_of_three()
    assert [(o.started_on, o.ended_on) for o in chain] == [
        (date(2015, 3, 1), date(2019, 6, 15)), (date(2019, 6, 15), date(2024, 2, 1)),
        (date(2024, 2, 1), None)]
    assert [o.open_unit_id for o in chain] == [None, None, UNIT]
    assert [o.current_on(date(2020, 1, 1)) for o in chain] == [False, True, False]
    assert chain[0].current_on(date(2019, 6, 14)) and not chain[0].current_on(date(2019, 6, 15))


@pytest.mark.parametrize("on", [date(2023, 12, 31), date(2024, 2, 1), date(2010, 1, 1)])
def test_a_change_on_or_before_the_current_start_is_refused_naming_the_dates(on: date) -> None:
    chain = chain_of_three()
    before = [(o.started_on, o.ended_on, o.open_unit_id) for o in chain]
    with pytest.raises(Conflict) as caught:
        transfer(chain, ownership(on, TransferReason.SALE, (5, "100")), TODAY)
    assert str(on) in caught.value.message and "2024-02-01" in caught.value.message
    assert caught.value.field == "on"
    assert [(o.started_on, o.ended_on, o.open_unit_id) for o in chain] == before


def test_the_first_record_of_a_unit_closes_nothing() -> None:
    first = ownership(date(2018, 1, 1), TransferReason.SALE, (1, "100"))
    assert transfer([], first, TODAY) is None
    assert first.open_unit_id == UNIT


def test_first_registration_comes_only_first() -> None:
    with pytest.raises(Conflict) as caught:
        transfer(chain_of_three(), ownership(date(2025, 1, 1),
                                             TransferReason.FIRST_REGISTRATION, (5, "100")),
                 TODAY)
    assert "2015-03-01" in caught.value.message


def test_a_change_in_the_future_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        transfer([], ownership(date(2026, 11, 28), TransferReason.SALE, (1, "100")), TODAY)
    assert caught.value.field == "on"


def test_the_same_owners_again_is_no_change() -> None:
    chain = chain_of_three()
    with pytest.raises(Conflict) as caught:
        transfer(chain, ownership(date(2025, 1, 1), TransferReason.GIFT, (4, "100")), TODAY)
    assert caught.value.field == "owners"
    assert chain[-1].ended_on is None


@pytest.mark.parametrize(("shares", "field"), [
    ([], "owners"), ([(1, "60"), (2, "30")], "owners"), ([(1, "50"), (1, "50")], "owners.1"),
    ([(1, "0"), (2, "100")], "owners.0.share"), ([(1, "33.333"), (2, "66.667")],
                                                  "owners.0.share"),
    ([(1, "NaN")], "owners.0.share"), ([(1, "-50"), (2, "150")], "owners.0.share"),
])
def test_bad_shares_are_refused_by_field(shares: list[tuple[int, str]], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_shares([(r, D(s)) for r, s in shares])
    assert caught.value.field == field


def test_shares_of_two_decimals_summing_to_100_are_accepted() -> None:
    check_shares([(1, D("33.33")), (2, D("33.33")), (3, D("33.34"))])


def lease(start: date, end: date, *tenants: int) -> Lease:
    return Lease(unit_id=UNIT, starts_on=start, ends_on=end, document_ref="ZL-1",
                 recorded_by=7, recorded_at=AT, monthly_rent=D("6500.00"),
                 tenants=[LeaseTenant(resident_id=t) for t in tenants or (9,)])


def test_leases_of_a_unit_never_overlap() -> None:
    stored = [lease(date(2025, 1, 1), date(2026, 1, 1))]
    check_lease(stored, lease(date(2026, 1, 1), date(2027, 1, 1)))  # back to back is fine
    with pytest.raises(Conflict) as caught:
        check_lease(stored, lease(date(2025, 12, 1), date(2026, 6, 1)))
    assert "2025-12-01" in caught.value.message and "2025-01-01" in caught.value.message


@pytest.mark.parametrize(("start", "end", "rent", "field"), [
    (date(2026, 1, 1), date(2026, 1, 1), "1", "ends_on"),
    (date(2026, 1, 1), date(2025, 1, 1), "1", "ends_on"),
    (date(2026, 1, 1), date(2027, 1, 1), "-0.01", "monthly_rent"),
])
def test_a_lease_needs_an_end_after_its_start_and_no_negative_rent(
        start: date, end: date, rent: str, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        Lease(unit_id=UNIT, starts_on=start, ends_on=end, document_ref="ZL-1", recorded_by=7,
              recorded_at=AT, monthly_rent=D(rent))
    assert caught.value.field == field


def test_a_lease_names_each_tenant_once() -> None:
    with pytest.raises(Invalid):
        check_lease([], lease(date(2026, 1, 1), date(2027, 1, 1), 9, 9))


def stay(relation: Relation, moved_in: date, moved_out: date | None = None) -> Residency:
    return Residency(resident_id=1, unit_id=UNIT, relation=relation, moved_in=moved_in,
                     moved_out=moved_out)


@pytest.mark.parametrize(("current", "stays", "leases", "expected"), [
    (UnitStatus.OCCUPIED, [], [], UnitStatus.VACANT),
    (UnitStatus.VACANT, [stay(Relation.OWNER, date(2020, 1, 1))], [], UnitStatus.OCCUPIED),
    (UnitStatus.VACANT, [stay(Relation.FAMILY, date(2020, 1, 1))], [], UnitStatus.OCCUPIED),
    (UnitStatus.VACANT, [stay(Relation.TENANT, date(2020, 1, 1))], [], UnitStatus.RENTED),
    (UnitStatus.VACANT, [], [lease(date(2026, 1, 1), date(2027, 1, 1))], UnitStatus.RENTED),
    (UnitStatus.OCCUPIED, [stay(Relation.OWNER, date(2020, 1, 1), date(2026, 11, 27))], [],
     UnitStatus.VACANT),
    (UnitStatus.VACANT, [stay(Relation.OWNER, date(2026, 11, 28))], [], UnitStatus.VACANT),
    (UnitStatus.OCCUPIED, [], [lease(date(2025, 1, 1), date(2026, 11, 27))],
     UnitStatus.VACANT),
    (UnitStatus.DECORATING, [stay(Relation.OWNER, date(2020, 1, 1))], [],
     UnitStatus.DECORATING),
    (UnitStatus.DECORATING, [], [], UnitStatus.DECORATING),
])
def test_status_follows_residencies_and_leases_on_the_day(
        current: UnitStatus, stays: list[Residency], leases: list[Lease],
        expected: UnitStatus) -> None:
    assert derive_status(current, stays, leases, TODAY) == expected


def test_the_last_move_out_makes_the_unit_vacant_from_that_date() -> None:
    stays = [stay(Relation.OWNER, date(2020, 1, 1), date(2026, 11, 20)),
             stay(Relation.FAMILY, date(2020, 1, 1), date(2026, 10, 1))]
    assert derive_status(UnitStatus.OCCUPIED, stays, [], date(2026, 11, 19)) \
        == UnitStatus.OCCUPIED
    assert derive_status(UnitStatus.OCCUPIED, stays, [], date(2026, 11, 20)) \
        == UnitStatus.VACANT
    assert vacant_from(stays, [], date(2026, 11, 19)) is None
    assert vacant_from(stays, [], TODAY) == date(2026, 11, 20)
    assert vacant_from([], [], TODAY) is None
