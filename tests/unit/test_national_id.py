"""GB 11643-1999 identity numbers: the check character, normalisation, masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hub.domain.errors import Invalid
from hub.domain.national_id import check_digit, mask, mask_phone, normalise

CHECK_CHARS = "10X98765432"

# Worked by hand: sum of digit x weight (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2), mod 11,
# then the character at that position of "10X98765432".
KNOWN_GOOD = [
    # 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167; 167 mod 11 = 2 -> "X"
    ("11010519491231002", "X"),
    # 28+36+0+25+16+16+2+8+48+0+0+9+0+5+0+0+2 = 195; 195 mod 11 = 8 -> "4"
    ("44052418800101001", "4"),
    # 21+9+0+5+8+20+2+9+48+15+0+63+10+25+0+0+2 = 237; 237 mod 11 = 6 -> "6"
    ("31011519850715001", "6"),
    # 21+18+0+5+0+8+2+9+54+0+0+27+0+35+0+0+6 = 185; 185 mod 11 = 9 -> "3"
    ("32010219900307003", "3"),
]


@pytest.mark.parametrize(("first17", "expected"), KNOWN_GOOD)
def test_check_digit_matches_hand_worked_numbers(first17: str, expected: str) -> None:
    assert check_digit(first17) == expected


@pytest.mark.parametrize(("first17", "expected"), KNOWN_GOOD)
def test_known_good_numbers_normalise_to_themselves(first17: str, expected: str) -> None:
    assert normalise(first17 + expected) == first17 + expected


def test_lower_case_x_and_surrounding_spaces_are_accepted() -> None:
    assert normalise("  11010519491231002x \t") == "11010519491231002X"


def with_check(first17: str) -> str:
    return first17 + check_digit(first17)


REFUSED = {
    "seventeen characters": "11010519491231002",
    "nineteen characters": "11010519491231002X0",
    "a letter inside": "1101051949123100AX",
    "X not last": "X10105194912310024",
    "leading zero": with_check("01010519491231002"),
    "wrong check digit": "110105194912310021",
    "February 30": with_check("11010519900230001"),
    "month 13": with_check("11010519901301001"),
    "day 00": with_check("11010519900100001"),
    "full-width digits": "1１０１０５１９４９１２３１００２X",
    "arabic-indic digits": "1١٠١٠٥١٩٤٩١٢٣١٠٠٢X",
    "empty": "",
    "inner space": "110105 19491231002X",
}


@pytest.mark.parametrize("raw", REFUSED.values(), ids=REFUSED.keys())
def test_bad_numbers_are_refused_without_echoing_the_value(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise(raw)
    assert caught.value.field == "national_id"
    if raw:
        assert raw not in str(caught.value)
        assert raw[:17] not in caught.value.message


def test_impossible_date_is_named_as_the_reason() -> None:
    with pytest.raises(Invalid, match="birth date"):
        normalise(with_check("11010519900230001"))


def test_mask_keeps_the_first_and_last_four() -> None:
    assert mask("310115198507150016") == "3101**********0016"
    assert mask("310101199001011234") == "3101**********1234"


def test_mask_hides_short_values_entirely() -> None:
    assert mask("12345678") == "********"


def test_mask_phone_keeps_the_prefix_and_last_four_of_a_mobile() -> None:
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(("phone", "masked"), [
    ("02161234567", "021****4567"),
    ("61234567", "****4567"),
    ("1234", "****"),
    ("", ""),
])
def test_mask_phone_other_lengths(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def first17s() -> st.SearchStrategy[str]:
    """17 digits: a region not starting with 0, a real birth date, a sequence number."""
    region = st.tuples(st.integers(1, 9), st.integers(0, 99_999)).map(
        lambda parts: f"{parts[0]}{parts[1]:05d}")
    birth = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(
        lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}")
    sequence = st.integers(0, 999).map(lambda n: f"{n:03d}")
    return st.tuples(region, birth, sequence).map("".join)


@given(first17s())
def test_appending_the_check_digit_always_validates(first17: str) -> None:
    assert normalise(first17 + check_digit(first17)) == first17 + check_digit(first17)


@given(first17s(), st.sampled_from(CHECK_CHARS))
def test_any_other_check_character_is_refused(first17: str, other: str) -> None:
    assume(other != check_digit(first17))
    with pytest.raises(Invalid, match="check digit"):
        normalise(first17 + other)
