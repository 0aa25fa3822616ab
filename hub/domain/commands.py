"""Commands: what someone asks the hub to do. Each has exactly one handler."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hub.domain.accounts import Actor, Role
from hub.domain.residents import Relation


@dataclass(frozen=True)
class Command:
    actor: Actor


@dataclass(frozen=True)
class CreateSite(Command):
    code: str
    name: str
    address: str = ""
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class CreateBuilding(Command):
    site_id: int
    code: str
    name: str
    floors: int


@dataclass(frozen=True)
class CreateUnit(Command):
    building_id: int
    number: str
    floor: int
    gross_area: Decimal
    inner_area: Decimal
    layout: str = ""
    orientation: str | None = None
    status: str = "vacant"


@dataclass(frozen=True)
class Change(Command):
    """Update some fields of one record (`kind` is "site", "building", "unit", "resident")."""

    kind: str
    ident: int
    changes: dict[str, Any]


@dataclass(frozen=True)
class Delete(Command):
    kind: str
    ident: int


@dataclass(frozen=True)
class ResidencyIn:
    unit_id: int
    relation: Relation
    moved_in: date


@dataclass(frozen=True)
class RegisterResident(Command):
    site_id: int
    name: str
    phone: str = ""
    national_id: str | None = field(default=None, repr=False)
    residencies: tuple[ResidencyIn, ...] = ()


@dataclass(frozen=True)
class AddResidency(Command):
    resident_id: int
    residency: ResidencyIn


@dataclass(frozen=True)
class EndResidency(Command):
    residency_id: int
    moved_out: date


@dataclass(frozen=True)
class RevealNationalId(Command):
    resident_id: int
    reason: str


@dataclass(frozen=True)
class GrantIn:
    site_id: int
    building_id: int | None = None


@dataclass(frozen=True)
class CreateAccount(Command):
    username: str
    password: str = field(repr=False)
    role: Role
    display_name: str = ""
    resident_id: int | None = None
    grants: tuple[GrantIn, ...] = ()


@dataclass(frozen=True)
class UpdateAccount(Command):
    account_id: int
    role: Role | None = None
    display_name: str | None = None
    active: bool | None = None
    password: str | None = field(default=None, repr=False)
    grants: tuple[GrantIn, ...] | None = None


@dataclass(frozen=True)
class RecordDenial(Command):
    """A request the policy table refused: audited, nothing else."""

    route: str


@dataclass(frozen=True)
class Login:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Refresh:
    refresh_token: str = field(repr=False)


@dataclass(frozen=True)
class Logout:
    actor: Actor
    session_id: str
