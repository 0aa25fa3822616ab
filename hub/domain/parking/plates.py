"""Chinese licence plate text (GA 36): one normal form for every place a plate is typed, read
or imported, and the rules a plate's characters follow.

A plate is a province character (the 31 mainland abbreviations), a letter (the issuing
authority), then five letters and digits (six on a green new-energy plate), without I and O,
which are never issued because they read as 1 and 0. Some plates end in a special character
instead of their last letter or digit: 学 (driving school), 警 (police), 挂 (trailer),
港 and 澳 (cross-border), 领 and 使 (consular).
"""

from __future__ import annotations

import re

from hub.domain.errors import Invalid

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
DIGITS = "0123456789"
SPECIALS = "学警挂港澳领使"
# Separators people and cameras put into a plate: "京A·12345", "京A 12345", "京-A12345".
_SEPARATORS = re.compile(r"[\s·•．.\-_]+")
_PLATE = re.compile(
    rf"^[{PROVINCES}][{LETTERS}]"
    rf"(?:[{LETTERS}{DIGITS}]{{5,6}}|[{LETTERS}{DIGITS}]{{4}}[{SPECIALS}])$")
MAX_LENGTH = 8


def normalise_plate(text: str, *, field: str = "plate") -> str:
    """The plate as stored and compared: upper case, no separators. Raises Invalid naming
    what is wrong with it."""
    if not isinstance(text, str):
        raise Invalid("a plate must be text", field=field)
    plate = _SEPARATORS.sub("", text).upper()
    if not plate:
        raise Invalid("a plate must not be empty", field=field)
    if len(plate) > MAX_LENGTH:
        raise Invalid(f"a plate has at most {MAX_LENGTH} characters, not {len(plate)}",
                      field=field)
    if plate[0] not in PROVINCES:
        raise Invalid(f"a plate starts with a province character, not {plate[0]!r}",
                      field=field)
    if "I" in plate or "O" in plate:
        raise Invalid("plates never contain the letters I and O", field=field)
    if not _PLATE.match(plate):
        raise Invalid(f"{plate!r} is not a plate: province, letter, then 5 or 6 letters and "
                      "digits (or 4 and a special character)", field=field)
    return plate


def is_plate(text: str) -> bool:
    try:
        normalise_plate(text)
    except Invalid:
        return False
    return True


def is_new_energy(plate: str) -> bool:
    """Eight characters: the green new-energy plate (新能源)."""
    return len(plate) == 8
