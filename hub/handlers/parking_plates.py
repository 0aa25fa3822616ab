"""The registry's plates: vehicles registered to units, monthly passes, the white and black
lists, and what the gate would think of a plate now (for guards).

A plate is unique among a site's vehicles. A pass names a plate, or a vehicle (and then
follows the vehicle's plate when it changes). Vehicles are written by staff who see the
unit; passes and lists need the whole site.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hub.domain.accounts import Actor
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.parking.plates import is_new_energy, normalise_plate
from hub.domain.parking.registry import (
    MonthlyPass,
    PlateList,
    PlateListEntry,
    Space,
    SpaceKind,
    Vehicle,
)
from hub.domain.parking.standing import ParkingDirectory, PlateStanding
from hub.domain.parking.tariff import PlateColor, VehicleClass
from hub.domain.residents import Residency
from hub.handlers.parking_scope import added, lot_of_site
from hub.handlers.scope import managed_site, visible_site, visible_unit
from hub.ports import Clock, UnitOfWork

VEHICLE_FIELDS = frozenset({"unit_id", "plate", "plate_color", "vehicle_class", "new_energy",
                            "resident_id", "space_id", "note"})
PASS_FIELDS = frozenset({"lot_ids", "valid_from", "valid_to", "grace_days", "fee_ref"})
LIST_FIELDS = frozenset({"reason", "valid_from", "valid_to"})


@dataclass(frozen=True)
class RegisterVehicle(Command):
    unit_id: int
    plate: str
    plate_color: PlateColor | None = None  # None: green for a new-energy plate, else blue
    vehicle_class: VehicleClass = VehicleClass.SMALL
    new_energy: bool | None = None  # None: from the plate (eight characters)
    resident_id: int | None = None
    space_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class IssuePass(Command):
    site_id: int
    valid_from: date
    valid_to: date
    plate: str | None = None
    vehicle_id: int | None = None
    lot_ids: tuple[int, ...] = ()
    grace_days: int = 0
    fee_ref: str = ""


@dataclass(frozen=True)
class AddListEntry(Command):
    site_id: int
    list: PlateList
    plate: str
    reason: str
    valid_from: datetime | None = None  # None: now
    valid_to: datetime | None = None


@dataclass(frozen=True)
class CheckStanding(Command):
    site_id: int
    plate: str


async def register_vehicle(cmd: RegisterVehicle, uow: UnitOfWork, clock: Clock) -> int:
    unit = await visible_unit(uow, cmd.actor, cmd.unit_id)
    plate = normalise_plate(cmd.plate)
    new_energy = is_new_energy(plate) if cmd.new_energy is None else cmd.new_energy
    color = cmd.plate_color or (PlateColor.GREEN if is_new_energy(plate) else PlateColor.BLUE)
    vehicle = Vehicle(site_id=unit.site_id, unit_id=cmd.unit_id, plate=plate,
                      plate_color=color, vehicle_class=cmd.vehicle_class,
                      new_energy=new_energy, resident_id=cmd.resident_id,
                      space_id=cmd.space_id, note=cmd.note)
    await check_vehicle(uow, vehicle)
    return await added(uow, cmd.actor, clock, "vehicle", vehicle)


async def vehicle_in_scope(uow: UnitOfWork, actor: Actor, vehicle: Vehicle) -> None:
    """A vehicle moved to another unit: the actor must see that unit too, in the same site."""
    try:
        unit = await visible_unit(uow, actor, vehicle.unit_id)
    except NotFound:
        raise Invalid(f"no unit {vehicle.unit_id} in your scope", field="unit_id") from None
    if unit.site_id != vehicle.site_id:
        raise Invalid("a vehicle stays in its site: register it again there", field="unit_id")


async def check_vehicle(uow: UnitOfWork, vehicle: Vehicle) -> None:
    same_plate = await uow.find_one(Vehicle, site_id=vehicle.site_id, plate=vehicle.plate)
    if same_plate is not None and same_plate.id != vehicle.id:
        raise Conflict(f"plate {vehicle.plate} is registered in this site already "
                       f"(vehicle {same_plate.id})", field="plate")
    if vehicle.resident_id is not None and not await uow.find_one(
            Residency, resident_id=vehicle.resident_id, unit_id=vehicle.unit_id):
        raise Invalid(f"resident {vehicle.resident_id} does not live in unit "
                      f"{vehicle.unit_id}", field="resident_id")
    if vehicle.space_id is not None:
        space = await uow.get(Space, vehicle.space_id)
        if space is None or space.site_id != vehicle.site_id:
            raise Invalid(f"no space {vehicle.space_id} in this site", field="space_id")
        if space.kind == SpaceKind.PUBLIC or space.unit_id != vehicle.unit_id:
            raise Invalid(f"space {space.code} is not one of unit {vehicle.unit_id}'s",
                          field="space_id")


async def follow_plate(uow: UnitOfWork, vehicle: Vehicle) -> None:
    """Passes issued to the vehicle name its new plate."""
    for linked in await uow.find(MonthlyPass, vehicle_id=vehicle.id):
        linked.plate = vehicle.plate


async def issue_pass(cmd: IssuePass, uow: UnitOfWork, clock: Clock) -> int:
    await managed_site(uow, cmd.actor, cmd.site_id)
    plate = await _pass_plate(uow, cmd)
    monthly = MonthlyPass(site_id=cmd.site_id, plate=plate, valid_from=cmd.valid_from,
                          valid_to=cmd.valid_to, lot_ids=list(cmd.lot_ids),
                          grace_days=cmd.grace_days, vehicle_id=cmd.vehicle_id,
                          fee_ref=cmd.fee_ref)
    await check_pass(uow, monthly)
    return await added(uow, cmd.actor, clock, "pass", monthly)


async def _pass_plate(uow: UnitOfWork, cmd: IssuePass) -> str:
    if cmd.vehicle_id is None:
        if cmd.plate is None:
            raise Invalid("a pass needs a plate or a vehicle_id", field="plate")
        return normalise_plate(cmd.plate)
    vehicle = await uow.get(Vehicle, cmd.vehicle_id)
    if vehicle is None or vehicle.site_id != cmd.site_id:
        raise Invalid(f"no vehicle {cmd.vehicle_id} in this site", field="vehicle_id")
    if cmd.plate is not None and normalise_plate(cmd.plate) != vehicle.plate:
        raise Invalid("the plate is not the vehicle's: send one of them", field="plate")
    return vehicle.plate


async def check_pass(uow: UnitOfWork, monthly: MonthlyPass) -> None:
    for lot_id in monthly.lot_ids:
        await lot_of_site(uow, monthly.site_id, lot_id, "lot_ids")


async def add_list_entry(cmd: AddListEntry, uow: UnitOfWork, clock: Clock) -> int:
    await managed_site(uow, cmd.actor, cmd.site_id)
    entry = PlateListEntry(site_id=cmd.site_id, list=cmd.list, plate=cmd.plate,
                           reason=cmd.reason, valid_from=cmd.valid_from or clock(),
                           valid_to=cmd.valid_to)
    await check_list_entry(uow, entry)
    return await added(uow, cmd.actor, clock, "list_entry", entry)


async def check_list_entry(uow: UnitOfWork, entry: PlateListEntry) -> None:
    """One entry of a list per plate at a time: a second would make "why" ambiguous."""
    for other in await uow.find(PlateListEntry, site_id=entry.site_id, plate=entry.plate):
        if other.id != entry.id and other.list == entry.list and _overlap(other, entry):
            raise Conflict(f"this plate is on the {entry.list} list already for that time "
                           f"(entry {other.id}): change that entry", field="plate")


def _overlap(a: PlateListEntry, b: PlateListEntry) -> bool:
    return (a.valid_to is None or b.valid_from < a.valid_to) \
        and (b.valid_to is None or a.valid_from < b.valid_to)


async def check_standing(cmd: CheckStanding, uow: UnitOfWork, clock: Clock,
                         parking_directory: ParkingDirectory) -> PlateStanding:
    """What the gate would decide about the plate's standing now, and why. Nothing is
    written: guards ask it at the barrier."""
    site = await visible_site(uow, cmd.actor, cmd.site_id)
    if cmd.actor.is_resident:
        raise NotFound("site", cmd.site_id)
    assert site.id is not None
    return await parking_directory.standing(site.id, normalise_plate(cmd.plate), clock())


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    RegisterVehicle: register_vehicle,
    IssuePass: issue_pass,
    AddListEntry: add_list_entry,
    CheckStanding: check_standing,
}
