"""Bytes on a topic to a domain observation, and a command to bytes: the contract of
docs/devices.md, pure (no IO, no clock: `received_at` comes in)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.devices.mqtt import fields as f
from hub.devices.mqtt.fields import BadField, Limits
from hub.devices.mqtt.topics import (
    DEFAULT_KINDS,
    MAX_TOPIC_CHARS,
    Address,
    BadTopic,
    Channel,
    parse,
    topic_of,
)
from hub.domain.device_commands import DeviceCommand
from hub.domain.observations import (
    BarrierChanged,
    CommandAcknowledged,
    CredentialPresented,
    DeviceKey,
    Envelope,
    Fault,
    Observation,
    OfflineDecision,
    OfflineLog,
    PlateRead,
    Rejected,
    StatusReported,
    Telemetry,
    VehiclePassed,
)

DIRECTIONS = frozenset({"in", "out"})
PLATE_COLORS = frozenset({"blue", "green", "yellow", "white", "black"})
BARRIER_STATES = frozenset({"open", "closed", "stuck"})
STATUSES = {"online": True, "offline": False}
JPEG_MAGIC = b"\xff\xd8\xff"
MAX_ERROR_CHARS = 200  # device_commands.error
# A gate reports what it did alone in events of at most this many decisions (a longer outage
# takes several): 200 entries stay far below the 64 KiB payload limit.
MAX_OFFLINE_ENTRIES = 200


@dataclass(frozen=True)
class Contract:
    """The configurable part of the contract: which kinds exist, and the limits."""

    kinds: frozenset[str] = DEFAULT_KINDS
    limits: Limits = field(default_factory=Limits)


DEFAULT_CONTRACT = Contract()


def decode(topic: str, payload: bytes, received_at: datetime,
           contract: Contract = DEFAULT_CONTRACT, *,
           retained: bool = False) -> Observation | Rejected | None:
    """What a message says, or why it was refused. None for the hub's own `cmd` messages,
    which a hub subscribed to `estate/#` would see and must not treat as device input.
    `retained`: the broker delivered its stored copy (the MQTT retain flag on delivery)."""
    try:
        address = parse(topic, contract.kinds)
    except BadTopic as bad:
        return _rejected(topic, payload, received_at, bad.reason, bad.key)
    if address.channel is Channel.CMD:
        return None
    if len(payload) > contract.limits.max_payload_bytes:  # refused before parsing
        return _rejected(topic, payload, received_at, "too_large", address.key)
    try:
        return _observation(address, payload, received_at, contract.limits, retained)
    except BadField as bad:
        return _rejected(topic, payload, received_at, bad.reason, address.key)


def _rejected(topic: str, payload: bytes, received_at: datetime, reason: str,
              key: DeviceKey | None) -> Rejected:
    return Rejected(topic=f.printable(topic, MAX_TOPIC_CHARS), reason=reason,
                    excerpt=f.excerpt(payload), received_at=received_at, key=key)


def _observation(address: Address, payload: bytes, received_at: datetime,
                 limits: Limits, retained: bool) -> Observation | None:
    if address.channel is Channel.STATUS:
        return _status(address, payload, received_at, retained)
    data = f.load_json(payload)
    if not isinstance(data, dict):
        raise BadField("not_object")
    _check_identity(address, data)
    envelope = Envelope(key=address.key, received_at=received_at,
                        ts=f.ts_of(data, received_at, limits), seq=f.seq_of(data),
                        boot=f.boot_of(data))
    if address.channel is Channel.TELEMETRY:
        return Telemetry(envelope, f.metrics_of(data))
    if address.channel is Channel.ACK:
        return _ack(envelope, data)
    return _event(envelope, data, limits)


def _status(address: Address, payload: bytes, received_at: datetime,
            retained: bool) -> StatusReported | None:
    if not payload:  # someone cleared the retained status; nothing was reported
        return None
    text = payload.strip()
    # The bare word is accepted too: many devices' last-will settings cannot quote it.
    word = f.load_json(text) if text.startswith(b'"') else text.decode("ascii", "replace")
    if word not in STATUSES:
        raise BadField("bad_field:status")
    return StatusReported(Envelope(key=address.key, received_at=received_at),
                          online=STATUSES[word], retained=retained)


def _check_identity(address: Address, data: Mapping[str, Any]) -> None:
    """A payload that names a device must name the one its topic does (RELIABILITY MS2)."""
    key = address.key
    for name, expected in (("site", key.site), ("kind", key.kind), ("device", key.device)):
        if name in data and data[name] != expected:
            raise BadField("topic_mismatch")


def _ack(envelope: Envelope, data: Mapping[str, Any]) -> CommandAcknowledged:
    error = data.get("error")
    if error is not None and not isinstance(error, str):
        raise BadField("bad_field:error")
    return CommandAcknowledged(
        envelope, command_id=f.short_text(data.get("id"), "id"),
        ok=f.boolean(data.get("ok"), "ok"),
        # A long explanation is cut, not refused: losing the ack would hide the outcome.
        error=None if error is None else f.printable(error, MAX_ERROR_CHARS))


def _event(envelope: Envelope, data: Mapping[str, Any], limits: Limits) -> Observation:
    kind = data.get("type")
    if not isinstance(kind, str):
        raise BadField("bad_field:type")
    builder = _EVENTS.get(kind)
    if builder is None:
        raise BadField("unknown_event")
    return builder(envelope, data, limits)


def _fault(envelope: Envelope, data: Mapping[str, Any], limits: Limits) -> Fault:
    return Fault(envelope, code=f.short_text(data.get("code"), "code"),
                 active=f.boolean(data.get("active"), "active"), detail=f.detail_of(data))


def _plate(envelope: Envelope, data: Mapping[str, Any], limits: Limits) -> PlateRead:
    color = data.get("color")
    return PlateRead(
        envelope, lane=f.short_text(data.get("lane"), "lane"),
        direction=f.one_of(data.get("direction"), "direction", DIRECTIONS),
        plate=f.optional_text(data, "plate", 16),
        color=None if color is None else f.one_of(color, "color", PLATE_COLORS),
        confidence=f.unit_interval(data, "confidence"),
        image=_image(data.get("image"), limits))


def _image(value: Any, limits: Limits) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limits.max_image_bytes * 4 // 3 + 4:
        raise BadField("bad_field:image")
    try:
        image = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadField("bad_field:image") from None
    if len(image) > limits.max_image_bytes or not image.startswith(JPEG_MAGIC):
        raise BadField("bad_field:image")
    return image


def _credential(envelope: Envelope, data: Mapping[str, Any], limits: Limits
                ) -> CredentialPresented:
    credential = f.short_text(data.get("credential"), "credential", 256)
    if not credential.startswith(("QR:", "CARD:")) or credential in ("QR:", "CARD:"):
        raise BadField("bad_field:credential")
    return CredentialPresented(envelope, credential=credential)


def _passed(envelope: Envelope, data: Mapping[str, Any], limits: Limits) -> VehiclePassed:
    return VehiclePassed(envelope, lane=f.optional_text(data, "lane"))


def _barrier(envelope: Envelope, data: Mapping[str, Any], limits: Limits) -> BarrierChanged:
    return BarrierChanged(envelope, state=f.one_of(data.get("state"), "state", BARRIER_STATES))


def _offline_log(envelope: Envelope, data: Mapping[str, Any], limits: Limits) -> OfflineLog:
    entries = data.get("entries")
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_OFFLINE_ENTRIES:
        raise BadField("bad_field:entries")
    return OfflineLog(envelope, tuple(_offline_decision(entry, envelope, limits)
                                      for entry in entries))


def _offline_decision(entry: Any, envelope: Envelope, limits: Limits) -> OfflineDecision:
    if not isinstance(entry, dict):
        raise BadField("bad_field:entries")
    try:
        at = f.ts_of({"ts": entry.get("at")}, envelope.received_at, limits)
        if at is None:
            raise BadField("bad_field:at")
        return OfflineDecision(
            plate=f.short_text(entry.get("plate"), "plate", 16),
            direction=f.one_of(entry.get("direction"), "direction", DIRECTIONS),
            at=at, opened=f.boolean(entry.get("opened"), "opened"),
            lane=f.short_text(entry.get("lane"), "lane"))
    except BadField:  # one reason for the whole list: which entry and field is in the excerpt
        raise BadField("bad_field:entries") from None


_EVENTS: dict[str, Callable[[Envelope, Mapping[str, Any], Limits], Observation]] = {
    "fault": _fault, "plate": _plate, "credential": _credential, "passed": _passed,
    "barrier": _barrier, "offline_log": _offline_log,
}


def encode_command(command: DeviceCommand) -> tuple[str, bytes]:
    """The topic and payload of a command (`cmd` channel; QoS 1, never retained)."""
    payload = {"id": command.id, "action": command.action,
               "expires": iso_utc(command.expires_at), "args": dict(command.args)}
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return topic_of(command.key, Channel.CMD), body.encode("utf-8")


def iso_utc(at: datetime) -> str:
    """`2026-11-26T08:00:00.120Z`: UTC, milliseconds, the form the contract's examples use."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
