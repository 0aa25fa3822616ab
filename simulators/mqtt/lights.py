"""A simulated street light: switched by `on`/`off` commands, reporting its state and power.

The lamp failure fault is what the lighting rules look for: the light is on but draws
almost nothing (a dead LED module behind a live driver).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from simulators.mqtt.commands import Action, Refused
from simulators.mqtt.device import Link, SimulatedDevice

LAMP_FAILURE = "lamp_failure"
# What the driver of a dead lamp still draws.
STANDBY_W = 0.3


class StreetLight(SimulatedDevice):
    kind: ClassVar[str] = "light"
    faults: ClassVar[frozenset[str]] = SimulatedDevice.faults | {LAMP_FAILURE}

    def __init__(self, site: str, device: str, link: Link, *, rated_w: float = 60.0,
                 on: bool = False, **options: Any) -> None:
        super().__init__(site, device, link, **options)
        self.rated_w = rated_w
        self.on = on

    def actions(self) -> Mapping[str, Action]:
        return {"on": self._switch_on, "off": self._switch_off, "set": self._set}

    def metrics(self) -> dict[str, Any]:
        return {"on": self.on, "power_w": round(self.power_w(), 1)}

    def power_w(self) -> float:
        if not self.on:
            return 0.0
        if LAMP_FAILURE in self.active_faults:
            return self.rng.uniform(0.0, STANDBY_W)
        return self.rated_w * self.rng.uniform(0.97, 1.03)

    async def on_fault(self, fault: str, active: bool) -> None:
        if fault == LAMP_FAILURE:
            await self.telemetry()

    async def _switch_on(self, args: Mapping[str, Any]) -> None:
        await self._switch(True)

    async def _switch_off(self, args: Mapping[str, Any]) -> None:
        await self._switch(False)

    async def _set(self, args: Mapping[str, Any]) -> None:
        on = args.get("on")
        if not isinstance(on, bool):
            raise Refused("invalid: args.on must be true or false")
        await self._switch(on)

    async def _switch(self, on: bool) -> None:
        self.on = on
        await self.telemetry()  # the new state at once, not at the next period
