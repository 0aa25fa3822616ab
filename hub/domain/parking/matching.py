"""Which car inside a lot a plate read is: exactly, or despite one misread character.

Cameras misread in known ways: the province character (a small, dense glyph), and pairs of
characters that look alike (0/D/Q, 8/B, 2/Z, 1/I). A read that differs from a car inside by
one such character is that car only when exactly one car inside fits; two fits are no match
at all, with both named, because opening for the wrong car is worse than asking a guard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hub.domain.parking.plates import PROVINCES

# Characters cameras confuse; O and I are never issued (GA 36) but are read all the same.
CONFUSABLE_GROUPS = ("0DQO", "8B", "2Z", "1I")
_GROUP_OF = {ch: group for group in CONFUSABLE_GROUPS for ch in group}
_SEPARATORS = re.compile(r"[\s·•．.\-_]+")


def clean_read(text: str) -> str:
    """A camera's text in the plate's form, without rejecting what GA 36 forbids (a read
    with an O is still worth matching)."""
    return _SEPARATORS.sub("", text).upper()


def confusable(a: str, b: str) -> bool:
    group = _GROUP_OF.get(a)
    return group is not None and b in group


@dataclass(frozen=True)
class Match:
    plate: str | None  # the car inside it is; None: none (or more than one)
    exact: bool
    reason: str | None  # why a fuzzy match or no match, in a guard's words


def _one_misread(read: str, plate: str) -> str | None:
    """How `read` differs from `plate` by one tolerated misread, or None."""
    if len(read) != len(plate):
        return None
    differences = [i for i, (a, b) in enumerate(zip(read, plate, strict=True)) if a != b]
    if len(differences) != 1:
        return None
    i = differences[0]
    if i == 0 and read[0] in PROVINCES and plate[0] in PROVINCES:
        return f"province {read[0]} read for {plate[0]}"
    if i > 0 and confusable(read[i], plate[i]):
        return f"{read[i]} read for {plate[i]} at position {i + 1}"
    return None


def match_inside(read: str, inside: Iterable[str]) -> Match:
    """The car among `inside` (normalised plates) that `read` is."""
    text = clean_read(read)
    plates = set(inside)
    if text in plates:
        return Match(text, True, None)
    fits = sorted((plate, how) for plate in plates
                  if (how := _one_misread(text, plate)) is not None)
    if len(fits) == 1:
        plate, how = fits[0]
        return Match(plate, False, f"read {text} matched {plate} inside ({how})")
    if len(fits) > 1:
        names = ", ".join(plate for plate, _ in fits)
        return Match(None, False, f"read {text} could be any of {names} inside: no match")
    return Match(None, False, None)
