"""From a file's bytes to typed rows and every problem the file shows without the database.

Pure and synchronous: the API runs it in a worker thread, the command line directly.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from hub.domain.errors import Invalid
from hub.imports.cells import RowCells
from hub.imports.columns import KINDS, NOT_YET, Header, Kind, map_header
from hub.imports.parking_rows import PARKING_KEYS
from hub.imports.reading import Table, Unreadable, read_table
from hub.imports.report import Problem
from hub.imports.rows import (
    ROW_READERS,
    BuildingRow,
    OpeningRow,
    ReadingRow,
    ResidentRow,
    Row,
    UnitRow,
)

MAX_ROWS = 50_000
MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Ref:
    """What a row with problems names, so that an unknown building or unit in it is reported
    too: the dry run tells everything wrong with a row, not its first problem."""

    row: int
    building: str | None
    unit: str | None


@dataclass
class Parsed:
    kind: str
    rows: list[Row] = field(default_factory=list)  # the rows without a problem of their own
    count: int = 0  # data rows in the file
    problems: list[Problem] = field(default_factory=list)
    header: Header = field(default_factory=lambda: Header({}, {}))
    header_row: int = 1
    refs: list[Ref] = field(default_factory=list)  # of the rows with problems

    def order(self, problems: list[Problem]) -> list[Problem]:
        """By row, and in a row by the file's column order."""
        position = {self.header.names[f]: i for f, i in self.header.index.items()}
        return sorted(problems, key=lambda p: (p.row, position.get(p.column, len(position))))


def kind_named(name: str) -> Kind:
    """The kind, or Invalid naming the kinds there are (and why some are not yet)."""
    if name in NOT_YET:
        raise Invalid(NOT_YET[name], field="kind")
    if name not in KINDS:
        raise Invalid(f"no import of {name!r}; the kinds are " + ", ".join(KINDS),
                      field="kind")
    return KINDS[name]


def parse(kind_name: str, data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> Parsed:
    kind = kind_named(kind_name)
    parsed = Parsed(kind.name)
    if len(data) > MAX_BYTES:
        parsed.problems.append(Problem(0, "file", "", f"larger than {MAX_BYTES} bytes"))
        return parsed
    try:
        table = read_table(data, filename, max_rows + 1)
    except Unreadable as err:
        parsed.problems.append(Problem(0, "file", "", str(err)))
        return parsed
    if not table.rows:
        parsed.problems.append(Problem(0, "file", "", "the file is empty: no header row"))
        return parsed
    _read_rows(kind, table, parsed, max_rows)
    parsed.problems.sort(key=lambda p: p.row)  # stable: a row's problems in column order
    return parsed


def _read_rows(kind: Kind, table: Table, parsed: Parsed, max_rows: int) -> None:
    header_row, header_cells = table.rows[0]
    parsed.header_row = header_row
    parsed.header, parsed.problems[:] = map_header(kind, header_cells, header_row)
    body = table.rows[1:]
    if len(body) > max_rows or table.more:
        parsed.problems.append(Problem(header_row, "file", "",
                                       f"more than {max_rows} rows: split the file"))
        return
    parsed.count = len(body)
    if parsed.problems:  # a missing or unknown column: the rows would only echo it
        return
    reader = ROW_READERS[kind.name]
    for number, cells in body:
        row_cells = RowCells(kind, parsed.header, number, cells)
        row = reader(row_cells)
        parsed.problems.extend(row_cells.problems)
        if row is not None:
            parsed.rows.append(row)
        elif kind.name != "buildings":
            parsed.refs.append(_ref(kind, row_cells))
    _duplicates(parsed)


def _ref(kind: Kind, cells: RowCells) -> Ref:
    """The building and unit a row names, unless the cell itself is the row's problem."""
    spoilt = {p.column for p in cells.problems}

    def named(field: str) -> str | None:
        value = cells.raw(field)
        if value is None or cells.header.name(field) in spoilt:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    building = named("building")
    unit = named("unit") if kind.name != "units" else None
    return Ref(cells.number, building.lower() if building else None, unit)


def _duplicates(parsed: Parsed) -> None:
    """The same record twice in one file: the later rows are problems, named by the first."""
    key: Callable[[Row], Hashable]
    column: str
    if parsed.kind == "buildings":
        key, column = (lambda r: r.code if isinstance(r, BuildingRow) else None), "code"
    elif parsed.kind == "units":
        key, column = (lambda r: (r.building, r.unit) if isinstance(r, UnitRow) else None), \
            "unit"
    elif parsed.kind == "residents":
        key, column = _resident_key, "unit"
        _same_person(parsed)
    elif parsed.kind == "meter-readings":
        key, column = (lambda r: (r.building, r.unit, r.meter, r.period)
                       if isinstance(r, ReadingRow) else None), "period"
    elif parsed.kind in PARKING_KEYS:
        key, column = PARKING_KEYS[parsed.kind]
    else:  # opening balances: once per unit
        key, column = (lambda r: (r.building, r.unit) if isinstance(r, OpeningRow) else None), \
            "unit"
    first: dict[Hashable, int] = {}
    kept: list[Row] = []
    for row in parsed.rows:
        seen = first.setdefault(key(row), row.number)
        if seen != row.number:
            parsed.problems.append(Problem(row.number, parsed.header.name(column),
                                           _value(row, column),
                                           f"duplicate: the same record as row {seen}"))
        else:
            kept.append(row)
    parsed.rows = kept
    parsed.problems.sort(key=lambda p: p.row)


def _resident_key(row: Row) -> Hashable:
    assert isinstance(row, ResidentRow)
    return (row.national_id or ("name", row.name), row.building, row.unit)


def _same_person(parsed: Parsed) -> None:
    """Rows with one national ID are one person: their names and phones must agree."""
    first: dict[str, ResidentRow] = {}
    kept: list[Row] = []
    for row in parsed.rows:
        assert isinstance(row, ResidentRow)
        if row.national_id is None:
            kept.append(row)
            continue
        earlier = first.setdefault(row.national_id, row)
        if earlier.name != row.name:
            parsed.problems.append(Problem(row.number, parsed.header.name("name"), row.name,
                                           f"row {earlier.number} has this national_id with "
                                           f"the name {earlier.name!r}"))
        elif row.phone and earlier.phone and row.phone != earlier.phone:
            parsed.problems.append(Problem(row.number, parsed.header.name("phone"), "",
                                           f"row {earlier.number} has this national_id with "
                                           "another phone"))
        else:
            kept.append(row)
    parsed.rows = kept


def _value(row: Row, column: str) -> str:
    return str(getattr(row, column, ""))
