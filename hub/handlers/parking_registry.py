"""The parking registry's commands for staff: lots, lanes and spaces here; vehicles, passes,
lists and a plate's standing in hub.handlers.parking_plates. Changes and deletions of any of
them go through one ChangeParking / DeleteParking, which check the changed record as a whole.

Lots, lanes and spaces configure a site's gates: they need the whole site. Every change
leaves one audit row naming the record and the fields, never their values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hub.domain.accounts import Actor
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.parking.registry import (
    Lane,
    Lot,
    MonthlyPass,
    Space,
    SpaceKind,
    Vehicle,
    check_no_cycle,
)
from hub.domain.parking.standing import Direction
from hub.domain.parking.tariff import ParkingTariff
from hub.domain.property import Unit
from hub.domain.registry import Device
from hub.handlers import parking_plates as plates
from hub.handlers.parking_scope import (
    added,
    apply,
    audit,
    lot_of_site,
    site_record,
    visible_vehicle,
    with_changes,
)
from hub.handlers.scope import managed_site
from hub.ports import Clock, UnitOfWork

CAMERA_KIND, GATE_KIND = "camera", "gate"


@dataclass(frozen=True)
class CreateLot(Command):
    site_id: int
    code: str
    name: str
    parent_id: int | None = None
    temporary_capacity: int = 0
    tariff_id: int | None = None


@dataclass(frozen=True)
class CreateLane(Command):
    lot_id: int
    code: str
    direction: Direction
    camera_device_id: int
    barrier_device_id: int
    display_device_id: int | None = None
    vehicle_classes: tuple[str, ...] = ()
    plate_colors: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreateSpace(Command):
    lot_id: int
    code: str
    kind: SpaceKind
    unit_id: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class ChangeParking(Command):
    """Some fields of one record; `kind` is lot, lane, space, vehicle, pass or list_entry."""

    kind: str
    ident: int
    changes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteParking(Command):
    kind: str
    ident: int


async def create_lot(cmd: CreateLot, uow: UnitOfWork, clock: Clock) -> int:
    await managed_site(uow, cmd.actor, cmd.site_id)
    lot = Lot(site_id=cmd.site_id, code=cmd.code, name=cmd.name, parent_id=cmd.parent_id,
              temporary_capacity=cmd.temporary_capacity, tariff_id=cmd.tariff_id)
    await _check_lot(uow, lot)
    return await added(uow, cmd.actor, clock, "lot", lot)


async def create_lane(cmd: CreateLane, uow: UnitOfWork, clock: Clock) -> int:
    lot = await _writable_lot(uow, cmd.actor, cmd.lot_id)
    lane = Lane(site_id=lot.site_id, lot_id=cmd.lot_id, code=cmd.code, direction=cmd.direction,
                camera_device_id=cmd.camera_device_id, barrier_device_id=cmd.barrier_device_id,
                display_device_id=cmd.display_device_id,
                vehicle_classes=list(cmd.vehicle_classes), plate_colors=list(cmd.plate_colors))
    await _check_lane(uow, lane)
    return await added(uow, cmd.actor, clock, "lane", lane)


async def create_space(cmd: CreateSpace, uow: UnitOfWork, clock: Clock) -> int:
    lot = await _writable_lot(uow, cmd.actor, cmd.lot_id)
    space = Space(site_id=lot.site_id, lot_id=cmd.lot_id, code=cmd.code, kind=cmd.kind,
                  unit_id=cmd.unit_id, valid_from=cmd.valid_from, valid_to=cmd.valid_to)
    await _check_space(uow, space)
    return await added(uow, cmd.actor, clock, "space", space)


async def _writable_lot(uow: UnitOfWork, actor: Actor, lot_id: int) -> Lot:
    try:
        lot: Lot = await site_record(uow, actor, "lot", lot_id)
    except NotFound:
        raise Invalid(f"no lot {lot_id} in your sites", field="lot_id") from None
    return lot


async def _check_lot(uow: UnitOfWork, lot: Lot) -> None:
    same_code = await uow.find_one(Lot, site_id=lot.site_id, code=lot.code)
    if same_code is not None and same_code.id != lot.id:
        raise Conflict(f"lot code {lot.code!r} exists in this site", field="code")
    if lot.parent_id is not None:
        await lot_of_site(uow, lot.site_id, lot.parent_id, "parent_id")
        if lot.id is not None:
            parents = {other.id: other.parent_id
                       for other in await uow.find(Lot, site_id=lot.site_id)
                       if other.id is not None}
            check_no_cycle(lot.id, lot.parent_id, parents)
    if lot.tariff_id is not None:
        tariff = await uow.get(ParkingTariff, lot.tariff_id)
        if tariff is None or tariff.site_id != lot.site_id:
            raise Invalid(f"no tariff {lot.tariff_id} in this site", field="tariff_id")


async def _check_lane(uow: UnitOfWork, lane: Lane) -> None:
    await lot_of_site(uow, lane.site_id, lane.lot_id, "lot_id")
    await _device(uow, lane.site_id, lane.camera_device_id, "camera_device_id", CAMERA_KIND)
    await _device(uow, lane.site_id, lane.barrier_device_id, "barrier_device_id", GATE_KIND)
    if lane.display_device_id is not None:
        await _device(uow, lane.site_id, lane.display_device_id, "display_device_id", None)
    for other in await uow.find(Lane, site_id=lane.site_id, code=lane.code):
        if other.id != lane.id:
            raise Conflict(f"lane code {lane.code!r} exists in this site", field="code")


async def _device(uow: UnitOfWork, site_id: int, device_id: int, name: str,
                  kind: str | None) -> None:
    device = await uow.get(Device, device_id)
    if device is None or device.site_id != site_id:
        raise Invalid(f"no device {device_id} in this site", field=name)
    if kind is not None and device.kind != kind:
        raise Invalid(f"device {device.code} is a {device.kind}, not a {kind}", field=name)


async def _check_space(uow: UnitOfWork, space: Space) -> None:
    await lot_of_site(uow, space.site_id, space.lot_id, "lot_id")
    if space.unit_id is not None:
        unit = await uow.get(Unit, space.unit_id)
        if unit is None or unit.site_id != space.site_id:
            raise Invalid(f"no unit {space.unit_id} in this site", field="unit_id")
    same_code = await uow.find_one(Space, lot_id=space.lot_id, code=space.code)
    if same_code is not None and same_code.id != space.id:
        raise Conflict(f"space {space.code!r} exists in this lot", field="code")
    if space.id is not None:
        for vehicle in await uow.find(Vehicle, space_id=space.id):
            if vehicle.unit_id != space.unit_id:
                raise Conflict("vehicles of another unit use this space: unlink them first",
                               field="unit_id")


Loader = Callable[[UnitOfWork, Actor, int], Awaitable[Any]]
Checker = Callable[[UnitOfWork, Any], Awaitable[None]]


def _site_loader(kind: str) -> Loader:
    async def load(uow: UnitOfWork, actor: Actor, ident: int) -> Any:
        return await site_record(uow, actor, kind, ident)
    return load


# What may change on each kind, how it is loaded in scope, and how the result is checked.
EDITABLE: dict[str, tuple[frozenset[str], Loader, Checker]] = {
    "lot": (frozenset({"code", "name", "parent_id", "temporary_capacity", "tariff_id"}),
            _site_loader("lot"), _check_lot),
    "lane": (frozenset({"code", "lot_id", "direction", "camera_device_id",
                        "barrier_device_id", "display_device_id", "vehicle_classes",
                        "plate_colors"}), _site_loader("lane"), _check_lane),
    "space": (frozenset({"code", "kind", "unit_id", "valid_from", "valid_to"}),
              _site_loader("space"), _check_space),
    "vehicle": (plates.VEHICLE_FIELDS, visible_vehicle, plates.check_vehicle),
    "pass": (plates.PASS_FIELDS, _site_loader("pass"), plates.check_pass),
    "list_entry": (plates.LIST_FIELDS, _site_loader("list_entry"), plates.check_list_entry),
}


async def change_parking(cmd: ChangeParking, uow: UnitOfWork, clock: Clock) -> None:
    editable, load, check = EDITABLE[cmd.kind]
    unknown = sorted(set(cmd.changes) - editable)
    if unknown:
        raise Invalid(f"{unknown[0]} cannot be changed on a {cmd.kind}", field=unknown[0])
    target = await load(uow, cmd.actor, cmd.ident)
    candidate = with_changes(target, cmd.changes)
    if cmd.kind == "vehicle":
        await plates.vehicle_in_scope(uow, cmd.actor, candidate)
    await check(uow, candidate)
    apply(target, candidate, cmd.changes)
    if isinstance(target, Vehicle) and "plate" in cmd.changes:
        await plates.follow_plate(uow, target)
    audit(uow, cmd.actor, clock(), cmd.kind, cmd.ident, "changed", cmd.changes)
    await uow.commit()


async def delete_parking(cmd: DeleteParking, uow: UnitOfWork, clock: Clock) -> None:
    _, load, _ = EDITABLE[cmd.kind]
    target = await load(uow, cmd.actor, cmd.ident)
    if isinstance(target, Lot):
        await _lot_is_unused(uow, target)
    elif isinstance(target, Space):
        if await uow.find_one(Vehicle, space_id=cmd.ident) is not None:
            raise Conflict("vehicles are linked to this space: unlink them first")
    elif isinstance(target, Vehicle):
        for linked in await uow.find(MonthlyPass, vehicle_id=cmd.ident):
            linked.vehicle_id = None  # the pass stays, by plate
    await uow.delete(target)
    audit(uow, cmd.actor, clock(), cmd.kind, cmd.ident, "deleted")
    await uow.commit()


async def _lot_is_unused(uow: UnitOfWork, lot: Lot) -> None:
    for kind, column, what in ((Lot, "parent_id", "lots inside it"),
                               (Lane, "lot_id", "lanes"), (Space, "lot_id", "spaces")):
        if await uow.find_one(kind, **{column: lot.id}):
            raise Conflict(f"this lot still has {what}; remove those first")
    for monthly in await uow.find(MonthlyPass, site_id=lot.site_id):
        if lot.id in monthly.lot_ids:
            raise Conflict(f"monthly pass {monthly.id} names this lot; change it first")


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    CreateLot: create_lot,
    CreateLane: create_lane,
    CreateSpace: create_space,
    ChangeParking: change_parking,
    DeleteParking: delete_parking,
    **plates.COMMAND_HANDLERS,
}
