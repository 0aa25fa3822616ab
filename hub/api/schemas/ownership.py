"""Ownership changes, leases, moves and a resident's own units and household, as the API
shows and accepts them. Money and shares travel as decimal strings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from hub.api.schemas.common import Id, In, Out
from hub.domain.ownership import MAX_OWNERS, TransferReason
from hub.domain.property import Orientation, UnitStatus
from hub.domain.residents import Relation

Share = Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2,
                                 description="percent of the unit", examples=["50.00"])]
DocumentRef = Annotated[str, Field(min_length=1, max_length=100,
                                   description="contract or certificate number",
                                   examples=["沪(2026)浦字不动产权第012345号"])]
Rent = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, examples=["6500.00"])]


class OwnerIn(In):
    resident_id: Id
    share: Share


class OwnershipChangeIn(In):
    on: date = Field(description="the day the new owners hold the unit from")
    reason: TransferReason
    owners: list[OwnerIn] = Field(min_length=1, max_length=MAX_OWNERS)
    document_ref: DocumentRef
    note: Annotated[str, Field(max_length=500)] = ""


class OwnerOut(Out):
    resident_id: int
    name: str
    share: Decimal


class OwnershipOut(Out):
    id: int
    started_on: date
    ended_on: date | None
    reason: TransferReason
    document_ref: str
    note: str
    recorded_by: int
    recorded_at: datetime
    current: bool
    owners: list[OwnerOut]


class OwnershipHistoryOut(Out):
    unit_id: int
    status: UnitStatus
    vacant: bool = Field(description="nobody lives there today and no lease runs")
    vacant_since: date | None
    current: OwnershipOut | None
    history: list[OwnershipOut] = Field(description="newest first")


class LeaseIn(In):
    tenant_ids: list[Id] = Field(min_length=1, max_length=10)
    starts_on: date
    ends_on: date = Field(description="the day the tenants are due out (not leased any more)")
    monthly_rent: Rent | None = None
    document_ref: DocumentRef


class TenantOut(Out):
    resident_id: int
    name: str


class LeaseOut(Out):
    id: int
    starts_on: date
    ends_on: date
    monthly_rent: Decimal | None
    document_ref: str
    recorded_by: int
    recorded_at: datetime
    current: bool
    tenants: list[TenantOut]


class MoveInIn(In):
    resident_id: Id
    relation: Relation
    moved_in: date


class MoveOutIn(In):
    resident_ids: list[Id] = Field(min_length=1, max_length=20)
    moved_out: date


class MyUnitOut(Out):
    id: int
    number: str
    floor: int
    gross_area: Decimal
    inner_area: Decimal
    layout: str
    orientation: Orientation | None
    status: UnitStatus
    site_id: int
    site_name: str
    building_id: int
    building_code: str
    building_name: str
    relation: Relation
    moved_in: date
    moved_out: date | None
    ownership_share: Decimal | None = Field(description="percent, when I am a current owner")


class HouseholdMemberOut(Out):
    unit_id: int
    unit_number: str
    resident_id: int
    name: str
    phone: str = Field(description="masked, except my own")
    relation: Relation
    moved_in: date
    moved_out: date | None
    me: bool


class MeSummaryOut(Out):
    resident_id: int | None
    units: int
    household_members: int
    unpaid_bills: int
    unread_notifications: int
