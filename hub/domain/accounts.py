"""Accounts, roles and the scope an actor may see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hub.domain.errors import Invalid

USERNAME = re.compile(r"^[a-zA-Z0-9_.@-]{3,64}$")


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    FINANCE = "finance"
    MAINTENANCE = "maintenance"
    SERVICE_DESK = "service_desk"
    SECURITY = "security"
    RESIDENT = "resident"


STAFF_ROLES = frozenset(Role) - {Role.RESIDENT}

# Roles whose work is talking to residents see phone numbers in full; the rest see them masked.
PHONE_VISIBLE_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SERVICE_DESK})


@dataclass(eq=False)
class ScopeGrant:
    """Access to one site, or to one building of it."""

    site_id: int
    building_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Account:
    username: str
    password_hash: str
    role: Role
    display_name: str = ""
    active: bool = True
    resident_id: int | None = None
    id: int | None = None
    grants: list[ScopeGrant] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not USERNAME.fullmatch(self.username):  # `$` would let "bob\n" in
            raise Invalid("username must be 3-64 letters, digits or _.@-", field="username")
        if self.role == Role.RESIDENT and self.resident_id is None:
            raise Invalid("a resident account needs resident_id", field="resident_id")
        if self.role != Role.RESIDENT and self.resident_id is not None:
            raise Invalid("only resident accounts link a resident", field="resident_id")


@dataclass(frozen=True)
class Actor:
    """Who is asking, and what they may see.

    Admins see every site. Other staff see the sites granted whole (`whole_sites`) and the
    single buildings granted (`buildings`, in `partial_sites`). Residents see their current
    households (`unit_ids`) and nothing else.
    """

    account_id: int
    role: Role
    all_sites: bool = False
    whole_sites: frozenset[int] = frozenset()
    partial_sites: frozenset[int] = frozenset()
    buildings: frozenset[int] = frozenset()
    unit_ids: frozenset[int] = frozenset()
    resident_id: int | None = None

    @property
    def is_resident(self) -> bool:
        return self.role == Role.RESIDENT

    def sees_site(self, site_id: int) -> bool:
        return self.all_sites or site_id in self.whole_sites or site_id in self.partial_sites

    def sees_building(self, site_id: int, building_id: int) -> bool:
        return self.all_sites or site_id in self.whole_sites or building_id in self.buildings

    def manages_site(self, site_id: int) -> bool:
        """Site-wide writes (a new building, a resident) need the whole site, not a building."""
        return self.all_sites or site_id in self.whole_sites

    def sees_unit(self, site_id: int, building_id: int, unit_id: int) -> bool:
        if self.is_resident:
            return unit_id in self.unit_ids
        return self.sees_building(site_id, building_id)

    def sees_phone_of(self, resident_id: int) -> bool:
        return self.role in PHONE_VISIBLE_ROLES or resident_id == self.resident_id


# Who acts for the command line and the demo seeder: audit rows show actor 0, "system".
SYSTEM = Actor(account_id=0, role=Role.ADMIN, all_sites=True)


def actor_for(account: Account, *, building_sites: dict[int, int],
              household: frozenset[int] = frozenset(),
              household_sites: frozenset[int] = frozenset()) -> Actor:
    """An account's grants as an Actor. `building_sites` maps granted buildings to their site."""
    assert account.id is not None
    if account.role == Role.ADMIN:
        return Actor(account.id, account.role, all_sites=True)
    if account.role == Role.RESIDENT:
        return Actor(account.id, account.role, partial_sites=household_sites,
                     unit_ids=household, resident_id=account.resident_id)
    whole = frozenset(g.site_id for g in account.grants if g.building_id is None)
    buildings = frozenset(g.building_id for g in account.grants if g.building_id is not None)
    partial = frozenset(building_sites[b] for b in buildings if b in building_sites)
    return Actor(account.id, account.role, whole_sites=whole, partial_sites=partial,
                 buildings=buildings)


@dataclass(eq=False)
class AuthSession:
    """One login: the refresh token's hash, rotated on every refresh, and revocation."""

    id: str
    account_id: int
    refresh_hash: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def live_at(self, at: datetime) -> bool:
        return self.revoked_at is None and at < self.expires_at

    def revoke(self, at: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = at
