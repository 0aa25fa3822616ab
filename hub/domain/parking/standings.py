"""Who a plate is to the gate at a moment, with the reasons a guard reads: a pure function of
the registry's records for that plate (its vehicle, passes, list entries, visitor pass).

Days are the site's calendar days: a pass "valid to 2026-12-31" lets the car in until local
midnight, whatever the clock of the server says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo

from hub.domain.parking.plates import normalise_plate
from hub.domain.parking.registry import MonthlyPass, PlateList, PlateListEntry, Space, SpaceKind
from hub.domain.parking.standing import (
    FREE_STANDINGS,
    AllowedPlate,
    PlateStanding,
    Standing,
)
from hub.domain.parking.tariff import PlateColor, VehicleClass


@dataclass(frozen=True)
class KnownVehicle:
    """A registered vehicle as the standing needs it: with its unit's label and its space."""

    vehicle_id: int
    plate: str
    unit_label: str  # "3-1-201": how staff name the unit
    vehicle_class: VehicleClass
    plate_color: PlateColor
    space: Space | None = None
    resident_ids: tuple[int, ...] = ()  # the household now: who may see and pay its sessions


def standing_of(plate: str, at: datetime, *, zone: tzinfo, vehicles: Sequence[KnownVehicle],
                passes: Sequence[MonthlyPass], list_entries: Sequence[PlateListEntry],
                visitor: PlateStanding | None) -> PlateStanding:
    """The first standing that applies: black list, registered, monthly, monthly in grace,
    white list, visitor, temporary. Records of other plates are ignored."""
    plate = normalise_plate(plate)
    day = at.astimezone(zone).date()
    vehicle = next((v for v in vehicles if v.plate == plate), None)
    passes = [p for p in passes if p.plate == plate]
    entries = [e for e in list_entries if e.plate == plate and e.valid_at(at)]

    black = _latest(e for e in entries if e.list == PlateList.BLACK)
    if black is not None:
        return _of(vehicle, PlateStanding(plate, Standing.BLACKLISTED,
                                          (f"blacklisted: {black.reason}",),
                                          list_entry_id=black.id))
    notes: list[str] = []
    if vehicle is not None:
        space_reason = _space_reason(vehicle.space, day)
        if space_reason is not None:
            reason = f"registered to unit {vehicle.unit_label}" + space_reason
            return _of(vehicle, PlateStanding(plate, Standing.REGISTERED, (reason,)))
        notes.append(_space_ended(vehicle, day))

    monthly = _pass_standing(plate, day, passes)
    if monthly is not None:
        return _of(vehicle, replace(monthly, reasons=monthly.reasons + tuple(notes)))
    notes.extend(_pass_notes(day, passes))

    white = _latest(e for e in entries if e.list == PlateList.WHITE)
    if white is not None:
        return _of(vehicle, PlateStanding(plate, Standing.WHITELISTED,
                                          (f"whitelisted: {white.reason}", *notes),
                                          list_entry_id=white.id))
    if visitor is not None and visitor.standing == Standing.VISITOR:
        return _of(vehicle, replace(visitor, reasons=visitor.reasons + tuple(notes)))
    return _of(vehicle, PlateStanding(plate, Standing.TEMPORARY,
                                      ("no registration, pass or list entry valid now", *notes)))


def _of(vehicle: KnownVehicle | None, standing: PlateStanding) -> PlateStanding:
    """The standing with what the registry knows of the car (its class and colour for the
    tariff, its household for paying), unless the standing already says otherwise."""
    if vehicle is None:
        return standing
    return replace(standing, vehicle_id=standing.vehicle_id or vehicle.vehicle_id,
                   vehicle_class=standing.vehicle_class or vehicle.vehicle_class,
                   plate_color=standing.plate_color or vehicle.plate_color,
                   resident_ids=standing.resident_ids or vehicle.resident_ids)


def _latest(entries: Iterable[PlateListEntry]) -> PlateListEntry | None:
    return max(entries, key=lambda e: (e.valid_from, e.id or 0), default=None)


def _space_reason(space: Space | None, day: date) -> str | None:
    """What registers the car on `day` (said after "registered to unit ..."), or None when its
    space is a rented one outside its dates (or a public one: that registers nobody)."""
    if space is None:
        return ""
    if not space.counts_on(day):
        return None
    if space.kind == SpaceKind.RENTED and space.valid_to is not None:
        return f", space {space.code} rented to {space.valid_to.isoformat()}"
    return f", space {space.code} ({space.kind})"


