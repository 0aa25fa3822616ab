"""What the pipeline counts, for /health: depth, high water, throughput, losses avoided."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

RATE_WINDOW_S = 10.0


@dataclass
class IngestStats:
    capacity: int
    high_water: int = 0
    overflow_waits: int = 0
    overflow_wait_s: float = 0.0
    batches: int = 0
    items: int = 0  # committed items of every kind, dead letters included
    stored: int = 0  # messages whose effects applied
    duplicates: int = 0
    not_deduplicable: int = 0
    gaps: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)  # by reason
    dead_letters_dropped: int = 0
    auto_registered: int = 0
    poison: int = 0
    observer_failures: int = 0
    failed_attempts: int = 0
    outage: str | None = None  # why the database is unreachable, while it is
    last_commit_lag_ms: float | None = None
    last_batch: int = 0
    offline_sweeps: int = 0
    _window: deque[tuple[float, int]] = field(default_factory=deque, repr=False)

    def queued(self, depth: int) -> None:
        self.high_water = max(self.high_water, depth)

    def committed(self, now: float, items: int, oldest_enqueued: float) -> None:
        self.batches += 1
        self.items += items
        self.last_batch = items
        self.last_commit_lag_ms = round((now - oldest_enqueued) * 1000, 1)
        self._window.append((now, items))
        while self._window and now - self._window[0][0] > RATE_WINDOW_S:
            self._window.popleft()

    def items_per_s(self, now: float) -> float:
        recent = sum(n for at, n in self._window if now - at <= RATE_WINDOW_S)
        return round(recent / RATE_WINDOW_S, 1)

    def report(self, depth: int, now: float) -> dict[str, Any]:
        full = depth >= 0.9 * self.capacity
        status = "degraded" if self.outage or full else "ok"
        detail = f"database unreachable: {self.outage}" if self.outage else \
            ("queue nearly full" if full else f"{depth} queued")
        return {
            "status": status, "detail": detail, "queue_depth": depth,
            "queue_capacity": self.capacity, "high_water": self.high_water,
            "overflow_waits": self.overflow_waits,
            "overflow_wait_s": round(self.overflow_wait_s, 3), "batches": self.batches,
            "items": self.items, "items_per_s": self.items_per_s(now), "stored": self.stored,
            "duplicates_suppressed": self.duplicates, "not_deduplicable": self.not_deduplicable,
            "gaps": self.gaps, "dead_letters": dict(self.dead_letters),
            "dead_letters_dropped": self.dead_letters_dropped,
            "auto_registered": self.auto_registered, "poison": self.poison,
            "observer_failures": self.observer_failures,
            "failed_attempts": self.failed_attempts,
            "last_commit_lag_ms": self.last_commit_lag_ms, "last_batch": self.last_batch,
        }
