"""What ingestion publishes after its commit, as the engine's events (None: not for rules)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hub.domain.device_events import DeviceCameOnline, DeviceWentOffline, SequenceGapDetected
from hub.domain.observations import (
    BarrierChanged,
    CredentialPresented,
    Envelope,
    Fault,
    PlateRead,
    Telemetry,
    VehiclePassed,
)
from hub.ingest.observers import Delivered, Published
from hub.ingest.registry_cache import DeviceInfo
from hub.rules.events import DeviceRef, RuleEvent

Lookup = Callable[[int], DeviceInfo | None]
# What rules subscribe to on the ingestion observers.
KINDS: tuple[type, ...] = (Telemetry, Fault, BarrierChanged, PlateRead, CredentialPresented,
                           VehiclePassed, DeviceWentOffline, DeviceCameOnline,
                           SequenceGapDetected)


def device_ref(info: DeviceInfo) -> DeviceRef:
    return DeviceRef(info.id, info.site_id, info.site, info.code, info.kind, info.building_id,
                     tuple(info.tags), info.timeout_s)


# A tuple, not a `|` union, which isinstance would build on every call (per message).
_DEVICE_NEWS = (DeviceWentOffline, DeviceCameOnline, SequenceGapDetected)


def to_event(message: Published, lookup: Lookup) -> RuleEvent | None:
    if isinstance(message, Delivered):
        return _observation(message)
    if isinstance(message, _DEVICE_NEWS):
        info = lookup(message.device_id)
        if info is None:
            return None
        device = device_ref(info)
        match message:
            case DeviceWentOffline():
                return RuleEvent("offline", message.at, device, {"reason": message.reason})
            case DeviceCameOnline():
                return RuleEvent("online", message.at, device)
            case SequenceGapDetected():
                return RuleEvent("sequence_gap", message.at, device, {
                    "boot": message.boot, "first_missing": message.first_missing,
                    "last_missing": message.last_missing})
    return None


def _observation(message: Delivered) -> RuleEvent | None:
    item = message.observation
    payload: dict[str, Any]
    match item:
        case Telemetry():
            kind, payload = "telemetry", dict(item.metrics)
        case Fault():
            kind, payload = "fault", {"code": item.code, "active": item.active}
        case BarrierChanged():
            kind, payload = "barrier", {"state": item.state}
        case PlateRead():  # never the image; the plate is what rules may look at
            kind, payload = "plate", {"lane": item.lane, "direction": item.direction,
                                      "plate": item.plate, "color": item.color,
                                      "confidence": item.confidence}
        case CredentialPresented():  # the credential itself stays out of rule state
            kind, payload = "credential", {"type": item.credential.split(":", 1)[0]}
        case VehiclePassed():
            kind, payload = "passed", {"lane": item.lane}
        case _:
            return None
    return RuleEvent(kind, _at(item.envelope), device_ref(message.device), payload)


def _at(envelope: Envelope) -> datetime:
    return envelope.ts or envelope.received_at
