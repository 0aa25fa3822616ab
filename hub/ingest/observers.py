"""Who hears what ingestion stored: the rules, parking and the command gateway subscribe here.

Observers are called after the commit, one after the other, on the writer's task: they must
return quickly (hand the message to their own bounded queue). One that raises is logged and
does not stop the others, nor ingestion.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from hub.domain.device_events import (
    DeviceCameOnline,
    DeviceWentOffline,
    SequenceGapDetected,
    UnknownDeviceSeen,
)
from hub.domain.observations import Observation
from hub.ingest.registry_cache import DeviceInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivered:
    """A new (not redelivered) message from a trusted device, with the device it came from."""

    device: DeviceInfo
    observation: Observation


Published = (Delivered | DeviceCameOnline | DeviceWentOffline | SequenceGapDetected
             | UnknownDeviceSeen)
Observer = Callable[[Published], Awaitable[None]]


def kind_of(message: Published) -> type:
    """What subscriptions match on: the observation's class for a Delivered, else the event's."""
    return type(message.observation) if isinstance(message, Delivered) else type(message)


class Observers:
    def __init__(self) -> None:
        self._by_kind: dict[type, list[Observer]] = {}

    def subscribe(self, observer: Observer, *kinds: type) -> None:
        """E.g. `subscribe(rules.on_fault, Fault)`, `subscribe(on_down, DeviceWentOffline)`."""
        for kind in kinds:
            self._by_kind.setdefault(kind, []).append(observer)

    def wants(self, kind: type) -> bool:
        return kind in self._by_kind

    async def publish(self, messages: Iterable[Published]) -> int:
        """Hand each message to its subscribers; returns how many calls failed."""
        failures = 0
        for message in messages:
            for observer in self._by_kind.get(kind_of(message), ()):
                try:
                    await observer(message)
                except Exception:  # like the bus: one observer's failure is not ingestion's
                    failures += 1
                    name = getattr(observer, "__name__", repr(observer))
                    log.exception("observer %s failed on %s", name, kind_of(message).__name__)
        return failures
