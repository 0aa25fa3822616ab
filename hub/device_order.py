"""Urgent items ahead of ordinary ones, each device's items in the order they came.

Two lines, urgent and ordinary. An item goes to the line its device's unfinished items are
in, whatever its own kind: a device's urgent item waits behind its own ordinary ones, and a
device's ordinary item follows its urgent one. So every device is in one line at a time, and
whoever takes urgent items first still sees each device's items in order. Used by the MQTT
client's incoming queue (hub.devices.mqtt.incoming) and by ingestion's lanes (hub.ingest.lanes).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

L = TypeVar("L")


class DeviceOrder(Generic[L]):
    def __init__(self, urgent: L, ordinary: L) -> None:
        self.urgent = urgent
        self.ordinary = ordinary
        self._held: dict[Hashable, tuple[L, int]] = {}  # device -> (its line, unfinished)

    def line_for(self, device: Hashable | None, urgent: bool) -> L:
        """The line of an item of `device` (None: of no device, which keeps no order with
        others), counted as unfinished there until `done`."""
        line = self.urgent if urgent else self.ordinary
        if device is None:
            return line
        line, count = self._held.get(device, (line, 0))
        self._held[device] = (line, count + 1)
        return line

    def done(self, device: Hashable | None) -> None:
        held = self._held.get(device) if device is not None else None
        if held is None:
            return
        line, count = held
        if count <= 1:
            del self._held[device]
        else:
            self._held[device] = (line, count - 1)
