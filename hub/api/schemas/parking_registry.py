"""The parking registry as the API shows and accepts it: lots, lanes, spaces, vehicles,
monthly passes, plate lists and a plate's standing. Plates are accepted as people type them
("沪A·12345") and shown in their normal form ("沪A12345")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

from hub.api.schemas.common import Id, In, Out
from hub.domain.parking.registry import MAX_CAPACITY, MAX_GRACE_DAYS, PlateList, SpaceKind
from hub.domain.parking.standing import Direction, Standing
from hub.domain.parking.tariff import PlateColor, VehicleClass

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", examples=["north-in"])]
SpaceCode = Annotated[str, Field(min_length=1, max_length=63, examples=["B1-023"])]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=200)]
Reason = Annotated[str, Field(min_length=1, max_length=200, examples=["rammed the barrier"])]
Plate = Annotated[str, Field(min_length=1, max_length=16, examples=["沪A12345"])]
Capacity = Annotated[int, Field(ge=0, le=MAX_CAPACITY)]
GraceDays = Annotated[int, Field(ge=0, le=MAX_GRACE_DAYS)]
Classes = Annotated[list[VehicleClass], Field(max_length=len(VehicleClass))]
Colors = Annotated[list[PlateColor], Field(max_length=len(PlateColor))]
LotIds = Annotated[list[Id], Field(max_length=50)]


class LotIn(In):
    site_id: Id
    code: Code
    name: Name
    parent_id: Id | None = None
    temporary_capacity: Capacity = 0
    tariff_id: Id | None = None


class LotPatch(In):
    code: Code | None = None
    name: Name | None = None
    parent_id: Id | None = None
    temporary_capacity: Capacity | None = None
    tariff_id: Id | None = None


class LotOut(Out):
    id: int
    site_id: int
    code: str
    name: str
    parent_id: int | None
    temporary_capacity: int
    tariff_id: int | None


class LaneIn(In):
    lot_id: Id
    code: Code
    direction: Direction
    camera_device_id: Id
    barrier_device_id: Id
    display_device_id: Id | None = None
    vehicle_classes: Classes = Field(default_factory=list)
    plate_colors: Colors = Field(default_factory=list)


class LanePatch(In):
    lot_id: Id | None = None
    code: Code | None = None
    direction: Direction | None = None
    camera_device_id: Id | None = None
    barrier_device_id: Id | None = None
    display_device_id: Id | None = None
    vehicle_classes: Classes | None = None
    plate_colors: Colors | None = None


class LaneOut(Out):
    id: int
    site_id: int
    lot_id: int
    code: str
    direction: Direction
    camera_device_id: int
    barrier_device_id: int
    display_device_id: int | None
    vehicle_classes: list[str]
    plate_colors: list[str]


class SpaceIn(In):
    lot_id: Id
    code: SpaceCode
    kind: SpaceKind
    unit_id: Id | None = None
    valid_from: date | None = None
    valid_to: date | None = None


class SpacePatch(In):
    code: SpaceCode | None = None
    kind: SpaceKind | None = None
    unit_id: Id | None = None
    valid_from: date | None = None
    valid_to: date | None = None


class SpaceOut(Out):
    id: int
    site_id: int
    lot_id: int
    code: str
    kind: SpaceKind
    unit_id: int | None
    valid_from: date | None
    valid_to: date | None


class VehicleIn(In):
    unit_id: Id
    plate: Plate
    plate_color: PlateColor | None = None
    vehicle_class: VehicleClass = VehicleClass.SMALL
    new_energy: bool | None = None
    resident_id: Id | None = None
    space_id: Id | None = None
    note: Text = ""


class VehiclePatch(In):
    unit_id: Id | None = None
    plate: Plate | None = None
    plate_color: PlateColor | None = None
    vehicle_class: VehicleClass | None = None
    new_energy: bool | None = None
    resident_id: Id | None = None
    space_id: Id | None = None
    note: Text | None = None


class VehicleOut(Out):
    id: int
    site_id: int
    unit_id: int
    resident_id: int | None
    space_id: int | None
    plate: str
    plate_color: PlateColor
    vehicle_class: VehicleClass
    new_energy: bool
    note: str


class PassIn(In):
    site_id: Id
    plate: Plate | None = None
    vehicle_id: Id | None = None
    lot_ids: LotIds = Field(default_factory=list)
    valid_from: date
    valid_to: date
    grace_days: GraceDays = 0
    fee_ref: Text = ""


class PassPatch(In):
    lot_ids: LotIds | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    grace_days: GraceDays | None = None
    fee_ref: Text | None = None


class PassOut(Out):
    id: int
    site_id: int
    plate: str
    vehicle_id: int | None
    lot_ids: list[int]
    valid_from: date
    valid_to: date
    grace_days: int
    fee_ref: str


class ListEntryIn(In):
    site_id: Id
    list: PlateList
    plate: Plate
    reason: Reason
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None


class ListEntryPatch(In):
    reason: Reason | None = None
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None


class ListEntryOut(Out):
    id: int
    site_id: int
    list: PlateList
    plate: str
    reason: str
    valid_from: datetime
    valid_to: datetime | None


class StandingOut(Out):
    """What the gate would think of the plate now: a guard's view, no one's name in it."""

    plate: str
    standing: Standing
    reasons: list[str]
    vehicle_id: int | None
    vehicle_class: VehicleClass | None
    plate_color: PlateColor | None
    pass_id: int | None
    list_entry_id: int | None
    visitor_pass_id: int | None
    visitor_until: datetime | None
    lot_ids: list[int]


class MyVehicleOut(Out):
    id: int
    unit_id: int
    unit_number: str
    plate: str
    plate_color: PlateColor
    vehicle_class: VehicleClass
    new_energy: bool
    space_id: int | None
    space_code: str | None


class MyPassOut(Out):
    id: int
    plate: str
    lot_ids: list[int]
    valid_from: date
    valid_to: date
    grace_days: int
