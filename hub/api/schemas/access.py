"""Doors, credentials, visitor passes and the access log as the API shows and accepts them.
Instants need a UTC offset. A card's number and a credential's secret never leave."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

from hub.api.schemas.common import Id, In, Out
from hub.domain.access.model import (
    MAX_FREE_MINUTES,
    MAX_VISITOR_ENTRIES,
    CredentialKind,
    PassStatus,
    Presented,
)
from hub.domain.device_commands import CommandStatus

Name = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=3, max_length=200, examples=["courier, no code"])]


class DoorIn(In):
    device_id: Id
    name: Name
    building_id: Id | None = None  # None: the door admits residents of the whole site


class DoorOut(Out):
    id: int
    site_id: int
    device_id: int
    building_id: int | None
    name: str
    created_at: datetime


class OpenIn(In):
    reason: Reason


class OpenedOut(Out):
    access_log_id: int
    command_id: str
    status: CommandStatus


class CardIn(In):
    resident_id: Id
    card: Annotated[str, Field(min_length=4, max_length=32, examples=["04A1B2C3"])]
    label: Annotated[str, Field(max_length=100)] = ""


class CredentialOut(Out):
    id: int
    site_id: int
    resident_id: int
    kind: CredentialKind
    label: str
    issued_at: datetime
    revoked_at: datetime | None


class QrOut(Out):
    code: str  # show as a QR code: "QR:<credential>-<code>"
    expires_at: datetime
    step_s: int


class VisitorPassIn(In):
    visitor_name: Annotated[str, Field(min_length=1, max_length=100, examples=["王芳"])]
    visitor_phone: Annotated[str, Field(max_length=20, examples=["13900001111"])] = ""
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    entries: Annotated[int, Field(ge=1, le=MAX_VISITOR_ENTRIES)] = 1
    plate: Annotated[str | None, Field(max_length=16, examples=["沪A12345"])] = None
    free_minutes: Annotated[int, Field(ge=0, le=MAX_FREE_MINUTES)] = 0
    unit_id: Id | None = None  # which household: needed only when you live in several
    needs_approval: bool = False


class IssuedPassOut(Out):
    id: int
    status: PassStatus
    code: str  # the visitor shows it at the door: "QR:V-<pass>-<code>"


class VisitorPassOut(Out):
    id: int
    site_id: int
    unit_id: int
    issued_by: int
    visitor_name: str
    visitor_phone: str  # masked for staff who do not call visitors
    valid_from: datetime
    valid_until: datetime
    entries_allowed: int
    entries_used: int
    plate: str | None
    free_minutes: int
    needs_approval: bool
    status: PassStatus
    decided_at: datetime | None
    decision_note: str
    created_at: datetime


class MyVisitorPassOut(VisitorPassOut):
    code: str | None  # while the pass may still admit


class DecideIn(In):
    note: Annotated[str, Field(max_length=200)] = ""


class VerifyIn(In):
    code: Annotated[str, Field(min_length=1, max_length=100, examples=["QR:V-12-ABCD"])]


class VerifiedOut(Out):
    valid: bool
    reasons: list[str]
    visitor_pass: VisitorPassOut | None


class AccessLogOut(Out):
    id: int
    site_id: int
    device_id: int
    door_id: int | None
    presented: Presented
    allowed: bool
    reasons: list[str]
    at: datetime
    credential_id: int | None
    resident_id: int | None
    visitor_pass_id: int | None
    unit_id: int | None
    opened_by: int | None
