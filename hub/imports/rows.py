"""Typed rows of each kind, checked on their own: types, formats, the domain's rules.

What needs the database (does the building exist, is the unit there already) is checked by
hub.imports.resolve; what needs the whole file (the same unit twice) by hub.imports.parse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hub.domain.billing.meters import METER_NAME_MAX
from hub.domain.billing.periods import Cycle, attributed_period, parse_period
from hub.domain.errors import Invalid
from hub.domain.property import Building, Orientation, Unit, UnitStatus, check_code
from hub.domain.residents import Relation, Resident
from hub.imports.cells import RowCells
from hub.imports.parking_rows import PARKING_ROW_READERS, SpaceRow, VehicleRow

AREA_PLACES = 2
READING_PLACES = 3
MONEY_PLACES = 2

STATUS = {**{s.value: s for s in UnitStatus}, "已入住": UnitStatus.OCCUPIED,
          "入住": UnitStatus.OCCUPIED, "自住": UnitStatus.OCCUPIED, "空置": UnitStatus.VACANT,
          "出租": UnitStatus.RENTED, "已出租": UnitStatus.RENTED, "装修": UnitStatus.DECORATING,
          "装修中": UnitStatus.DECORATING}
ORIENTATION = {**{o.value.lower(): o for o in Orientation}, "南北": Orientation.NS,
               "南北通透": Orientation.NS, "东西": Orientation.EW, "南": Orientation.S,
               "北": Orientation.N, "东": Orientation.E, "西": Orientation.W,
               "东南": Orientation.SE, "西南": Orientation.SW, "东北": Orientation.NE,
               "西北": Orientation.NW}
RELATION = {**{r.value: r for r in Relation}, "业主": Relation.OWNER, "产权人": Relation.OWNER,
            "家属": Relation.FAMILY, "家庭成员": Relation.FAMILY, "租户": Relation.TENANT,
            "租客": Relation.TENANT, "承租人": Relation.TENANT}
METERS = {"水": "water", "水表": "water", "冷水": "water", "冷水表": "water",
          "电": "electricity", "电表": "electricity", "燃气": "gas", "燃气表": "gas",
          "气表": "gas", "热水": "hot-water", "热水表": "hot-water"}


@dataclass(frozen=True)
class BuildingRow:
    number: int
    code: str
    name: str
    floors: int


@dataclass(frozen=True)
class UnitRow:
    number: int
    building: str
    unit: str
    floor: int
    gross_area: Decimal
    inner_area: Decimal
    layout: str | None
    orientation: Orientation | None
    status: UnitStatus | None


@dataclass(frozen=True)
class ResidentRow:
    number: int
    name: str
    national_id: str | None = field(repr=False)
    phone: str | None
    building: str
    unit: str
    relation: Relation
    move_in: date


@dataclass(frozen=True)
class ReadingRow:
    number: int
    building: str
    unit: str
    meter: str
    value: Decimal
    read_on: date
    period: str  # the month billed: given, or attributed by the reading's date


@dataclass(frozen=True)
class OpeningRow:
    number: int
    building: str
    unit: str
    owed: Decimal  # one of owed and credit is more than zero, the other zero
    credit: Decimal
    as_of: date


Row = BuildingRow | UnitRow | ResidentRow | ReadingRow | OpeningRow | SpaceRow | VehicleRow


def building_row(cells: RowCells) -> BuildingRow | None:
    code, name = cells.text("code", max_chars=63), cells.text("name")
    floors = cells.integer("floors")
    if code is not None:
        try:
            code = check_code(code.lower())
        except Invalid as err:
            cells.problem("code", err.message)
            code = None
    if floors is not None:
        try:  # the domain's own checks of the rest, whatever the code is
            Building(site_id=0, code="x", name="x", floors=floors)
        except Invalid as err:
            cells.check(err)
    if cells.problems or code is None or name is None or floors is None:
        return None
    return BuildingRow(cells.number, code, name, floors)


def unit_row(cells: RowCells) -> UnitRow | None:
    building, number = cells.text("building", max_chars=63), cells.text("unit", max_chars=32)
    floor = cells.integer("floor")
    gross = cells.decimal("gross_area", places=AREA_PLACES, positive=True)
    inner = cells.decimal("inner_area", places=AREA_PLACES, positive=True)
    layout = cells.text("layout", required=False, max_chars=64)
    orientation = cells.choice("orientation", ORIENTATION, required=False)
    status = cells.choice("status", STATUS, required=False)
    if None in (building, number, floor, gross, inner) or cells.problems:
        return None
    assert building is not None and number is not None and floor is not None
    assert gross is not None and inner is not None
    try:
        Unit(site_id=0, building_id=0, number=number, floor=floor, gross_area=gross,
             inner_area=inner)
    except Invalid as err:
        cells.check(err, {"number": "unit"})
        return None
    return UnitRow(cells.number, building.lower(), number, floor, gross, inner, layout,
                   orientation, status)


def resident_row(cells: RowCells) -> ResidentRow | None:
    name = cells.text("name", max_chars=100)
    number = cells.national_id("national_id")
    phone = cells.text("phone", required=False, max_chars=20)
    building, unit = cells.text("building", max_chars=63), cells.text("unit", max_chars=32)
    relation = cells.choice("relation", RELATION)
    move_in = cells.day("move_in")
    if name is not None:
        try:
            Resident(site_id=0, name=name, phone=phone or "")
        except Invalid as err:
            cells.check(err)
    if cells.problems:
        return None
    assert name is not None and building is not None and unit is not None
    assert relation is not None and move_in is not None
    return ResidentRow(cells.number, name, number, phone, building.lower(), unit, relation,
                       move_in)


def reading_row(cells: RowCells) -> ReadingRow | None:
    building, unit = cells.text("building", max_chars=63), cells.text("unit", max_chars=32)
    meter = cells.text("meter", max_chars=METER_NAME_MAX)
    value = cells.decimal("value", places=READING_PLACES)
    read_on = cells.day("read_on")
    period = cells.text("period", required=False, max_chars=10)
    if period is not None:
        try:
            if parse_period(period).cycle != Cycle.MONTHLY:
                cells.problem("period", "a reading bills one month, like 2026-11")
        except Invalid as err:
            cells.problem("period", err.message)
    if cells.problems:
        return None
    assert building is not None and unit is not None and meter is not None
    assert value is not None and read_on is not None
    label = parse_period(period).label if period else attributed_period(read_on).label
    return ReadingRow(cells.number, building.lower(), unit, METERS.get(meter, meter.lower()),
                      value, read_on, label)


def opening_row(cells: RowCells) -> OpeningRow | None:
    building, unit = cells.text("building", max_chars=63), cells.text("unit", max_chars=32)
    owed = cells.decimal("owed", places=MONEY_PLACES, required=False)
    credit = cells.decimal("credit", places=MONEY_PLACES, required=False)
    as_of = cells.day("as_of")
    if not cells.problems and ((owed or 0) > 0) == ((credit or 0) > 0):
        cells.problem("owed" if owed else "credit",
                      f"give either {cells.header.name('owed')} or "
                      f"{cells.header.name('credit')}, more than zero", owed or credit)
    if cells.problems:
        return None
    assert building is not None and unit is not None and as_of is not None
    return OpeningRow(cells.number, building.lower(), unit, owed or Decimal(0),
                      credit or Decimal(0), as_of)


ROW_READERS: dict[str, Callable[[RowCells], Row | None]] = {
    "buildings": building_row, "units": unit_row, "residents": resident_row,
    "meter-readings": reading_row, "opening-balances": opening_row,
    **PARKING_ROW_READERS,
}
