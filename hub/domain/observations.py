"""What devices tell the hub, once an adapter has decoded it: plain, typed, validated values.

Adapters (MQTT, Modbus) produce these; the ingestion service stores them and raises events.
Nothing here knows about topics, registers or bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Scalar = float | int | bool | str


@dataclass(frozen=True)
class DeviceKey:
    """A device as the outside world names it: `estate/{site}/{kind}/{device}/...`."""

    site: str
    kind: str
    device: str

    def __str__(self) -> str:
        return f"{self.site}/{self.kind}/{self.device}"


@dataclass(frozen=True)
class Envelope:
    """Where a message came from and when. `seq` (with `boot`) de-duplicates it; a message
    without `seq` is accepted but cannot be de-duplicated."""

    key: DeviceKey
    received_at: datetime
    ts: datetime | None = None
    seq: int | None = None
    boot: str = ""

    @property
    def deduplicable(self) -> bool:
        return self.seq is not None


@dataclass(frozen=True)
class Telemetry:
    envelope: Envelope
    metrics: Mapping[str, Scalar]


@dataclass(frozen=True)
class Fault:
    envelope: Envelope
    code: str
    active: bool
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlateRead:
    envelope: Envelope
    lane: str
    direction: str  # "in" | "out"
    plate: str | None
    color: str | None
    confidence: float | None
    image: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CredentialPresented:
    envelope: Envelope
    credential: str = field(repr=False)  # "QR:..." | "CARD:..."


@dataclass(frozen=True)
class VehiclePassed:
    envelope: Envelope
    lane: str | None = None


@dataclass(frozen=True)
class BarrierChanged:
    envelope: Envelope
    state: str  # "open" | "closed" | "stuck"


@dataclass(frozen=True)
class StatusReported:
    """The retained `status` topic (also the last will): "online" or "offline".

    `retained`: the broker replayed its stored copy (on subscribing, after every hub restart
    or reconnect); it tells whether the device is online, not that it was heard just now."""

    envelope: Envelope
    online: bool
    retained: bool = False


@dataclass(frozen=True)
class CommandAcknowledged:
    envelope: Envelope
    command_id: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class OfflineDecision:
    """One car a gate let in or kept out on its own, from its allow-list, while the hub did
    not answer (docs/devices.md §5, `offline_log`)."""

    plate: str
    direction: str  # "in" | "out"
    at: datetime  # by the gate's clock, UTC
    opened: bool
    lane: str


@dataclass(frozen=True)
class OfflineLog:
    """What a gate did alone while the hub was away, reported when the hub answers again."""

    envelope: Envelope
    entries: tuple[OfflineDecision, ...]


@dataclass(frozen=True)
class Rejected:
    """A message that could not be accepted; it goes to the dead letters with its reason."""

    topic: str
    reason: str
    excerpt: str
    received_at: datetime
    key: DeviceKey | None = None


@dataclass(frozen=True)
class Sample:
    """One stored telemetry value: numbers and booleans in `value`, enumerations in `text`."""

    device_id: int
    metric: str
    at: datetime
    value: float | None = None
    text: str | None = None


Observation = (Telemetry | Fault | PlateRead | CredentialPresented | VehiclePassed
               | BarrierChanged | StatusReported | CommandAcknowledged | OfflineLog)
