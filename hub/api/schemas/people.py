"""Residents, residencies and accounts as the API shows and accepts them.

National ID numbers go in; only masks come out (the reveal endpoint is the one exception).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, SecretStr

from hub.api.schemas.common import Id, In, Out
from hub.domain.accounts import Role
from hub.domain.residents import Relation

Phone = Annotated[str, Field(pattern=r"^\d{5,15}$", examples=["13812345678"])]
PersonName = Annotated[str, Field(min_length=1, max_length=100)]


class ResidencyIn(In):
    unit_id: Id
    relation: Relation
    moved_in: date


class ResidencyOut(Out):
    id: int
    unit_id: int
    relation: Relation
    moved_in: date
    moved_out: date | None


class EndResidencyIn(In):
    moved_out: date


class ResidentIn(In):
    site_id: Id
    name: PersonName
    phone: Phone | None = None
    # SecretStr keeps the number out of reprs, logs and validation error echoes.
    national_id: SecretStr | None = None
    residencies: list[ResidencyIn] = Field(default_factory=list, max_length=20)


class ResidentPatch(In):
    name: PersonName | None = None
    phone: Phone | None = None


class ResidentOut(Out):
    id: int
    site_id: int
    name: str
    phone: str
    national_id: str | None = Field(description="masked, e.g. 3101**********1234")
    residencies: list[ResidencyOut]


class LookupIn(In):
    national_id: SecretStr


class RevealIn(In):
    reason: Annotated[str, Field(min_length=5, max_length=200)]


class RevealOut(Out):
    national_id: str


class GrantModel(In):
    site_id: Id
    building_id: Id | None = None


class AccountIn(In):
    username: Annotated[str, Field(pattern=r"^[a-zA-Z0-9_.@-]{3,64}$")]
    password: Annotated[SecretStr, Field(min_length=8, max_length=128)]
    role: Role
    display_name: Annotated[str, Field(max_length=100)] = ""
    resident_id: Id | None = None
    grants: list[GrantModel] = Field(default_factory=list, max_length=100)


class AccountPatch(In):
    role: Role | None = None
    display_name: Annotated[str, Field(max_length=100)] | None = None
    active: bool | None = None
    password: Annotated[SecretStr, Field(min_length=8, max_length=128)] | None = None
    grants: list[GrantModel] | None = Field(default=None, max_length=100)


class GrantOut(Out):
    site_id: int
    building_id: int | None


class AccountOut(Out):
    id: int
    username: str
    role: Role
    display_name: str
    active: bool
    resident_id: int | None
    grants: list[GrantOut]


class TokenOut(Out):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class RefreshIn(In):
    refresh_token: Annotated[str, Field(min_length=10, max_length=200)]


class MeOut(Out):
    account_id: int
    username: str
    role: Role
    display_name: str
    resident_id: int | None
    unit_ids: list[int]
    site_ids: list[int] | None


class AuditOut(Out):
    id: int
    at: datetime
    action: str
    actor_id: int | None
    actor_role: str | None
    target: str
    detail: dict[str, str]
