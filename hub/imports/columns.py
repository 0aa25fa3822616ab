"""What each kind of import reads: its columns, the header names accepted for each, examples.

Header names are matched after `normalise_header`: case, spaces, `_`, `-` and a trailing `*`
do not matter, and a header like "楼栋 (building)" matches by either of its names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hub.imports.report import Problem


@dataclass(frozen=True)
class Column:
    field: str
    names: tuple[str, ...]  # the template's Chinese and English headers first, then aliases
    required: bool
    example: str
    masked: str = ""  # "national_id" or "phone": how a report shows the value

    @property
    def header(self) -> str:
        return f"{self.names[0]} ({self.names[1]})"


@dataclass(frozen=True)
class Kind:
    name: str  # as in `hub import KIND` and /api/v1/imports/KIND
    title: str
    columns: tuple[Column, ...]


BUILDING = Column("building", ("楼栋", "building", "楼栋编号", "楼号", "building_code"), True, "b1")
UNIT = Column("unit", ("单元", "unit_number", "房号", "房间号", "unit", "number", "室号"), True,
              "1-0301")

KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("buildings", "buildings (楼栋)", (
        Column("code", ("楼栋编号", "code", "楼栋", "楼号", "building", "building_code"), True,
               "b1"),
        Column("name", ("楼栋名称", "name", "名称"), True, "1号楼"),
        Column("floors", ("楼层数", "floors", "总层数", "层数"), True, "18"),
    )),
    Kind("units", "units (房屋)", (
        BUILDING, UNIT,
        Column("floor", ("楼层", "floor", "所在楼层"), True, "3"),
        Column("gross_area", ("建筑面积", "gross_area", "gross area"), True, "89.75"),
        Column("inner_area", ("套内面积", "inner_area", "inner area"), True, "72.10"),
        Column("layout", ("户型", "layout"), False, "3室2厅1卫"),
        Column("orientation", ("朝向", "orientation"), False, "NS"),
        Column("status", ("状态", "status", "房屋状态"), False, "已入住"),
    )),
    Kind("residents", "residents and where they live (住户)", (
        Column("name", ("姓名", "name"), True, "张伟"),
        # Examples that look like no one's: a template is served to staff, and a full
        # ID number or mobile number in an answer is what the PII checks look for.
        Column("national_id", ("身份证号", "national_id", "身份证号码", "身份证", "id_number"),
               False, "", masked="national_id"),
        Column("phone", ("手机", "phone", "手机号", "手机号码", "电话", "mobile"), False,
               "02162345678", masked="phone"),
        BUILDING, UNIT,
        Column("relation", ("关系", "relation", "身份", "与房屋关系"), True, "业主"),
        Column("move_in", ("入住日期", "move_in", "moved_in", "move-in date"), True,
               "2020-05-01"),
    )),
    Kind("meter-readings", "meter readings (抄表)", (
        BUILDING, UNIT,
        Column("meter", ("表计", "meter", "表类型", "表具"), True, "水表"),
        Column("value", ("读数", "value", "本期读数", "reading"), True, "1234.5"),
        Column("read_on", ("抄表日期", "read_on", "读数日期", "date"), True, "2026-11-28"),
        Column("period", ("账期", "period", "所属期", "计费月份"), False, "2026-11"),
    )),
    Kind("opening-balances", "opening balances (期初欠费, 期初预存)", (
        BUILDING, UNIT,
        Column("owed", ("期初欠费", "owed", "欠费", "欠费金额"), False, "1280.50"),
        Column("credit", ("期初预存", "credit", "预存", "预存金额", "余额"), False, ""),
        Column("as_of", ("截至日期", "as_of", "接管日期", "期初日期"), True, "2026-12-01"),
    )),
    Kind("parking-spaces", "parking spaces (车位)", (
        Column("lot", ("车场", "lot", "车场编号", "停车场"), True, "north"),
        Column("code", ("车位编号", "code", "车位号", "车位"), True, "B1-023"),
        Column("kind", ("车位类型", "kind", "类型"), True, "产权"),
        Column("building", BUILDING.names, False, "b1"),  # the unit of an owned or rented one
        Column("unit", UNIT.names, False, "1-0301"),
        Column("valid_from", ("起租日期", "valid_from", "租期开始"), False, ""),
        Column("valid_to", ("到期日期", "valid_to", "租期结束"), False, ""),
    )),
    Kind("vehicles", "vehicles registered to units (业主车辆)", (
        Column("plate", ("车牌号", "plate", "车牌", "车牌号码"), True, "沪A12345"),
        BUILDING, UNIT,
        Column("plate_color", ("车牌颜色", "plate_color", "颜色"), False, "蓝"),
        Column("vehicle_class", ("车型", "vehicle_class", "车辆类型"), False, "小型车"),
        Column("new_energy", ("新能源", "new_energy"), False, "否"),
        Column("lot", ("车场", "lot"), False, ""),
        Column("space", ("车位", "space", "车位编号", "车位号"), False, "B1-023"),
    )),
)}

# Kinds other modules own: refused by name, with the reason, until those modules exist.
NOT_YET: dict[str, str] = {}

# Columns a spreadsheet often carries that no import reads: ignored, not a problem.
IGNORED = frozenset({"备注", "note", "notes", "remark", "remarks", "序号", "no", "#"})

_PARENS = re.compile(r"^(.*?)[(（](.*?)[)）]$")
_NOISE = re.compile(r"[\s_\-*]+")


def normalise_header(text: str) -> tuple[str, ...]:
    """The names a header cell stands for, normalised ("楼栋 (building)" → 楼栋, building)."""
    raw = text.strip().rstrip("*").strip()
    match = _PARENS.match(raw)
    parts = [match.group(1), match.group(2)] if match else [raw]
    return tuple(n for n in (_NOISE.sub("", p).lower() for p in parts) if n)


@dataclass(frozen=True)
class Header:
    """Where each field is in the file (index of its column) and how the file names it."""

    index: dict[str, int]
    names: dict[str, str]  # field → the header text as written

    def name(self, field: str) -> str:
        return self.names.get(field, field)


def map_header(kind: Kind, cells: Sequence[object], row: int) -> tuple[Header, list[Problem]]:
    lookup = {n: column for column in kind.columns
              for n in (normalise_header(name)[0] for name in column.names)}
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    for i, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip()
        if not text:
            continue
        candidates = normalise_header(text)
        column = next((lookup[n] for n in candidates if n in lookup), None)
        if column is None:
            if not set(candidates) & IGNORED:
                problems.append(Problem(row, text, "", "unknown column; the columns are "
                                        + ", ".join(c.header for c in kind.columns)))
            continue
        if column.field in index:
            problems.append(Problem(row, text, "", f"a second column for {column.field} "
                                    f"(the first is {names[column.field]!r})"))
            continue
        index[column.field] = i
        names[column.field] = text
    for column in kind.columns:
        if column.required and column.field not in index:
            problems.append(Problem(row, column.header, "", "required column is missing"))
    return Header(index, names), problems
