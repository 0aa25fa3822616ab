"""Residents and residencies: names, phones, move-in and move-out."""

from __future__ import annotations

from datetime import date

import pytest

from hub.domain.errors import Invalid
from hub.domain.residents import Relation, Residency, Resident, check_phone

MOVED_IN = date(2019, 5, 1)


def residency(moved_out: date | None = None) -> Residency:
    return Residency(resident_id=42, unit_id=101, relation=Relation.OWNER, moved_in=MOVED_IN,
                     moved_out=moved_out)


def test_resident_needs_a_name() -> None:
    with pytest.raises(Invalid) as caught:
        Resident(site_id=1, name=" ")
    assert caught.value.field == "name"


@pytest.mark.parametrize("phone", ["", "13812345678", "02161234567", "12345", "1" * 15])
def test_good_phones_are_accepted(phone: str) -> None:
    assert Resident(site_id=1, name="王伟", phone=phone).phone == phone


@pytest.mark.parametrize("phone", [
    "1234", "1" * 16, "138-1234-5678", "+8613812345678", "138 1234 5678",
    "１３８１２３４５６７８", "138١٢٣٤٥٦٧٨", "13812²45678",
])
def test_bad_phones_are_refused(phone: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_phone(phone)
    assert caught.value.field == "phone"


def test_move_out_before_move_in_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        residency(moved_out=date(2019, 4, 30))
    assert caught.value.field == "moved_out"


def test_moving_out_before_moving_in_is_refused() -> None:
    current = residency()
    with pytest.raises(Invalid):
        current.move_out(date(2019, 4, 30))
    assert current.moved_out is None


def test_active_from_move_in_until_the_day_before_move_out() -> None:
    ended = residency(moved_out=date(2024, 3, 1))
    assert not ended.active_on(date(2019, 4, 30))
    assert ended.active_on(MOVED_IN)
    assert ended.active_on(date(2024, 2, 29))
    assert not ended.active_on(date(2024, 3, 1))


def test_open_residency_is_active_from_move_in_on() -> None:
    current = residency()
    assert not current.active_on(date(2019, 4, 30))
    assert current.active_on(date(2099, 1, 1))


def test_move_out_ends_the_residency() -> None:
    current = residency()
    current.move_out(date(2024, 3, 1))
    assert current.moved_out == date(2024, 3, 1)
    assert not current.active_on(date(2024, 3, 1))


def test_move_out_on_the_move_in_day_is_allowed() -> None:
    current = residency()
    current.move_out(MOVED_IN)
    assert not current.active_on(MOVED_IN)


def test_double_move_out_is_refused() -> None:
    current = residency()
    current.move_out(date(2024, 3, 1))
    with pytest.raises(Invalid, match="already ended"):
        current.move_out(date(2024, 4, 1))
    assert current.moved_out == date(2024, 3, 1)
