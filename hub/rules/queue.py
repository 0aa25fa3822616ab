"""The rules worker's queue: device events go ahead of telemetry, each device's own order kept.

With one FIFO a trapped-passenger fault waited behind every meter reading queued before it
(`hub bench fault`: hundreds at 1,000 msgs/s, a millisecond each). Here a device event —
a fault, offline or online, a gate or door event — is evaluated before telemetry queued
earlier, except its own device's: that device's earlier readings are evaluated first, so a
lift's switch to inspection mode still comes before the fault it must suppress. Ticks and the
device list stay in line with telemetry: a tick evaluates `for` timers, and must not see a
condition as held that a queued reading had already broken.

Rules that compare several devices see their events in device-event-first order; rule time
comes from the events themselves (hub.rules.engine), not from the order of evaluation.
"""

from __future__ import annotations

import asyncio
from collections import deque

from hub.rules.events import RuleEvent

IN_LINE = frozenset({"telemetry", "tick", "devices"})  # evaluated strictly in arrival order


class RulesQueue:
    def __init__(self) -> None:
        self._in_line: deque[tuple[int, RuleEvent]] = deque()
        self._ahead: deque[tuple[int, RuleEvent]] = deque()
        self._seq = 0
        self._unfinished = 0
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self._in_line) + len(self._ahead)

    def put(self, event: RuleEvent) -> None:
        self._seq += 1
        (self._in_line if event.kind in IN_LINE else self._ahead).append((self._seq, event))
        self._unfinished += 1
        self._idle.clear()
        self._ready.set()

    def pop(self) -> RuleEvent | None:
        """The next event to evaluate, or None when empty."""
        if self._ahead:
            seq, event = self._ahead[0]
            device = event.device.id if event.device is not None else None
            for index, (earlier, queued) in enumerate(self._in_line):
                if earlier > seq:
                    break
                if device is not None and queued.device is not None \
                        and queued.device.id == device:
                    del self._in_line[index]  # the device's own earlier reading first
                    return queued
            self._ahead.popleft()
            return event
        if self._in_line:
            return self._in_line.popleft()[1]
        return None

    async def get(self, timeout_s: float) -> RuleEvent | None:
        """The next event, waiting at most `timeout_s` for one."""
        if not self:
            self._ready.clear()
            try:
                async with asyncio.timeout(timeout_s):
                    await self._ready.wait()
            except TimeoutError:
                return None
        return self.pop()

    def task_done(self) -> None:
        self._unfinished -= 1
        if self._unfinished <= 0:
            self._unfinished = 0
            self._idle.set()

    async def join(self) -> None:
        """Until every event put so far has been evaluated (task_done)."""
        await self._idle.wait()
