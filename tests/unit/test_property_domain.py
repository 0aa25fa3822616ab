"""Sites, buildings and units: codes, names, floors and areas."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.errors import Invalid
from hub.domain.property import CODE_PATTERN, Building, Site, Unit, UnitStatus, check_code
from hub.domain.registry import Asset, Device


def unit(gross: str = "89.75", inner: str = "72.10", number: str = "3-0201") -> Unit:
    return Unit(site_id=1, building_id=3, number=number, floor=2, gross_area=Decimal(gross),
                inner_area=Decimal(inner))


@pytest.mark.parametrize("code", ["lakeside", "b3", "b3-lift-1", "0", "a" * 63, "9-a"])
def test_good_codes_are_accepted(code: str) -> None:
    assert check_code(code) == code
    assert Site(code=code, name="Lakeside Gardens").code == code


@pytest.mark.parametrize("code", [
    "", "Lakeside", "-b3", "b3_lift", "b3 lift", "a" * 64, "湖畔", "b3/lift", "b3#", "b3+",
    "lakeside\n", "b3\n",
])
def test_bad_codes_are_refused(code: str) -> None:
    with pytest.raises(Invalid) as caught:
        Site(code=code, name="Lakeside Gardens")
    assert caught.value.field == "code"
    with pytest.raises(Invalid):
        Building(site_id=1, code=code, name="Building 3")


@given(st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,62}\Z"))
def test_every_code_of_the_grammar_is_accepted(code: str) -> None:
    assert check_code(code) == code


@given(st.text(max_size=70))
def test_accepted_codes_are_topic_safe(text: str) -> None:
    try:
        check_code(text)
    except Invalid:
        return
    assert CODE_PATTERN.fullmatch(text)
    assert all(c.isascii() and (c.islower() or c.isdigit() or c == "-") for c in text)
    assert "/" not in text and "+" not in text and "#" not in text


def test_site_needs_a_name() -> None:
    with pytest.raises(Invalid) as caught:
        Site(code="lakeside", name="  ")
    assert caught.value.field == "name"


def test_building_needs_a_floor() -> None:
    assert Building(site_id=1, code="b3", name="3号楼", floors=1).floors == 1
    with pytest.raises(Invalid) as caught:
        Building(site_id=1, code="b3", name="3号楼", floors=0)
    assert caught.value.field == "floors"


def test_unit_defaults_to_vacant() -> None:
    assert unit().status == UnitStatus.VACANT


def test_inner_area_may_equal_gross_area() -> None:
    assert unit("72.10", "72.10").inner_area == Decimal("72.10")


def test_inner_area_above_gross_area_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        unit("72.10", "72.11")
    assert caught.value.field == "inner_area"


@pytest.mark.parametrize(("gross", "inner", "field"), [
    ("0", "0", "gross_area"),
    ("-89.75", "72.10", "gross_area"),
    ("89.75", "0", "inner_area"),
    ("89.75", "-1", "inner_area"),
    ("NaN", "72.10", "gross_area"),
    ("Infinity", "72.10", "gross_area"),
    ("89.75", "NaN", "inner_area"),
    ("sNaN", "72.10", "gross_area"),
])
def test_areas_must_be_positive_numbers(gross: str, inner: str, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        unit(gross, inner)
    assert caught.value.field == field


def test_unit_needs_a_number() -> None:
    with pytest.raises(Invalid) as caught:
        unit(number=" ")
    assert caught.value.field == "number"


def test_check_runs_again_after_a_change() -> None:
    changed = unit()
    changed.inner_area = Decimal("100")
    with pytest.raises(Invalid):
        changed.check()


def test_devices_and_assets_use_the_same_code_grammar() -> None:
    assert Device(site_id=1, code="b3-lift-1", kind="elevator").code == "b3-lift-1"
    assert Asset(site_id=1, code="b3-lift", name="3号楼电梯", category="elevator").code == "b3-lift"
    with pytest.raises(Invalid):
        Device(site_id=1, code="B3 Lift", kind="elevator")
    with pytest.raises(Invalid):
        Asset(site_id=1, code="b3/lift", name="lift", category="elevator")
