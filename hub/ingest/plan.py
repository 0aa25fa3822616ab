"""One batch, decided: which messages count, and what each does to its device. Pure.

The writer (hub.ingest.writer) does the IO around these decisions: it looks devices up,
asks the inbox which messages are new, and stores what `plan_device` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from hub.domain.device_events import DeviceCameOnline, DeviceWentOffline, SequenceGapDetected
from hub.domain.observations import (
    Observation,
    Rejected,
    Sample,
    Scalar,
    StatusReported,
    Telemetry,
)
from hub.ingest import state as st
from hub.ingest.items import MAX_TOPIC, Reachability, clean, excerpt_of, topic_of
from hub.ingest.registry_cache import DeviceInfo
from hub.ingest.sequencing import Gap, Position, track

UNKNOWN_DEVICE = "unknown_device"
NOT_APPROVED = "not_approved"  # pending or disabled: counted, never trusted
KIND_MISMATCH = "kind_mismatch"  # the topic names another kind than the registry
POISON = "poison"  # could not be stored even alone, after retries
SEQ_OUT_OF_RANGE = "seq_out_of_range"
BOOT_TOO_LONG = "boot_too_long"
MAX_REASON = 64  # dead_letters.reason
MAX_SEQ = 2**63 - 1  # inbox.seq, BIGINT
MAX_BOOT = 64  # inbox.boot

InboxKey = tuple[int, str, int]  # (device id, boot, seq)
Effect = Observation | Reachability | str  # str: an error to count against the device
DeviceEvent = DeviceCameOnline | DeviceWentOffline | SequenceGapDetected


@dataclass(frozen=True)
class DeadLetter:
    at: datetime
    topic: str
    device_key: str | None
    reason: str
    excerpt: str


def dead_letter(item: Observation | Rejected, reason: str | None = None) -> DeadLetter:
    if isinstance(item, Rejected):
        key = str(item.key) if item.key else None
        return DeadLetter(item.received_at, clean(item.topic, MAX_TOPIC), key,
                          clean(reason or item.reason, MAX_REASON), clean(item.excerpt, 300))
    return DeadLetter(item.envelope.received_at, topic_of(item), str(item.envelope.key),
                      clean(reason or "rejected", MAX_REASON), excerpt_of(item))


def verdict(observation: Observation, device: DeviceInfo | None) -> str | None:
    """None when the message may take effect; else why it goes to the dead letters.

    The inbox key is checked here although adapters validate it: MySQL's INSERT IGNORE, which
    the inbox uses, turns an out-of-range value into a warning and stores it clamped, where it
    would pass for a duplicate of some other message.
    """
    envelope = observation.envelope
    if envelope.seq is not None and not 0 <= envelope.seq <= MAX_SEQ:
        return SEQ_OUT_OF_RANGE
    if len(envelope.boot) > MAX_BOOT:
        return BOOT_TOO_LONG
    if device is None:
        return UNKNOWN_DEVICE
    if device.kind != observation.envelope.key.kind:
        return KIND_MISMATCH
    if not device.trusted:
        return NOT_APPROVED
    return None


def inbox_key(device_id: int, observation: Observation) -> InboxKey | None:
    envelope = observation.envelope
    return None if envelope.seq is None else (device_id, envelope.boot, envelope.seq)


def first_occurrences(keys: Sequence[InboxKey | None]) -> tuple[dict[InboxKey, int], set[int]]:
    """Positions of the first message per inbox key, and of the repeats inside the batch."""
    first: dict[InboxKey, int] = {}
    repeats: set[int] = set()
    for position, key in enumerate(keys):
        if key is None:
            continue
        if key in first:
            repeats.add(position)
        else:
            first[key] = position
    return first, repeats


@dataclass
class DevicePlan:
    state: st.DeviceState
    samples: list[Sample] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    events: list[DeviceEvent] = field(default_factory=list)
    # Gathered while the effects apply, folded into `state` once at the end (cheaper than a
    # new state per message; the result is the same, as neither depends on the order).
    _readings: list[tuple[str, Scalar, datetime]] = field(default_factory=list, repr=False)
    _seen: list[datetime] = field(default_factory=list, repr=False)


def plan_device(device_id: int, state: st.DeviceState, effects: Sequence[Effect],
                at: datetime) -> DevicePlan:
    """Apply one device's new messages, in arrival order, to its state.

    `at` is when the batch is stored: the detection time of the gaps it reveals.
    """
    observations = [e for e in effects if isinstance(e, Observation)]
    position, gaps = track(Position(state.boot, state.last_seq),
                           [(o.envelope.boot, o.envelope.seq) for o in observations
                            if o.envelope.seq is not None])
    plan = DevicePlan(replace(state, boot=position.boot, last_seq=position.last_seq),
                      gaps=gaps)
    for effect in effects:
        _apply(plan, device_id, effect)
    if plan._seen:
        plan.state = st.seen_until(plan.state, max(plan._seen))
    if plan._readings:
        plan.state = st.merge_values(plan.state, plan._readings)
    plan.events.extend(SequenceGapDetected(device_id, g.boot, g.first_missing, g.last_missing,
                                           at) for g in gaps)
    return plan


def _apply(plan: DevicePlan, device_id: int, effect: Effect) -> None:
    transitions: list[st.Transition] = []
    if isinstance(effect, str):
        plan.state = st.count_errors(plan.state, [effect])
    elif isinstance(effect, Reachability):
        if effect.reachable:
            plan.state, transitions = st.came_online(plan.state, device_id, effect.at)
        else:
            plan.state = st.count_errors(plan.state, [effect.reason])
            plan.state, transitions = st.went_offline(plan.state, device_id, effect.at,
                                                      effect.reason)
    elif isinstance(effect, StatusReported) and not effect.online:
        # Also the last will: the broker speaks for a device that vanished.
        plan.state, transitions = st.went_offline(plan.state, device_id,
                                                  effect.envelope.received_at, "status offline")
    else:
        # A replayed retained "online" says the device is connected, not that it spoke now:
        # after a hub restart every silent device would otherwise look freshly seen (Q7).
        if not (isinstance(effect, StatusReported) and effect.retained):
            plan._seen.append(effect.envelope.received_at)
        plan.state, transitions = st.came_online(plan.state, device_id,
                                                 effect.envelope.received_at)
        if isinstance(effect, Telemetry):
            found = st.readings(effect)
            plan._readings.extend(found)
            plan.samples.extend(st.as_samples(device_id, found))
    plan.events.extend(transitions)
