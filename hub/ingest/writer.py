"""One batch in one transaction: resolve devices, de-duplicate by the inbox, apply, store.

Nothing here commits, acknowledges or publishes: the caller does that after the commit,
with the `Outcome` this returns, so what was not stored is never acknowledged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from hub.domain.device_events import UnknownDeviceSeen
from hub.domain.observations import (
    CommandAcknowledged,
    DeviceKey,
    Observation,
    Rejected,
    Sample,
    StatusReported,
)
from hub.domain.property import CODE_PATTERN
from hub.domain.registry import DEFAULT_TIMEOUT_S, Approval, Protocol
from hub.ingest import persist, sql
from hub.ingest.command_log import settle_acks
from hub.ingest.items import Entry, Reachability, channel_of
from hub.ingest.observers import Delivered, Published
from hub.ingest.plan import (
    NOT_APPROVED,
    UNKNOWN_DEVICE,
    DeadLetter,
    Effect,
    dead_letter,
    first_occurrences,
    inbox_key,
    plan_device,
    verdict,
)
from hub.ingest.registry_cache import DeviceInfo, RegistryCache
from hub.ingest.sequencing import Gap
from hub.ports import Ack
from hub.store.device_tables import devices, inbox

UNSEQUENCED_BY_CONTRACT = (StatusReported, CommandAcknowledged)  # no `seq` in DESIGN.md §2
MAX_KIND = 32  # devices.kind; MySQL's INSERT IGNORE would silently cut a longer one


@dataclass
class Outcome:
    """What a committed batch leaves to do, and what it counted."""

    acks: list[Ack] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    published: list[Published] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0
    not_deduplicable: int = 0
    gaps: int = 0
    letters: Counter[str] = field(default_factory=Counter)  # by reason
    dropped: int = 0
    registered: int = 0
    states: set[int] = field(default_factory=set)


@dataclass
class _Sorted:
    accepted: dict[int, tuple[DeviceInfo, Observation]] = field(default_factory=dict)
    effects: list[tuple[int, int, Effect]] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    unknown: dict[DeviceKey, datetime] = field(default_factory=dict)
    missed: bool = False


class BatchWriter:
    def __init__(self, cache: RegistryCache, *, auto_register: bool, dead_letters_keep: int,
                 returning: bool | None = None) -> None:
        self._cache = cache
        self._auto_register = auto_register
        self._keep = dead_letters_keep
        self._returning = returning  # None: as the backend allows
        self._known_states: set[int] = set()

    def committed(self, outcome: Outcome) -> None:
        self._known_states |= outcome.states
        if outcome.registered:
            self._cache.mark_stale()

    async def write(self, connection: AsyncConnection, entries: Sequence[Entry], at: datetime,
                    counters: Mapping[str, int]) -> Outcome:
        """Everything the batch changes, in `connection`'s open transaction."""
        if self._cache.due():
            await self._cache.load(connection)
        found = self._sort(entries)
        if found.missed and self._cache.may_retry_miss():  # maybe registered or approved since
            await self._cache.load(connection)
            found = self._sort(entries)
        out = Outcome(acks=[e.ack for e in entries if e.ack is not None])
        out.published.extend(await self._register(connection, found.unknown, at, out))
        repeated = await self._deduplicate(connection, found.accepted, out)
        await self._apply(connection, found, repeated, at, out)
        out.dropped = await persist.save_dead_letters(connection, found.letters, self._keep)
        out.letters.update(letter.reason for letter in found.letters)
        await sql.increment(connection, _deltas(found.letters, out, counters))
        return out

    def _sort(self, entries: Sequence[Entry]) -> _Sorted:
        found = _Sorted()
        for position, entry in enumerate(entries):
            item = entry.item
            if isinstance(item, Rejected):
                found.letters.append(dead_letter(item))
                device = self._cache.find(item.key) if item.key else None
                if device is not None:
                    found.effects.append((position, device.id, item.reason))
            elif isinstance(item, Reachability):
                if self._cache.get(item.device_id) is not None:  # else: deleted meanwhile
                    found.effects.append((position, item.device_id, item))
            else:
                self._sort_observation(found, position, item)
        return found

    def _sort_observation(self, found: _Sorted, position: int, item: Observation) -> None:
        device = self._cache.find(item.envelope.key)
        why = verdict(item, device)
        if why is None and device is not None:
            found.accepted[position] = (device, item)
            found.effects.append((position, device.id, item))
            return
        found.letters.append(dead_letter(item, why))
        found.missed |= why in (UNKNOWN_DEVICE, NOT_APPROVED)
        if device is not None and why is not None:
            found.effects.append((position, device.id, why))
        elif why == UNKNOWN_DEVICE:
            found.unknown.setdefault(item.envelope.key, item.envelope.received_at)

    async def _register(self, connection: AsyncConnection, unknown: Mapping[DeviceKey, datetime],
                        at: datetime, out: Outcome) -> list[Published]:
        """Auto-registration: an unknown device of a known site waits as PENDING, once."""
        if not self._auto_register or not unknown:
            return []
        rows = [{"site_id": site_id, "code": key.device, "kind": key.kind, "name": "",
                 "protocol": Protocol.MQTT, "connection": {}, "poll_period_s": 1.0,
                 "timeout_s": DEFAULT_TIMEOUT_S, "approval": Approval.PENDING, "tags": []}
                for key in unknown
                if (site_id := self._cache.site_id(key.site)) is not None
                and CODE_PATTERN.fullmatch(key.device) and CODE_PATTERN.fullmatch(key.kind)
                and len(key.kind) <= MAX_KIND]
        new = await sql.insert_new(connection, devices, rows, (devices.c.site_id, devices.c.code),
                                   returning=self._returning)
        out.registered = len(new)
        return [UnknownDeviceSeen(key.site, key.kind, key.device, at) for key in unknown
                if (self._cache.site_id(key.site), key.device) in new]

    async def _deduplicate(self, connection: AsyncConnection,
                           accepted: Mapping[int, tuple[DeviceInfo, Observation]],
                           out: Outcome) -> set[int]:
        """Positions of messages already stored (in an earlier batch or earlier in this one)."""
        positions = list(accepted)
        keys = [inbox_key(accepted[p][0].id, accepted[p][1]) for p in positions]
        first, repeats = first_occurrences(keys)
        rows = [{"device_id": key[0], "boot": key[1], "seq": key[2],
                 "channel": channel_of(accepted[positions[i]][1]),
                 "received_at": accepted[positions[i]][1].envelope.received_at}
                for key, i in first.items()]
        new = await sql.insert_new(connection, inbox, rows,
                                   (inbox.c.device_id, inbox.c.boot, inbox.c.seq),
                                   returning=self._returning)
        repeated = {positions[i] for i in repeats}
        repeated |= {positions[i] for key, i in first.items() if key not in new}
        out.duplicates = len(repeated)
        out.stored = len(accepted) - len(repeated)
        out.not_deduplicable = sum(
            1 for key, (_, observation) in zip(keys, accepted.values(), strict=True)
            if key is None and not isinstance(observation, UNSEQUENCED_BY_CONTRACT))
        return repeated

    async def _apply(self, connection: AsyncConnection, found: _Sorted, repeated: set[int],
                     at: datetime, out: Outcome) -> None:
        by_device: dict[int, list[Effect]] = defaultdict(list)
        for position, device_id, effect in found.effects:
            if position not in repeated:
                by_device[device_id].append(effect)
        if not by_device:
            return
        states = await persist.lock_states(connection, by_device.keys(), self._known_states)
        out.states = set(by_device)
        changed = {}
        gaps: list[tuple[int, Gap]] = []
        for device_id, effects in by_device.items():
            plan = plan_device(device_id, states[device_id], effects, at)
            if plan.state != states[device_id]:
                changed[device_id] = plan.state
            out.samples.extend(plan.samples)
            gaps.extend((device_id, gap) for gap in plan.gaps)
            out.published.extend(plan.events)
        out.gaps = len(gaps)
        await persist.save_samples(connection, out.samples)
        await persist.save_gaps(connection, gaps, at)
        await persist.save_states(connection, changed)
        fresh = [(device, observation) for position, (device, observation)
                 in found.accepted.items() if position not in repeated]
        await settle_acks(connection, [(device.id, observation) for device, observation in fresh
                                       if isinstance(observation, CommandAcknowledged)])
        out.published.extend(Delivered(device, observation) for device, observation in fresh
                             if not isinstance(observation, StatusReported))


def _deltas(letters: Sequence[DeadLetter], out: Outcome,
            pending: Mapping[str, int]) -> Counter[str]:
    deltas: Counter[str] = Counter(pending)
    deltas.update(persist.letter_counter(d.reason, d.device_key) for d in letters)
    deltas.update({"ingest|duplicates": out.duplicates, "ingest|gaps": out.gaps,
                   "ingest|not_deduplicable": out.not_deduplicable,
                   persist.DROPPED: out.dropped})
    return deltas
