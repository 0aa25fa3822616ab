"""The parking registry (车场档案): lots, lanes, spaces, vehicles, monthly passes and the white
and black lists: who a car is and where it may park. Who a car is *now* is computed from these
by hub.domain.parking.standings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from hub.domain.errors import Invalid
from hub.domain.parking.plates import normalise_plate
from hub.domain.parking.standing import Direction
from hub.domain.parking.tariff import PlateColor, VehicleClass
from hub.domain.property import check_code

MAX_CAPACITY = 100_000
MAX_GRACE_DAYS = 90  # a pass more than three months expired is no longer "in grace"
MAX_TEXT = 200

E = TypeVar("E", bound=StrEnum)


class SpaceKind(StrEnum):
    OWNED = "owned"  # 产权车位: bought with (or for) a unit
    RENTED = "rented"  # 租赁车位: let to a unit for a time
    PUBLIC = "public"  # for temporary and visitor cars: no unit


class PlateList(StrEnum):
    WHITE = "white"  # 白名单: free passage (a police car, the owners' committee)
    BLACK = "black"  # 黑名单: refused, and security alerted


def _text(value: str, name: str, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(f"{name} must not be empty", field=name)
    if len(value) > MAX_TEXT:
        raise Invalid(f"{name} has at most {MAX_TEXT} characters", field=name)
    return value


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and value.tzinfo is None:
        raise Invalid(f"{name} needs a UTC offset", field=name)


@dataclass(eq=False)
class Lot:
    """A car park (车场). A lot may lie inside another (the B1 basement inside the community's
    gates): a car entering the inner lot has already passed the outer one."""

    site_id: int
    code: str
    name: str
    parent_id: int | None = None
    temporary_capacity: int = 0  # spaces for temporary and visitor cars
    tariff_id: int | None = None  # what temporary cars pay; None: they park free
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        check_code(self.code)
        self.name = _text(self.name, "name")
        if not 0 <= self.temporary_capacity <= MAX_CAPACITY:
            raise Invalid(f"temporary_capacity must be from 0 to {MAX_CAPACITY}",
                          field="temporary_capacity")
        if self.id is not None and self.parent_id == self.id:
            raise Invalid("a lot cannot lie inside itself", field="parent_id")


def check_no_cycle(lot_id: int, parent_id: int | None, parents: Mapping[int, int | None]) -> None:
    """Refuse a parent that lies inside `lot_id` (or is it): nested lots form a tree.
    `parents` maps each lot of the site to its current parent."""
    seen: set[int] = set()
    current = parent_id
    while current is not None:
        if current == lot_id:
            raise Invalid("this parent lies inside the lot: nested lots cannot form a cycle",
                          field="parent_id")
        if current in seen:  # a cycle stored already; not ours to report here
            return
        seen.add(current)
        current = parents.get(current)


@dataclass(eq=False)
class Lane:
    """An entry or exit lane: the camera that reads plates there (its events name the lane by
    `code`), the barrier opened for it, and which cars it takes (empty: every class/colour)."""

    site_id: int
    lot_id: int
    code: str
    direction: Direction
    camera_device_id: int
    barrier_device_id: int
    display_device_id: int | None = None
    vehicle_classes: list[str] = field(default_factory=list)
    plate_colors: list[str] = field(default_factory=list)
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        check_code(self.code)
        self.direction = _enum(Direction, self.direction, "direction")
        self.vehicle_classes = _enum_list(VehicleClass, self.vehicle_classes, "vehicle_classes")
        self.plate_colors = _enum_list(PlateColor, self.plate_colors, "plate_colors")


def _enum(kind: type[E], value: object, name: str) -> E:
    try:
        return kind(value)  # type: ignore[arg-type]  # anything: refused below
    except ValueError:
        allowed = ", ".join(kind)
        raise Invalid(f"{name} must be one of {allowed}, not {value!r}", field=name) from None


def _enum_list(kind: type[StrEnum], values: list[str], name: str) -> list[str]:
    """Stored as a sorted list of values without repeats, so equal choices compare equal."""
    return sorted({_enum(kind, v, name).value for v in values})


@dataclass(eq=False)
class Space:
    """A parking space (车位). Owned and rented spaces belong to a unit; the unit's vehicles
    linked to the space park on it (several plates may share one space, one at a time).
    A rented space counts from `valid_from` to `valid_to`, both days included."""

    site_id: int
    lot_id: int
    code: str
    kind: SpaceKind
    unit_id: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        self.code = _text(self.code, "code")
        if len(self.code) > 63:
            raise Invalid("code has at most 63 characters", field="code")
        self.kind = _enum(SpaceKind, self.kind, "kind")
        if self.kind == SpaceKind.PUBLIC:
            if self.unit_id is not None:
                raise Invalid("a public space belongs to no unit", field="unit_id")
        elif self.unit_id is None:
            raise Invalid(f"an {self.kind} space needs the unit it belongs to", field="unit_id")
        if self.kind != SpaceKind.RENTED and (self.valid_from or self.valid_to):
            raise Invalid("only a rented space has valid dates", field="valid_from")
        if self.kind == SpaceKind.RENTED and self.valid_from is None:
            raise Invalid("a rented space needs valid_from", field="valid_from")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise Invalid("valid_to is before valid_from", field="valid_to")

    def counts_on(self, day: date) -> bool:
        """Whether the space is the unit's on `day` (the site's calendar day)."""
        if self.kind != SpaceKind.RENTED:
            return self.kind == SpaceKind.OWNED
        return (self.valid_from is None or self.valid_from <= day) \
            and (self.valid_to is None or day <= self.valid_to)


@dataclass(eq=False)
class Vehicle:
    """A car registered to a unit (业主车辆), optionally to the resident who drives it and to one
    of the unit's spaces. The plate is unique in the site."""

    site_id: int
    unit_id: int
    plate: str
    plate_color: PlateColor = PlateColor.BLUE
    vehicle_class: VehicleClass = VehicleClass.SMALL
    new_energy: bool = False
    resident_id: int | None = None
    space_id: int | None = None
    note: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        self.plate = normalise_plate(self.plate)
        self.plate_color = _enum(PlateColor, self.plate_color, "plate_color")
        self.vehicle_class = _enum(VehicleClass, self.vehicle_class, "vehicle_class")
        self.note = _text(self.note, "note", required=False)


