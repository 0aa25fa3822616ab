"""A fleet of simulated Modbus devices: elevators and meters spread over stations (a gateway
per few devices, as real sites wire them), some of which may start sick."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from simulators.modbus.elevator import Elevator
from simulators.modbus.meters import Meter
from simulators.modbus.station import Mode, Model, Station

log = logging.getLogger(__name__)

FAULT_SECONDS = (10.0, 60.0)


def _child(rng: random.Random) -> random.Random:
    """An independent stream per device, all from one seed: a run can be replayed."""
    return random.Random(rng.random())  # noqa: S311 - a simulation, not a secret


@dataclass
class FleetPlan:
    elevators: int = 4
    energy_meters: int = 2
    water_meters: int = 2
    units_per_port: int = 4
    port_base: int = 15020  # 0: any free ports
    host: str = "127.0.0.1"
    hung_share: float = 0.0  # of the stations, spread evenly, hung from the start
    seed: int = 2026
    fault_every_s: float = 0.0  # mean seconds between injected elevator faults; 0 = none


@dataclass
class Fleet:
    plan: FleetPlan
    stations: list[Station] = field(default_factory=list)
    kinds: list[dict[int, str]] = field(default_factory=list)  # per station: unit -> map name

    def __post_init__(self) -> None:
        rng = random.Random(self.plan.seed)  # noqa: S311 - a simulation, not a secret
        devices: list[tuple[str, Model]] = []
        devices += [("elevator-std", Elevator(rng=_child(rng)))
                    for _ in range(self.plan.elevators)]
        devices += [("meter-energy", Meter("energy", rng=_child(rng)))
                    for _ in range(self.plan.energy_meters)]
        devices += [("meter-water", Meter("water", rng=_child(rng)))
                    for _ in range(self.plan.water_meters)]
        per = max(1, self.plan.units_per_port)
        for first in range(0, len(devices), per):
            chunk = devices[first:first + per]
            index = len(self.stations)
            port = self.plan.port_base + index if self.plan.port_base else 0
            self.stations.append(Station({u + 1: m for u, (_, m) in enumerate(chunk)},
                                         host=self.plan.host, port=port,
                                         rng=_child(rng)))
            self.kinds.append({u + 1: name for u, (name, _) in enumerate(chunk)})

    def hung_indexes(self) -> set[int]:
        count = math.ceil(len(self.stations) * self.plan.hung_share)
        if not count:
            return set()
        step = len(self.stations) / count
        return {int(i * step) for i in range(count)}

    async def start(self) -> None:
        hung = self.hung_indexes()
        for index, station in enumerate(self.stations):
            await station.set_mode(Mode.HUNG if index in hung else Mode.HEALTHY)

    async def stop(self) -> None:
        for station in self.stations:
            await station.set_mode(Mode.DOWN)

    def describe(self) -> list[dict[str, Any]]:
        return [{"host": s.host, "port": s.port, "mode": str(s.mode),
                 "units": {str(u): k for u, k in kinds.items()}}
                for s, kinds in zip(self.stations, self.kinds, strict=True)]

    async def inject_faults(self) -> None:
        """Every so often (exponentially distributed) one elevator gets a fault for a while."""
        rng = random.Random(self.plan.seed + 1)  # noqa: S311 - a simulation, not a secret
        lifts = [m for s in self.stations for m in s.units.values() if isinstance(m, Elevator)]
        while lifts and self.plan.fault_every_s > 0:
            await asyncio.sleep(rng.expovariate(1 / self.plan.fault_every_s))
            lift, code = rng.choice(lifts), rng.randint(1, 15)
            lift.inject_fault(code, rng.uniform(*FAULT_SECONDS), time.monotonic())
            log.info("fault %d injected into an elevator", code)
