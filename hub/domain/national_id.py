"""Mainland resident identity numbers (GB 11643-1999): validation and masking.

The number itself is personal data: it never appears in an error message or a log line.
"""

from __future__ import annotations

import re
from datetime import date

from hub.domain.errors import Invalid

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# ASCII only: `\d` would also take full-width and other Unicode digits, which int() reads.
_SHAPE = re.compile(r"[1-9][0-9]{16}[0-9X]")


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise(raw: str) -> str:
    """Upper-case, trimmed, validated number. Raises Invalid without echoing the value."""
    value = raw.strip().upper()
    if not _SHAPE.fullmatch(value):
        raise Invalid("national_id must be 18 characters: 17 digits and a digit or X",
                      field="national_id")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise Invalid("national_id has an impossible birth date", field="national_id") from None
    if check_digit(value[:17]) != value[17]:
        raise Invalid("national_id check digit does not match (GB 11643)", field="national_id")
    return value


def mask(value: str) -> str:
    """`3101**********1234`: the first four and the last four characters."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(phone: str) -> str:
    """`138****5678` for mobile numbers; other lengths keep their last four."""
    digits = phone.strip()
    if len(digits) == 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]
