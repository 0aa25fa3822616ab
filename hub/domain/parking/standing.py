"""What the gate needs to know about a plate, a lane and a lot: the seam between the parking
registry (lots, lanes, vehicles, passes, lists, visitor passes: who a car is) and the gate
flow (sessions, decisions, charges: what happens at the barrier).

The registry answers these questions from its tables; the gate decides from the answers
alone, so its decisions are pure functions of (standing, lane, lot, sessions, now) and can be
tested without a database. Every answer carries the reasons behind it, in words a guard
reads on the decision record ("monthly pass 12 expired 2026-11-25, in grace day 2 of 3").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from hub.domain.parking.tariff import PlateColor, VehicleClass


class Standing(StrEnum):
    """Who a car is to the gate, best first: a car that is several of these (a resident's car
    with a monthly pass) has the first that applies. A blacklisted car is blacklisted whatever
    else it is."""

    BLACKLISTED = "blacklisted"
    REGISTERED = "registered"  # a resident's vehicle with a space of its unit, or registered
    MONTHLY = "monthly"  # a monthly pass valid now
    MONTHLY_GRACE = "monthly_grace"  # a pass expired, within its grace days
    WHITELISTED = "whitelisted"
    VISITOR = "visitor"  # a visitor pass naming this plate, valid now
    TEMPORARY = "temporary"  # none of the above: pays the tariff


# Standings whose stay costs nothing and whose entry never needs temporary capacity.
FREE_STANDINGS = frozenset({Standing.REGISTERED, Standing.MONTHLY, Standing.MONTHLY_GRACE,
                            Standing.WHITELISTED})


@dataclass(frozen=True)
class PlateStanding:
    plate: str  # normalised: upper case, no spaces or separators
    standing: Standing
    reasons: tuple[str, ...]  # why, one short sentence each
    vehicle_id: int | None = None
    vehicle_class: VehicleClass | None = None  # registered class, when the registry knows it
    plate_color: PlateColor | None = None
    pass_id: int | None = None  # the monthly pass behind MONTHLY / MONTHLY_GRACE
    list_entry_id: int | None = None  # the white or black list entry
    visitor_pass_id: int | None = None
    visitor_free_minutes: int = 0  # a visitor's free parking, on top of the tariff's
    visitor_until: datetime | None = None  # end of the visitor pass's window
    resident_ids: tuple[int, ...] = ()  # who may see and pay this car's sessions
    lot_ids: tuple[int, ...] = ()  # the lots a MONTHLY / MONTHLY_GRACE pass covers; (): all


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True)
class LaneInfo:
    lane_id: int
    site_id: int
    lot_id: int
    code: str  # the `lane` a camera's plate event names
    direction: Direction
    camera_device_id: int | None
    barrier_device_id: int | None  # the gate commanded open for this lane
    display_device_id: int | None = None  # shows the fee; the barrier gate when None
    vehicle_classes: frozenset[VehicleClass] = frozenset()  # empty: every class
    plate_colors: frozenset[PlateColor] = frozenset()  # empty: every colour


@dataclass(frozen=True)
class LotInfo:
    lot_id: int
    site_id: int
    code: str
    name: str
    parent_id: int | None  # a lot inside another (a basement inside the community)
    temporary_capacity: int  # spaces for temporary and visitor cars
    tariff_id: int | None  # the tariff temporary cars pay; None: they park free


@dataclass(frozen=True)
class AllowedPlate:
    """One line of a gate's offline allow-list: a plate the gate may admit on its own."""

    plate: str
    standing: Standing
    until: datetime | None  # the pass's end (grace included); None: open-ended
    lot_ids: tuple[int, ...] = field(default=())


class ParkingDirectory(Protocol):
    """The registry's answers. Implemented over SQL by the parking registry; by a dict in
    the gate flow's tests."""

    async def lane_of_camera(self, camera_device_id: int, lane_code: str) -> LaneInfo | None:
        """The lane a camera's event belongs to: by camera and `lane` code."""
        ...

    async def lane_of_barrier(self, barrier_device_id: int, lane_code: str | None
                              ) -> LaneInfo | None:
        """The lane a barrier's own event (`passed`) belongs to: by barrier and `lane` code;
        with no code, the barrier's one lane (None when it serves several)."""
        ...

    async def lot(self, lot_id: int) -> LotInfo | None: ...

    async def standing(self, site_id: int, plate: str, at: datetime) -> PlateStanding:
        """Never None: a plate the registry does not know is TEMPORARY."""
        ...

    async def allow_list(self, site_id: int, at: datetime) -> Sequence[AllowedPlate]:
        """Every plate a gate of the site may admit without the hub, valid at `at`."""
        ...


class VisitorVehicles(Protocol):
    """The visitor passes' side of a plate's standing (access control owns visitor passes):
    a VISITOR standing when a pass names the plate and is valid at `at`, else None. The
    registry's `standing` asks it after the lists, passes and vehicles."""

    async def visitor_vehicle(self, site_id: int, plate: str, at: datetime
                              ) -> PlateStanding | None: ...
