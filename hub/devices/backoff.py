"""Capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
And Jitter"): never zero (pymodbus#1794 spun at 100% CPU on a zero delay), never above `cap`."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base: float = 0.5
    cap: float = 30.0
    floor: float = 0.05
    attempt: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def next(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        ceiling = min(self.cap, self.base * 2 ** min(self.attempt, 30))
        self.attempt += 1
        return max(self.floor, self._rng.uniform(0, ceiling))

    def reset(self) -> None:
        """Call after a success, so the next outage starts from short delays again."""
        self.attempt = 0


def stop_if_cancelled(err: BaseException) -> None:
    """For a reconnect loop's `except MqttError`: a task cancelled while its link was going
    down can see the cancellation come out of the client as an MqttError (a disconnect that
    timed out). Caught as a broken link, it would reconnect and run on, and whoever cancelled
    it would wait forever (a demo that did not stop on Ctrl-C)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from err