def _space_ended(vehicle: KnownVehicle, day: date) -> str:
    space = vehicle.space
    assert space is not None
    if space.kind == SpaceKind.RENTED and space.valid_from and day < space.valid_from:
        when = f"rented from {space.valid_from.isoformat()}"
    elif space.kind == SpaceKind.RENTED and space.valid_to:
        when = f"rented to {space.valid_to.isoformat()}: ended"
    else:
        when = f"a {space.kind} space"
    return f"registered to unit {vehicle.unit_label}, but space {space.code} is {when}"


def _pass_standing(plate: str, day: date, passes: Sequence[MonthlyPass]
                   ) -> PlateStanding | None:
    valid = [p for p in passes if p.valid_from <= day <= p.valid_to]
    if valid:
        best = max(valid, key=lambda p: (p.valid_to, p.id or 0))
        return PlateStanding(
            plate, Standing.MONTHLY, (f"monthly pass {best.id} valid to {best.valid_to}",),
            pass_id=best.id, lot_ids=_lots(valid))
    grace = [p for p in passes if p.valid_to < day <= p.last_grace_day]
    if grace:
        best = max(grace, key=lambda p: (p.last_grace_day, p.id or 0))
        grace_day = (day - best.valid_to).days
        reason = (f"monthly pass {best.id} expired after {best.valid_to}, "
                  f"grace day {grace_day} of {best.grace_days}")
        return PlateStanding(plate, Standing.MONTHLY_GRACE, (reason,), pass_id=best.id,
                             lot_ids=_lots(grace))
    return None


def _lots(passes: Sequence[MonthlyPass]) -> tuple[int, ...]:
    """Every lot the passes cover together; () when one of them covers every lot."""
    if any(not p.lot_ids for p in passes):
        return ()
    return tuple(sorted({lot for p in passes for lot in p.lot_ids}))


def _pass_notes(day: date, passes: Sequence[MonthlyPass]) -> list[str]:
    """Why no pass applies, when the plate has passes: the last one ended, the next not begun."""
    notes = []
    ended = max((p for p in passes if p.last_grace_day < day),
                key=lambda p: (p.valid_to, p.id or 0), default=None)
    if ended is not None:
        grace = f" and its {ended.grace_days} grace days" if ended.grace_days else ""
        notes.append(f"monthly pass {ended.id} expired after {ended.valid_to}{grace}")
    coming = min((p for p in passes if day < p.valid_from),
                 key=lambda p: (p.valid_from, p.id or 0), default=None)
    if coming is not None:
        notes.append(f"monthly pass {coming.id} starts {coming.valid_from}")
    return notes


def allowed_plates(at: datetime, *, zone: tzinfo, vehicles: Sequence[KnownVehicle],
                   passes: Sequence[MonthlyPass], list_entries: Sequence[PlateListEntry]
                   ) -> list[AllowedPlate]:
    """The plates a gate may admit on its own at `at` (registered, monthly, in grace,
    whitelisted; never a blacklisted one), each with when that stops being true."""
    plates = sorted({v.plate for v in vehicles} | {p.plate for p in passes}
                    | {e.plate for e in list_entries if e.list == PlateList.WHITE})
    allowed = []
    for plate in plates:
        standing = standing_of(plate, at, zone=zone, vehicles=vehicles, passes=passes,
                               list_entries=list_entries, visitor=None)
        if standing.standing in FREE_STANDINGS:
            allowed.append(AllowedPlate(plate, standing.standing,
                                        _until(standing, zone, vehicles, passes, list_entries),
                                        standing.lot_ids))
    return allowed


def _until(standing: PlateStanding, zone: tzinfo, vehicles: Sequence[KnownVehicle],
           passes: Sequence[MonthlyPass], list_entries: Sequence[PlateListEntry]
           ) -> datetime | None:
    def after(day: date) -> datetime:  # local midnight after the last day
        return datetime.combine(day + timedelta(days=1), time(), zone)

    if standing.standing == Standing.REGISTERED:
        vehicle = next(v for v in vehicles if v.vehicle_id == standing.vehicle_id)
        space = vehicle.space
        if space is not None and space.kind == SpaceKind.RENTED and space.valid_to:
            return after(space.valid_to)
        return None
    if standing.standing in (Standing.MONTHLY, Standing.MONTHLY_GRACE):
        chosen = next(p for p in passes if p.id == standing.pass_id)
        return after(chosen.last_grace_day)
    entry = next(e for e in list_entries if e.id == standing.list_entry_id)
    return entry.valid_to
