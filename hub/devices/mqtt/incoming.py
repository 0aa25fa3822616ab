"""The order in which what arrived from the broker is handed to ingestion: device events and
command acks (a plate read a barrier waits on, a fault a work order waits on) before the
telemetry and status that came before them, each device's own messages in the order they came.

Under load thousands of telemetry messages wait in aiomqtt's incoming queue (`hub bench
fault`: up to seconds at 5,000 msgs/s), and a trapped passenger's fault waited behind all of
them. A message is urgent by its channel (DESIGN.md §2: `event`, `cmd/ack`); one device's
messages keep their order (hub.device_order), as in hub.ingest.lanes, the writer's side of
the same idea.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from hub.device_order import DeviceOrder

T = TypeVar("T")

URGENT_CHANNELS = frozenset({"event", "cmd/ack"})


def urgency(topic: str) -> tuple[bool, str | None]:
    """Whether a message on `topic` is urgent, and its device (`site/device`; None for a
    topic of no device, which keeps no order with others)."""
    parts = topic.split("/", 4)  # estate/{site}/{kind}/{device}/{channel}
    if len(parts) < 5:
        return False, None
    return parts[4] in URGENT_CHANNELS, f"{parts[1]}/{parts[3]}"


class UrgentFirst(Generic[T]):
    """A deque as asyncio.Queue uses one (`append`, `popleft`, `len`), urgent items first."""

    def __init__(self, topic_of: Callable[[T], str]) -> None:
        self._topic_of = topic_of
        self._order: DeviceOrder[deque[tuple[T, str | None]]] = DeviceOrder(deque(), deque())

    def __len__(self) -> int:
        return len(self._order.urgent) + len(self._order.ordinary)

    def append(self, item: T) -> None:
        urgent, device = urgency(self._topic_of(item))
        self._order.line_for(device, urgent).append((item, device))

    def popleft(self) -> T:
        item, device = (self._order.urgent or self._order.ordinary).popleft()
        self._order.done(device)
        return item