@dataclass(eq=False)
class MonthlyPass:
    """A monthly pass (月卡): free passage for a plate in some lots (none named: every lot of
    the site) from `valid_from` to `valid_to`, both days included, then `grace_days` more days
    in which the gate still opens while the owner renews."""

    site_id: int
    plate: str
    valid_from: date
    valid_to: date
    lot_ids: list[int] = field(default_factory=list)
    grace_days: int = 0
    vehicle_id: int | None = None
    fee_ref: str = ""  # the payment or receipt that paid for it
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        self.plate = normalise_plate(self.plate)
        if self.valid_to < self.valid_from:
            raise Invalid("valid_to is before valid_from", field="valid_to")
        if not 0 <= self.grace_days <= MAX_GRACE_DAYS:
            raise Invalid(f"grace_days must be from 0 to {MAX_GRACE_DAYS}", field="grace_days")
        self.lot_ids = sorted(set(self.lot_ids))
        self.fee_ref = _text(self.fee_ref, "fee_ref", required=False)

    @property
    def last_grace_day(self) -> date:
        return self.valid_to + timedelta(days=self.grace_days)


@dataclass(eq=False)
class PlateListEntry:
    """A plate on the white or black list from `valid_from` until `valid_to` (not included;
    None: until taken off)."""

    site_id: int
    list: PlateList
    plate: str
    reason: str
    valid_from: datetime
    valid_to: datetime | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        self.plate = normalise_plate(self.plate)
        self.list = _enum(PlateList, self.list, "list")
        self.reason = _text(self.reason, "reason")
        _aware(self.valid_from, "valid_from")
        _aware(self.valid_to, "valid_to")
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise Invalid("valid_to must be after valid_from", field="valid_to")

    def valid_at(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)
