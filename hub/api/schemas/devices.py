"""Devices, their status and commands, and dead letters as the API shows and accepts them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from hub.api.schemas.common import Id, In, Out
from hub.domain.registry import Approval, Protocol

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["b3-lift-1"])]
Kind = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$", examples=["elevator"])]
Tag = Annotated[str, Field(min_length=1, max_length=32)]
Name = Annotated[str, Field(max_length=200, examples=["3号楼 1号电梯 Building 3 lift 1"])]
Floor = Annotated[int, Field(ge=-5, le=200)]
Period = Annotated[float, Field(ge=0.1, le=3600)]
Timeout = Annotated[int, Field(ge=5, le=7 * 86_400, description="silent this long: offline")]
MAX_ARGS_BYTES = 1024


class ConnectionIn(In):
    """How a Modbus device is reached; MQTT devices have none (they reach the broker)."""

    host: Annotated[str, Field(min_length=1, max_length=255, examples=["127.0.0.1"])]
    port: Annotated[int, Field(ge=1, le=65535, examples=[502])]
    unit: Annotated[int, Field(ge=0, le=255)] = 1
    request_timeout_s: Annotated[float, Field(ge=0.05, le=60)] = 1.0
    retries: Annotated[int, Field(ge=0, le=5)] = 1


class DeviceIn(In):
    site_id: Id
    code: Code
    kind: Kind
    building_id: Id | None = None
    asset_id: Id | None = None
    name: Name = ""
    floor: Floor | None = None
    protocol: Protocol = Protocol.MQTT
    connection: ConnectionIn | None = None
    register_map: Code | None = None
    poll_period_s: Period = 1.0
    timeout_s: Timeout = 300
    tags: Annotated[list[Tag], Field(default_factory=list, max_length=16)]


class DevicePatch(In):
    name: Name | None = None
    building_id: Id | None = None
    floor: Floor | None = None
    asset_id: Id | None = None
    protocol: Protocol | None = None
    connection: ConnectionIn | None = None
    register_map: Code | None = None
    poll_period_s: Period | None = None
    timeout_s: Timeout | None = None
    tags: Annotated[list[Tag], Field(max_length=16)] | None = None
    approval: Literal["active", "disabled"] | None = None


class DeviceOut(Out):
    id: int
    site_id: int
    code: str
    kind: str
    building_id: int | None
    asset_id: int | None
    name: str
    floor: int | None
    protocol: Protocol
    connection: dict[str, Any]
    register_map: str | None
    poll_period_s: float
    timeout_s: int
    approval: Approval
    tags: list[str]
    online: bool | None = Field(description="None: not heard of yet")
    last_seen: datetime | None


class LastValueOut(BaseModel):
    value: float | int | bool | str | None
    at: datetime


class GapOut(BaseModel):
    boot: str
    first_missing: int
    last_missing: int
    detected_at: datetime


class GapsOut(BaseModel):
    count: int
    missing: int = Field(description="messages lost in all gaps together")
    recent: list[GapOut]


class DeviceStatusOut(Out):
    device_id: int
    online: bool | None
    online_since: datetime | None
    offline_reason: str | None
    last_seen: datetime | None
    boot: str
    last_seq: int | None
    last_values: dict[str, LastValueOut]
    errors: dict[str, int] = Field(description="rejected messages and failed polls, by reason")
    gaps: GapsOut


class CommandIn(In):
    action: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,31}$", examples=["open"])]
    args: dict[str, Any] = Field(default_factory=dict)
    expires_in: Annotated[int, Field(ge=1, le=600, description="seconds")] = 30

    @field_validator("args")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_ARGS_BYTES:
            raise ValueError(f"args must be at most {MAX_ARGS_BYTES} bytes of JSON")
        return value


class CommandOut(Out):
    id: str
    device_id: int
    action: str
    args: dict[str, Any]
    issued_at: datetime
    expires_at: datetime
    issued_by: int | None
    cause: str
    status: str = Field(description="sent, acked, failed, no_ack or expired")
    acked_at: datetime | None
    error: str | None


class DeadLetterOut(Out):
    id: int
    at: datetime
    topic: str
    device_key: str | None
    reason: str
    excerpt: str


class DeadLetterCountOut(BaseModel):
    device_key: str | None
    reason: str
    count: int


class DeadLetterCounts(BaseModel):
    items: list[DeadLetterCountOut]
    total: int
    limit: int
    offset: int
    dropped: int | None = Field(description="dead letters removed to keep the table bounded "
                                            "(all sites; administrators only)")
