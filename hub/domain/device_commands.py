"""Commands the hub sends to devices (open the barrier, switch the lights) and their fate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hub.domain.errors import Invalid
from hub.domain.observations import DeviceKey

MAX_LIFETIME = timedelta(minutes=10)

# Actions that are safe to send twice; anything else is never resent blindly: the hub reads
# the device's state back instead (a second "toggle" would undo the first).
IDEMPOTENT_ACTIONS = frozenset({"open", "close", "on", "off", "unlock", "lock", "set"})


class CommandStatus(StrEnum):
    SENT = "sent"
    ACKED = "acked"
    FAILED = "failed"  # the device said no
    NO_ACK = "no_ack"  # no answer before the timeout
    EXPIRED = "expired"  # not sent before it expired (device offline, broker down)


@dataclass(frozen=True)
class DeviceCommand:
    id: str
    device_id: int
    key: DeviceKey
    action: str
    issued_at: datetime
    expires_at: datetime
    args: Mapping[str, Any] = field(default_factory=dict)
    cause: str = ""  # "api" or "rule:<id>@<version>"
    issued_by: int | None = None

    def __post_init__(self) -> None:
        if not self.action.isidentifier() or len(self.action) > 32:
            raise Invalid("action must be a short identifier such as open or on",
                          field="action")
        if not self.issued_at < self.expires_at <= self.issued_at + MAX_LIFETIME:
            raise Invalid("expires_at must be after issued_at and within 10 minutes",
                          field="expires_at")

    def expired_at(self, at: datetime) -> bool:
        return at >= self.expires_at

    @property
    def resendable(self) -> bool:
        return self.action in IDEMPOTENT_ACTIONS
