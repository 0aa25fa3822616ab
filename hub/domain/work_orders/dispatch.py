"""Who gets an order: the roster of technicians (skills, on duty) and the round-robin turn."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.domain.errors import Invalid
from hub.domain.property import CODE_PATTERN


@dataclass(eq=False)
class RosterEntry:
    """One staff account's place in a site's roster: the categories it handles, on duty now."""

    site_id: int
    account_id: int
    skills: list[str] = field(default_factory=list)
    on_duty: bool = False
    id: int | None = None

    def __post_init__(self) -> None:
        for skill in self.skills:
            if not CODE_PATTERN.fullmatch(skill):
                raise Invalid(f"skill {skill!r} must be a category code like 'elevator'",
                              field="skills")


@dataclass(eq=False)
class Rotation:
    """Whose turn it was last, per (site, category): persisted so the turn survives restarts
    and two workers agree."""

    site_id: int
    category: str
    last_account_id: int


def candidates(roster: Iterable[RosterEntry], category: str) -> list[int]:
    """On-duty accounts with the skill, in a fixed order (account id)."""
    return sorted({e.account_id for e in roster if e.on_duty and category in e.skills})


def next_in_turn(accounts: list[int], last: int | None) -> int | None:
    """The first account after `last` in id order, wrapping around; None when nobody is on."""
    if not accounts:
        return None
    if last is None:
        return accounts[0]
    return next((a for a in accounts if a > last), accounts[0])
