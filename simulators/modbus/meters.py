"""Energy (kWh) and water (m³) meters (DESIGN.md §3, `meter-energy`, `meter-water`): a
cumulative float32 reading in registers 0-1 (big-endian words) and a status in register 2."""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass, field

# Average use: a household draws about 0.5 kW; a building's water main about 2 m³ an hour.
RATE_PER_S = {"energy": 0.5 / 3600, "water": 2.0 / 3600}
REGISTERS = 3


@dataclass
class Meter:
    kind: str  # "energy" | "water"
    rng: random.Random = field(default_factory=random.Random)
    reading: float = 0.0
    status: int = 0
    now: float = 0.0
    nan: bool = False  # a failed sensor: the meter reports NaN

    def start(self, now: float) -> None:
        self.now = now

    def advance(self, now: float) -> None:
        if now > self.now:
            # Use varies from quiet to busy, never negative.
            self.reading += RATE_PER_S[self.kind] * (now - self.now) * self.rng.uniform(0.2, 1.8)
            self.now = now

    def replace(self) -> None:
        """A new meter counts from zero."""
        self.reading = 0.0

    def registers(self) -> list[int]:
        value = math.nan if self.nan else self.reading
        high, low = struct.unpack(">HH", struct.pack(">f", value))
        return [high, low, self.status]
