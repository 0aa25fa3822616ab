"""Fixed-rate scheduling with drift correction: slot k is due at `start + k·period`, whatever
the previous polls took, so timing errors never accumulate (a sleep-after-poll loop drifts by
the poll's duration every cycle)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Schedule:
    start: float  # loop time of slot 0
    period: float
    k: int = 0

    @property
    def due(self) -> float:
        return self.start + self.k * self.period

    @property
    def tolerance(self) -> float:
        """How late a poll may start and still count as on time: half a period. Later than
        that it could not start on time, and is counted as missed."""
        return self.period / 2

    def skip_late(self, now: float) -> int:
        """Skip the slots that can no longer start on time; return how many were missed."""
        late = now - self.due - self.tolerance
        if late <= 0:
            return 0
        skipped = math.floor(late / self.period) + 1
        self.k += skipped
        return skipped

    def skip_until(self, moment: float) -> int:
        """Jump to the first slot at or after `moment` (a backoff); return how many slots that
        leaves out."""
        if self.due >= moment:
            return 0
        skipped = math.ceil((moment - self.due) / self.period)
        self.k += skipped
        return skipped

    def advance(self) -> None:
        self.k += 1
