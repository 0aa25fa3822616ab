"""A simulated door controller: residents and visitors present QR codes and cards
(`credential` events), and the hub answers with `unlock`. The door relocks by itself.

The jammed fault leaves the lock stuck shut: `unlock` is refused with the error "jammed".
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from simulators.mqtt.commands import Action, Refused
from simulators.mqtt.device import Link, SimulatedDevice

JAMMED = "jammed"


class DoorController(SimulatedDevice):
    kind: ClassVar[str] = "door"
    faults: ClassVar[frozenset[str]] = SimulatedDevice.faults | {JAMMED}

    def __init__(self, site: str, device: str, link: Link, *, credentials: Iterable[str] = (),
                 per_minute: float = 1.0, unlock_s: float = 5.0, **options: Any) -> None:
        options.setdefault("period_s", 60.0)
        super().__init__(site, device, link, **options)
        self.credentials = list(credentials)
        bad = [c for c in self.credentials if not c.startswith(("QR:", "CARD:"))]
        if bad:
            raise ValueError(f"credentials must start with QR: or CARD:, not {bad[0]!r}")
        self.per_minute, self.unlock_s = per_minute, unlock_s
        self.locked = True
        self.unlocks = 0
        self._relock: asyncio.Task[None] | None = None

    def actions(self) -> Mapping[str, Action]:
        return {"unlock": self._unlock}

    def metrics(self) -> dict[str, Any]:
        return {"locked": self.locked, "unlocks": self.unlocks}

    async def behave(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(super().behave())
            group.create_task(self._visitors())

    async def present(self, credential: str) -> None:
        """Someone holds a QR code or a card to the reader."""
        await self.event("credential", credential=credential)

    async def _visitors(self) -> None:
        if self.per_minute <= 0 or not self.credentials:
            return
        while True:
            await asyncio.sleep(self.rng.expovariate(self.per_minute / 60))
            await self.present(self.rng.choice(self.credentials))

    async def _unlock(self, args: Mapping[str, Any]) -> None:
        if JAMMED in self.active_faults:
            raise Refused(JAMMED)
        self.unlocks += 1
        if self._relock is not None:
            self._relock.cancel()
        self.locked = False
        await self.telemetry()
        self._relock = self.spawn(self._lock_again())

    async def _lock_again(self) -> None:
        await asyncio.sleep(self.unlock_s)
        self.locked = True
        await self.telemetry()
