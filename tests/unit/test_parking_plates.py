import pytest

from hub.domain.errors import Invalid
from hub.domain.parking.plates import is_new_energy, is_plate, normalise_plate


@pytest.mark.parametrize(("text", "plate"), [
    ("京A·12345", "京A12345"), ("粤b d12345", "粤BD12345"), ("沪AD12345", "沪AD12345"),
    ("京A1234警", "京A1234警"), ("粤Z1234港", "粤Z1234港"), (" 苏E-12345 ", "苏E12345"),
])
def test_plates_are_stored_in_one_form(text: str, plate: str) -> None:
    assert normalise_plate(text) == plate


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"), ("A12345", "province"), ("京AI2345", "I and O"), ("京A12", "is not a plate"),
    ("京A123456789", "at most"), ("京112345", "is not a plate"), ("京A123警5", "is not a plate"),
])
def test_what_is_not_a_plate_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        normalise_plate(text)
    assert not is_plate(text)


def test_eight_characters_are_new_energy() -> None:
    assert is_new_energy("沪AD12345") and not is_new_energy("京A12345")
