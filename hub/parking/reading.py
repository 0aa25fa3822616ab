"""What the gate flow takes in: a camera's read, and the image reader for reads without text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from hub.domain.parking.standing import Direction


class PlateReadingLike(Protocol):
    """A plate found in a snapshot (hub.devices.plates.reader.PlateReading)."""

    @property
    def plate(self) -> str: ...
    @property
    def color(self) -> str: ...
    @property
    def confidence(self) -> float: ...


class PlateImageReader(Protocol):
    """Reads the plate of a snapshot, off the event loop (hub.devices.plates.pool)."""

    async def read(self, image: bytes) -> PlateReadingLike | None: ...


@dataclass(frozen=True)
class GateRead:
    """A plate event of a camera, as the flow needs it."""

    camera_device_id: int
    lane: str
    direction: Direction
    plate: str | None
    color: str | None
    confidence: float | None
    ts: datetime | None
    received_at: datetime
    seq: int | None = None
    boot: str = ""
    image: bytes | None = field(default=None, repr=False)
