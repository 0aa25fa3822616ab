"""What the hub knows of one device now, and how a message changes it. Pure: no IO, no clock.

`last_values` keeps, per metric, the value with the newest sample time, so a late or
reordered message never overwrites a newer reading. Online/offline changes are returned as
domain events, and only when the state really changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from hub.domain.device_events import DeviceCameOnline, DeviceWentOffline
from hub.domain.observations import Sample, Scalar, Telemetry

MAX_TEXT = 64  # telemetry.text
MAX_REASON = 64  # device_state.offline_reason

Transition = DeviceCameOnline | DeviceWentOffline


@dataclass(frozen=True)
class LastValue:
    value: Scalar
    at: datetime


@dataclass(frozen=True)
class DeviceState:
    online: bool | None = None  # None: never heard of
    online_since: datetime | None = None
    offline_reason: str | None = None
    last_seen: datetime | None = None
    boot: str = ""
    last_seq: int | None = None
    last_values: Mapping[str, LastValue] = field(default_factory=dict)
    errors: Mapping[str, int] = field(default_factory=dict)


def heard(state: DeviceState, device_id: int, at: datetime) -> tuple[DeviceState, list[Transition]]:
    """Any message from the device: it is alive."""
    return came_online(seen_until(state, at), device_id, at)


def seen_until(state: DeviceState, at: datetime) -> DeviceState:
    """`last_seen` never moves back: a late message says nothing newer."""
    if state.last_seen is not None and state.last_seen >= at:
        return state
    return replace(state, last_seen=at)


def came_online(state: DeviceState, device_id: int,
                at: datetime) -> tuple[DeviceState, list[Transition]]:
    if state.online:
        return state, []
    state = replace(state, online=True, online_since=at, offline_reason=None)
    return state, [DeviceCameOnline(device_id=device_id, at=at)]


def went_offline(state: DeviceState, device_id: int, at: datetime,
                 reason: str) -> tuple[DeviceState, list[Transition]]:
    if state.online is False:
        return state, []
    reason = reason[:MAX_REASON]
    state = replace(state, online=False, online_since=at, offline_reason=reason)
    return state, [DeviceWentOffline(device_id=device_id, at=at, reason=reason)]


def count_errors(state: DeviceState, reasons: Iterable[str]) -> DeviceState:
    errors = dict(state.errors)
    for reason in reasons:
        errors[reason] = errors.get(reason, 0) + 1
    return replace(state, errors=errors)


def merge_values(state: DeviceState,
                 samples: Iterable[tuple[str, Scalar, datetime]]) -> DeviceState:
    """Keep per metric the value with the newest time; ties go to the later message."""
    values = dict(state.last_values)
    for metric, value, at in samples:
        current = values.get(metric)
        if current is None or at >= current.at:
            values[metric] = LastValue(value, at)
    return replace(state, last_values=values)


def readings(telemetry: Telemetry) -> list[tuple[str, Scalar, datetime]]:
    """The storable metrics of a message with their time (the device's, else arrival)."""
    at = telemetry.envelope.ts or telemetry.envelope.received_at
    return [(metric, value, at) for metric, value in telemetry.metrics.items()
            if _storable(value)]


def samples_of(device_id: int, telemetry: Telemetry) -> list[Sample]:
    """Numbers and booleans as `value`, strings (door "closed") as `text`."""
    return as_samples(device_id, readings(telemetry))


def as_samples(device_id: int, found: Iterable[tuple[str, Scalar, datetime]]) -> list[Sample]:
    samples = []
    for metric, value, at in found:
        if isinstance(value, str):
            samples.append(Sample(device_id, metric, at, text=value[:MAX_TEXT]))
        else:
            samples.append(Sample(device_id, metric, at, value=float(value)))
    return samples


def _storable(value: Any) -> bool:
    # NaN and infinities have no SQL representation everywhere; the codec refuses them, and
    # a Modbus float32 register can still decode to one.
    if isinstance(value, (bool, str)):  # per value: a tuple, not a union built each call
        return True
    if isinstance(value, int):
        return abs(value) < 2**53  # beyond this a float column would round it
    return isinstance(value, float) and math.isfinite(value)


def values_to_json(values: Mapping[str, LastValue]) -> dict[str, dict[str, Any]]:
    return {metric: {"value": v.value, "at": v.at.isoformat()} for metric, v in values.items()}


def values_from_json(raw: Mapping[str, Any] | None) -> dict[str, LastValue]:
    values = {}
    for metric, item in (raw or {}).items():
        if isinstance(item, Mapping) and isinstance(item.get("value"), bool | int | float | str):
            values[metric] = LastValue(item["value"], datetime.fromisoformat(item["at"]))
    return values
