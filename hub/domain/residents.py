"""Residents and their relation to units (owner, family, tenant) over time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hub.domain.errors import Invalid


class Relation(StrEnum):
    OWNER = "owner"
    FAMILY = "family"
    TENANT = "tenant"


@dataclass(eq=False)
class Resident:
    """A person. The national ID is held only as ciphertext, blind index and mask."""

    site_id: int
    name: str
    phone: str = ""
    national_id_cipher: str | None = None
    national_id_index: str | None = None
    national_id_masked: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise Invalid("name must not be empty", field="name")
        check_phone(self.phone)


def check_phone(phone: str) -> None:
    # isascii: isdigit() alone takes full-width, Arabic-Indic and superscript digits.
    if phone and not (phone.isascii() and phone.isdigit() and 5 <= len(phone) <= 15):
        raise Invalid("phone must be 5 to 15 digits", field="phone")


@dataclass(eq=False)
class Residency:
    """One resident's relation to one unit, from move-in to move-out."""

    resident_id: int
    unit_id: int
    relation: Relation
    moved_in: date
    moved_out: date | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        if self.moved_out is not None and self.moved_out < self.moved_in:
            raise Invalid("moved_out cannot be before moved_in", field="moved_out")

    def active_on(self, day: date) -> bool:
        return self.moved_in <= day and (self.moved_out is None or day < self.moved_out)

    def move_out(self, day: date) -> None:
        if self.moved_out is not None:
            raise Invalid("this residency has already ended", field="moved_out")
        if day < self.moved_in:
            raise Invalid("moved_out cannot be before moved_in", field="moved_out")
        self.moved_out = day
