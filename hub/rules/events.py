"""What the rules engine reads: one plain event type, and its JSON line for record and replay.

A line: `{"kind": "fault", "ts": "2026-11-27T08:00:00+00:00", "device": {"id": 7, "site_id": 1,
"site": "lakeside", "code": "b3-lift-1", "kind": "elevator", "building_id": 3, "tags": [],
"timeout_s": 300}, "payload": {"code": "TRAPPED_AT_FLOOR", "active": true}}`. A `tick` has
no device; a `devices` line lists the devices that schedule rules act on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

KINDS = frozenset({"telemetry", "fault", "offline", "online", "sequence_gap", "barrier", "plate",
                   "credential", "passed", "tick", "devices"})


@dataclass(frozen=True)
class DeviceRef:
    id: int
    site_id: int
    site: str
    code: str
    kind: str
    building_id: int | None = None
    tags: tuple[str, ...] = ()
    timeout_s: int = 300

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceRef:
        return cls(id=int(data["id"]), site_id=int(data["site_id"]), site=str(data["site"]),
                   code=str(data["code"]), kind=str(data["kind"]),
                   building_id=None if data.get("building_id") is None
                   else int(data["building_id"]),
                   tags=tuple(str(t) for t in data.get("tags") or ()),
                   timeout_s=int(data.get("timeout_s", 300)))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tags": list(self.tags)}


@dataclass(frozen=True)
class RuleEvent:
    kind: str
    at: datetime  # the event's own time: the envelope's ts, else when it was received
    device: DeviceRef | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    devices: tuple[DeviceRef, ...] = ()  # a `devices` event only


class BadEventLine(ValueError):
    pass


def to_line(event: RuleEvent) -> str:
    data: dict[str, Any] = {"kind": event.kind, "ts": event.at.isoformat()}
    if event.device is not None:
        data["device"] = event.device.to_dict()
    if event.payload:
        data["payload"] = dict(event.payload)
    if event.devices:
        data["devices"] = [d.to_dict() for d in event.devices]
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=str)


def from_line(line: str) -> RuleEvent:
    """One JSONL line back into an event. Raises BadEventLine saying what is wrong."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as err:
        raise BadEventLine(f"not JSON: {err}") from None
    if not isinstance(data, dict):
        raise BadEventLine("an event line is a JSON object")
    kind = data.get("kind")
    if kind not in KINDS:
        raise BadEventLine(f"kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
    try:
        at = datetime.fromisoformat(str(data["ts"]))
        device = DeviceRef.from_dict(data["device"]) if data.get("device") else None
        devices = tuple(DeviceRef.from_dict(d) for d in data.get("devices") or ())
    except (KeyError, TypeError, ValueError) as err:
        raise BadEventLine(f"bad ts or device: {err!r}") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    payload = data.get("payload") or {}
    if not isinstance(payload, dict):
        raise BadEventLine("payload must be a JSON object")
    if kind not in ("tick", "devices") and device is None:
        raise BadEventLine(f"a {kind} event needs its device")
    return RuleEvent(kind, at, device, payload, devices)
