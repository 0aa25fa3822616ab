"""Typed rows of the parking registry's imports (parking spaces, vehicles), checked on their
own: plates in their normal form, the kinds of space, colours and classes by their Chinese
names too. What needs the database is checked by hub.imports.parking_resolve."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date

from hub.domain.errors import Invalid
from hub.domain.parking.plates import normalise_plate
from hub.domain.parking.registry import Space, SpaceKind
from hub.domain.parking.tariff import PlateColor, VehicleClass
from hub.imports.cells import RowCells

SPACE_KINDS = {**{k.value: k for k in SpaceKind}, "产权": SpaceKind.OWNED,
               "产权车位": SpaceKind.OWNED, "自有": SpaceKind.OWNED, "租赁": SpaceKind.RENTED,
               "租用": SpaceKind.RENTED, "租赁车位": SpaceKind.RENTED, "公共": SpaceKind.PUBLIC,
               "公共车位": SpaceKind.PUBLIC, "临停": SpaceKind.PUBLIC}
PLATE_COLORS = {**{c.value: c for c in PlateColor}, "蓝": PlateColor.BLUE,
                "蓝牌": PlateColor.BLUE, "蓝色": PlateColor.BLUE, "绿": PlateColor.GREEN,
                "绿牌": PlateColor.GREEN, "绿色": PlateColor.GREEN, "黄": PlateColor.YELLOW,
                "黄牌": PlateColor.YELLOW, "黄色": PlateColor.YELLOW, "白": PlateColor.WHITE,
                "白牌": PlateColor.WHITE, "白色": PlateColor.WHITE, "黑": PlateColor.BLACK,
                "黑牌": PlateColor.BLACK, "黑色": PlateColor.BLACK}
VEHICLE_CLASSES = {**{c.value: c for c in VehicleClass}, "小型车": VehicleClass.SMALL,
                   "小车": VehicleClass.SMALL, "小型汽车": VehicleClass.SMALL,
                   "大型车": VehicleClass.LARGE, "大车": VehicleClass.LARGE,
                   "大型汽车": VehicleClass.LARGE, "摩托车": VehicleClass.MOTORCYCLE,
                   "新能源": VehicleClass.NEW_ENERGY, "新能源车": VehicleClass.NEW_ENERGY}
YES_NO = {"yes": True, "no": False, "true": True, "false": False, "y": True, "n": False,
          "1": True, "0": False, "是": True, "否": False}


@dataclass(frozen=True)
class SpaceRow:
    number: int
    lot: str
    code: str
    kind: SpaceKind
    building: str | None  # the unit an owned or rented space belongs to
    unit: str | None
    valid_from: date | None
    valid_to: date | None


@dataclass(frozen=True)
class VehicleRow:
    number: int
    plate: str
    building: str
    unit: str
    plate_color: PlateColor | None  # None: not given (a new vehicle: by the plate)
    vehicle_class: VehicleClass | None
    new_energy: bool | None
    lot: str | None  # the lot of its space, when the space code is not unique in the site
    space: str | None


def space_row(cells: RowCells) -> SpaceRow | None:
    lot, code = cells.text("lot", max_chars=63), cells.text("code", max_chars=63)
    kind = cells.choice("kind", SPACE_KINDS)
    building = cells.text("building", required=False, max_chars=63)
    unit = cells.text("unit", required=False, max_chars=32)
    valid_from = cells.day("valid_from", required=False)
    valid_to = cells.day("valid_to", required=False)
    if (building is None) != (unit is None):
        cells.problem("building" if building is None else "unit",
                      "a space's unit needs both the building and the unit number")
    if code is not None and kind is not None and not cells.problems:
        try:  # the domain's own checks: a unit for owned and rented, dates for rented only
            Space(site_id=0, lot_id=0, code=code, kind=kind, unit_id=1 if unit else None,
                  valid_from=valid_from, valid_to=valid_to)
        except Invalid as err:
            cells.check(err, {"unit_id": "unit"})
    if cells.problems:
        return None
    assert lot is not None and code is not None and kind is not None
    return SpaceRow(cells.number, lot.lower(), code, kind,
                    building.lower() if building else None, unit, valid_from, valid_to)


def vehicle_row(cells: RowCells) -> VehicleRow | None:
    plate = cells.text("plate", max_chars=20)
    building, unit = cells.text("building", max_chars=63), cells.text("unit", max_chars=32)
    color = cells.choice("plate_color", PLATE_COLORS, required=False)
    vehicle_class = cells.choice("vehicle_class", VEHICLE_CLASSES, required=False)
    new_energy = cells.choice("new_energy", YES_NO, required=False)
    lot = cells.text("lot", required=False, max_chars=63)
    space = cells.text("space", required=False, max_chars=63)
    if lot is not None and space is None:
        cells.problem("lot", "a lot is given with a space only")
    if plate is not None:
        try:
            plate = normalise_plate(plate)
        except Invalid as err:
            cells.problem("plate", err.message)
    if cells.problems:
        return None
    assert plate is not None and building is not None and unit is not None
    return VehicleRow(cells.number, plate, building.lower(), unit, color, vehicle_class,
                      new_energy, lot.lower() if lot else None, space)


PARKING_ROW_READERS: dict[str, Callable[[RowCells], SpaceRow | VehicleRow | None]] = {
    "parking-spaces": space_row, "vehicles": vehicle_row,
}


def _space_key(row: object) -> Hashable:
    return (row.lot, row.code) if isinstance(row, SpaceRow) else None


def _vehicle_key(row: object) -> Hashable:
    return row.plate if isinstance(row, VehicleRow) else None


# The same record twice in one file: (key of a row, the column a repeat is reported on).
PARKING_KEYS: dict[str, tuple[Callable[[object], Hashable], str]] = {
    "parking-spaces": (_space_key, "code"), "vehicles": (_vehicle_key, "plate"),
}
