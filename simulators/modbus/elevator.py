"""An elevator as its monitor sees it (DESIGN.md §3, `elevator-std`): time-driven and
deterministic for a given seed and clock, so tests can step it.

The car dwells with its doors closed, travels to another floor (trips and run time grow,
direction and speed agree with the travel), opens, holds and closes its doors, and dwells
again. Outside normal mode it stays put. An injected fault stops it until the fault clears.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import IntEnum

FLOOR_TRAVEL_S = 3.0  # 3 m between floors at 1 m/s
RATED_SPEED_MM_S = 1000
DOOR_MOVE_S = 2.0
DOOR_HOLD_S = 4.0
DWELL_S = (2.0, 8.0)
TRAPPED = (7, 8)  # TRAPPED_AT_FLOOR, TRAPPED_BETWEEN_FLOORS
REGISTERS = 11


class Door(IntEnum):
    CLOSED = 0
    OPEN = 1
    CLOSING = 2
    OPENING = 3


class Direction(IntEnum):
    IDLE = 0
    UP = 1
    DOWN = 2


class Mode(IntEnum):
    NORMAL = 0
    INSPECTION = 1
    MAINTENANCE = 2
    FIRE_RETURN = 3
    OUT_OF_SERVICE = 4


def default_floors() -> tuple[int, ...]:
    """B2, B1, then 1 to 18: Chinese buildings have no floor 0."""
    return (-2, -1, *range(1, 19))


@dataclass
class Elevator:
    rng: random.Random = field(default_factory=random.Random)
    floors: tuple[int, ...] = field(default_factory=default_floors)
    now: float = 0.0
    index: int = 2  # floor 1
    door: Door = Door.CLOSED
    mode: Mode = Mode.NORMAL
    fault: int = 0
    occupied: bool = False
    trips: int = 0
    run_seconds: float = 0.0
    _phase: str = "dwell"
    _phase_end: float = 0.0
    _origin: int = 2
    _target: int = 2
    _move_start: float = 0.0
    _fault_until: float = 0.0

    @property
    def floor(self) -> int:
        return self.floors[self.index]

    @property
    def moving(self) -> bool:
        return self._phase == "moving" and not self.fault

    @property
    def direction(self) -> Direction:
        if not self.moving:
            return Direction.IDLE
        return Direction.UP if self._target > self._origin else Direction.DOWN

    @property
    def speed_mm_s(self) -> int:
        if not self.moving:
            return 0
        return RATED_SPEED_MM_S if self.direction is Direction.UP else -RATED_SPEED_MM_S

    def start(self, now: float) -> None:
        """Switch the car on at `now`: it dwells, then starts its rounds."""
        self.now = now
        self._enter("dwell", self.rng.uniform(*DWELL_S))

    def advance(self, now: float) -> None:
        """Play the car forward to `now` (a clock in seconds); time never runs backwards."""
        while self.now < now:
            if self.fault:
                if now < self._fault_until:
                    self.now = now
                    return
                self._clear_fault()
                continue
            end = min(now, self._phase_end)
            if self._phase == "moving":
                self.run_seconds += end - self.now
                passed = int((end - self._move_start) / FLOOR_TRAVEL_S)
                step = 1 if self._target > self._origin else -1
                self.index = self._origin + step * min(passed, abs(self._target - self._origin))
            self.now = end
            if end >= self._phase_end:
                self._next_phase()

    def _next_phase(self) -> None:
        if self._phase == "dwell":
            if self.mode is Mode.NORMAL:
                self._depart()
            else:
                self._enter("dwell", self.rng.uniform(*DWELL_S))
        elif self._phase == "moving":
            self.index = self._target
            self._enter("opening", DOOR_MOVE_S)
        elif self._phase == "opening":
            self.occupied = self.rng.random() < 0.5  # some leave, some board
            self._enter("open", DOOR_HOLD_S)
        elif self._phase == "open":
            self._enter("closing", DOOR_MOVE_S)
        else:
            self._enter("dwell", self.rng.uniform(*DWELL_S))

    def _enter(self, phase: str, seconds: float) -> None:
        self._phase, self._phase_end = phase, self.now + seconds
        self.door = {"opening": Door.OPENING, "open": Door.OPEN,
                     "closing": Door.CLOSING}.get(phase, Door.CLOSED)

    def _depart(self) -> None:
        choices = [i for i in range(len(self.floors)) if i != self.index]
        self._origin, self._target = self.index, self.rng.choice(choices)
        self._move_start = self.now
        self.trips += 1
        self._enter("moving", abs(self._target - self._origin) * FLOOR_TRAVEL_S)

    def inject_fault(self, code: int, seconds: float, now: float) -> None:
        """Raise fault `code` (1..15) for `seconds`; the car stops where it is."""
        self.advance(now)
        self.fault, self._fault_until = code, now + seconds
        if code in TRAPPED:
            self.occupied = True

    def _clear_fault(self) -> None:
        self.now, self.fault = self._fault_until, 0
        self._origin = self._target = self.index
        self._enter("opening", DOOR_MOVE_S)  # the car levels and lets people out

    def set_mode(self, mode: Mode, now: float) -> None:
        self.advance(now)
        self.mode = mode

    def set_counters(self, *, trips: int | None = None, run_seconds: float | None = None) -> None:
        """Set the counters as a replaced controller (zeros) or a worn one (near 2**32) shows."""
        if trips is not None:
            self.trips = trips
        if run_seconds is not None:
            self.run_seconds = run_seconds

    def registers(self) -> list[int]:
        trips = self.trips & 0xFFFF_FFFF
        run = int(self.run_seconds) & 0xFFFF_FFFF
        return [self.floor & 0xFFFF, self.direction, self.door, self.mode, self.fault,
                int(self.occupied), trips >> 16, trips & 0xFFFF, run >> 16, run & 0xFFFF,
                self.speed_mm_s & 0xFFFF]
