"""A simulated barrier gate: `open`/`close` commands, `barrier` events (open, closed, stuck),
and a `passed` event from the loop detector when a vehicle drives through.

After an `open`, the waiting vehicle passes and the barrier closes by itself after
`hold_s`. The stuck fault jams the barrier where it is: it reports `stuck`, refuses
commands with the error "stuck", and reports `closed` again when the fault clears.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from simulators.mqtt.commands import Action, Refused
from simulators.mqtt.device import Link, SimulatedDevice

STUCK = "stuck"


class BarrierGate(SimulatedDevice):
    kind: ClassVar[str] = "gate"
    faults: ClassVar[frozenset[str]] = SimulatedDevice.faults | {STUCK}

    def __init__(self, site: str, device: str, link: Link, *, lane: str = "main",
                 pass_after_s: float = 1.5, hold_s: float = 5.0, pass_probability: float = 1.0,
                 **options: Any) -> None:
        super().__init__(site, device, link, **options)
        self.lane = lane
        self.pass_after_s, self.hold_s = pass_after_s, hold_s
        self.pass_probability = pass_probability
        self.state = "closed"
        self.passes = 0
        self._cycle: asyncio.Task[None] | None = None

    def actions(self) -> Mapping[str, Action]:
        return {"open": self._open, "close": self._close}

    def metrics(self) -> dict[str, Any]:
        return {"barrier": self.state, "passes": self.passes}

    async def on_fault(self, fault: str, active: bool) -> None:
        if fault != STUCK:
            return
        self._stop_cycle()
        await self._move("stuck" if active else "closed")

    async def _open(self, args: Mapping[str, Any]) -> None:
        self._refuse_if_stuck()
        if self.state == "open":  # open twice is open: the hold time starts again
            self._stop_cycle()
        else:
            await self._move("open")
        self._cycle = self.spawn(self._let_through())

    async def _close(self, args: Mapping[str, Any]) -> None:
        self._refuse_if_stuck()
        self._stop_cycle()
        if self.state != "closed":
            await self._move("closed")

    async def _let_through(self) -> None:
        await asyncio.sleep(self.pass_after_s)
        if self.rng.random() < self.pass_probability:
            self.passes += 1
            await self.event("passed", lane=self.lane)
        await asyncio.sleep(self.hold_s)
        if self.state == "open":
            await self._move("closed")

    def _refuse_if_stuck(self) -> None:
        if STUCK in self.active_faults:
            raise Refused("stuck")

    def _stop_cycle(self) -> None:
        if self._cycle is not None and self._cycle is not asyncio.current_task():
            self._cycle.cancel()
        self._cycle = None

    async def _move(self, state: str) -> None:
        self.state = state
        await self.event("barrier", state=state)
