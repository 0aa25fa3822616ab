"""What travels through the ingestion queue, and how an item is named in a dead letter."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from hub.domain.observations import (
    CommandAcknowledged,
    Observation,
    Rejected,
    StatusReported,
    Telemetry,
)
from hub.ports import Ack

MAX_EXCERPT = 300  # dead_letters.excerpt
MAX_TOPIC = 255  # dead_letters.topic


@dataclass(frozen=True)
class Reachability:
    """A poller's verdict on a device it polls (it does not speak for itself over MQTT)."""

    device_id: int
    reachable: bool
    at: datetime
    reason: str = ""


Item = Observation | Rejected | Reachability


@dataclass(frozen=True)
class Entry:
    item: Item
    ack: Ack | None
    enqueued: float  # loop time, for the commit lag


def channel_of(observation: Observation) -> str:
    if isinstance(observation, Telemetry):
        return "telemetry"
    if isinstance(observation, StatusReported):
        return "status"
    if isinstance(observation, CommandAcknowledged):
        return "cmd/ack"
    return "event"


def topic_of(observation: Observation) -> str:
    key = observation.envelope.key
    return clean(f"estate/{key.site}/{key.kind}/{key.device}/{channel_of(observation)}",
                 MAX_TOPIC)


def excerpt_of(item: Item) -> str:
    """A short, storable description: the fields that print (never a credential or image)."""
    shown = [f"{f.name}={getattr(item, f.name)!r}" for f in dataclasses.fields(item)
             if f.repr and f.name != "envelope"]
    envelope = getattr(item, "envelope", None)
    if envelope is not None and envelope.seq is not None:
        shown.insert(0, f"seq={envelope.seq} boot={envelope.boot!r}")
    return clean(f"{type(item).__name__}({', '.join(shown)})", MAX_EXCERPT)


def clean(text: str, limit: int) -> str:
    """Cut to `limit` and drop what no database stores (lone surrogates become "?", NUL, which
    PostgreSQL refuses in text, U+FFFD), so a dead letter about bad text can itself be stored."""
    return text[:limit].encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
