"""Rows against the database: what exists already (identical: unchanged; different: a problem),
what is missing (an unknown building), and, for the rest, the command that will write it.

Nothing here writes. A plan step is a row number and a command for the modules' own handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hub.domain import commands as c
from hub.domain.accounts import Actor
from hub.domain.billing.ledger import OPENING_PERIOD, BalanceEntry, BalanceKind, Bill
from hub.domain.billing.meters import MeterReading, ReadingSource
from hub.domain.national_id import mask_phone
from hub.domain.property import Building, Unit
from hub.domain.residents import Residency, Resident
from hub.handlers.billing import RecordReading
from hub.handlers.billing_opening import RecordOpeningBalance
from hub.imports.columns import Header
from hub.imports.parse import Ref
from hub.imports.report import Problem
from hub.imports.rows import BuildingRow, OpeningRow, ReadingRow, ResidentRow, Row, UnitRow
from hub.ports import UnitOfWork
from hub.security.pii import PiiVault


@dataclass(frozen=True)
class Step:
    row: int
    command: Any  # a command of hub.domain.commands or hub.handlers.billing
    joins: int | None = None  # AddResidency for the resident an earlier step registers


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)


class Resolver:
    def __init__(self, uow: UnitOfWork, actor: Actor, site_id: int, header: Header,
                 vault: PiiVault) -> None:
        self.uow, self.actor, self.site_id = uow, actor, site_id
        self.header, self.vault = header, vault
        self.plan = Plan()
        self._buildings: dict[str, Building] = {}
        self._units: dict[tuple[int, str], Unit] = {}
        self._new_people: dict[str, int] = {}  # blind index → the row that registers them
        self._people: dict[str, Resident] = {}  # blind index → stored resident
        self._unnumbered: dict[str, list[Resident]] = {}  # name → stored, without a number
        self._readings: dict[tuple[int, str, str], MeterReading] = {}
        self._opening_bills: dict[int, Bill] = {}  # unit id → its opening arrears

    async def resolve(self, kind: str, rows: Sequence[Row], refs: Sequence[Ref] = ()) -> Plan:
        await self._read_stored(kind, rows)
        for row in rows:
            if isinstance(row, BuildingRow):
                self._building(row)
            elif isinstance(row, UnitRow):
                self._unit(row)
            elif isinstance(row, ResidentRow):
                await self._resident(row)
            elif isinstance(row, ReadingRow):
                self._reading(row)
            elif isinstance(row, OpeningRow):
                await self._opening(row)
        self.check_refs(refs)
        return self.plan

    async def _read_stored(self, kind: str, rows: Sequence[Row]) -> None:
        """Read once per file, not once per row: a dry run of 20,000 rows is a few queries."""
        self._buildings = {b.code: b for b in await self.uow.find(Building, site_id=self.site_id)}
        if kind != "buildings":
            self._units = {(u.building_id, u.number): u
                           for u in await self.uow.find(Unit, site_id=self.site_id)}
        if kind == "residents":
            for person in await self.uow.find(Resident, site_id=self.site_id):
                if person.national_id_index is not None:
                    self._people[person.national_id_index] = person
                else:
                    self._unnumbered.setdefault(person.name, []).append(person)
        if kind == "opening-balances":
            self._opening_bills = {b.unit_id: b for b in await self.uow.find(
                Bill, site_id=self.site_id, period=OPENING_PERIOD)}
        for period in {r.period for r in rows if isinstance(r, ReadingRow)}:
            for reading in await self.uow.find(MeterReading, site_id=self.site_id,
                                               period=period):
                self._readings[(reading.unit_id, reading.meter, reading.period)] = reading

    def check_refs(self, refs: Sequence[Ref]) -> None:
        """Rows with problems of their own: is what they name there?"""
        for ref in refs:
            if ref.building is None:
                continue
            building = self._buildings.get(ref.building)
            if building is None:
                self._problem(ref.row, "building", ref.building,
                              "no building with this code in the site")
            elif ref.unit is not None and (building.id, ref.unit) not in self._units:
                self._problem(ref.row, "unit", ref.unit,
                              f"no unit with this number in building {building.code}")

    def _problem(self, row: int, column: str, value: object, reason: str) -> None:
        self.plan.problems.append(Problem(row, self.header.name(column), str(value), reason))

    def _differs(self, row: int, label: str, pairs: dict[str, tuple[object, object]]) -> bool:
        """Each field the file gives that differs from the stored record is a problem."""
        different = {k: v for k, v in pairs.items() if v[0] is not None and v[0] != v[1]}
        for column, (given, stored) in different.items():
            self._problem(row, column, given, f"{label} exists with {column} {stored}; "
                                              "an import does not change existing records")
        return bool(different)

    def _building(self, row: BuildingRow) -> None:
        stored = self._buildings.get(row.code)
        if stored is None:
            self.plan.steps.append(Step(row.number, c.CreateBuilding(
                self.actor, site_id=self.site_id, code=row.code, name=row.name,
                floors=row.floors)))
        elif not self._differs(row.number, f"building {row.code}", {
                "name": (row.name, stored.name), "floors": (row.floors, stored.floors)}):
            self.plan.unchanged += 1

    def _find_unit(self, row: UnitRow | ResidentRow | ReadingRow | OpeningRow
                   ) -> tuple[Building | None, Unit | None]:
        building = self._buildings.get(row.building)
        if building is None:
            self._problem(row.number, "building", row.building,
                          "no building with this code in the site")
            return None, None
        assert building.id is not None
        return building, self._units.get((building.id, row.unit))

    def _unit(self, row: UnitRow) -> None:
        building, stored = self._find_unit(row)
        if building is None:
            return
        assert building.id is not None
        if row.floor == 0 or row.floor > building.floors or row.floor < -5:
            self._problem(row.number, "floor", row.floor,
                          f"building {building.code} has floors -5 to {building.floors}, no 0")
            return
        if stored is None:
            self.plan.steps.append(Step(row.number, c.CreateUnit(
                self.actor, building_id=building.id, number=row.unit, floor=row.floor,
                gross_area=row.gross_area, inner_area=row.inner_area, layout=row.layout or "",
                orientation=row.orientation.value if row.orientation else None,
                status=(row.status or "vacant"))))
        elif not self._differs(row.number, f"unit {row.unit} of {building.code}", {
                "floor": (row.floor, stored.floor),
                "gross_area": (row.gross_area, stored.gross_area),
                "inner_area": (row.inner_area, stored.inner_area),
                "layout": (row.layout, stored.layout),
                "orientation": (row.orientation, stored.orientation),
                "status": (row.status, stored.status)}):
            self.plan.unchanged += 1

    async def _resident(self, row: ResidentRow) -> None:
        building, unit = self._find_unit(row)
        if building is None:
            return
        if unit is None:
            self._problem(row.number, "unit", row.unit,
                          f"no unit with this number in building {building.code}")
            return
        assert unit.id is not None
        stored, earlier = await self._person(row, unit.id)
        wanted = c.ResidencyIn(unit.id, row.relation, row.move_in)
        if earlier is not None:  # the same new person in an earlier row of the file
            self.plan.steps.append(Step(row.number, c.AddResidency(self.actor, 0, wanted),
                                        joins=earlier))
            return
        if stored is None:
            self.plan.steps.append(Step(row.number, c.RegisterResident(
                self.actor, site_id=self.site_id, name=row.name, phone=row.phone or "",
                national_id=row.national_id, residencies=(wanted,))))
            return
        if self._differs(row.number, "this resident", {"name": (row.name, stored.name)}):
            return
        if row.phone is not None and row.phone != stored.phone:
            self._problem(row.number, "phone", mask_phone(row.phone),
                          "this resident exists with another phone; an import does not "
                          "change existing records")
            return
        assert stored.id is not None
        await self._residency(row, stored.id, wanted)

    async def _person(self, row: ResidentRow, unit_id: int) -> tuple[Resident | None, int | None]:
        """The stored resident this row names, or the row that registers them in this file."""
        if row.national_id is not None:
            index = self.vault.blind_index(row.national_id)
            stored = self._people.get(index)
            if stored is None:
                earlier = self._new_people.setdefault(index, row.number)
                return None, (earlier if earlier != row.number else None)
            return stored, None
        # Without a number, a person is known by name in the unit, as long as no number is kept
        for resident in self._unnumbered.get(row.name, []):
            if resident.id is None:
                continue
            lives = await self.uow.find_one(Residency, resident_id=resident.id, unit_id=unit_id)
            if lives is not None:
                return resident, None
        return None, None

    async def _residency(self, row: ResidentRow, resident_id: int,
                         wanted: c.ResidencyIn) -> None:
        kept = await self.uow.find(Residency, resident_id=resident_id, unit_id=wanted.unit_id)
        if not kept:
            self.plan.steps.append(Step(row.number, c.AddResidency(self.actor, resident_id,
                                                                   wanted)))
            return
        same = [r for r in kept if r.relation == row.relation and r.moved_in == row.move_in]
        if same:
            self.plan.unchanged += 1
            return
        latest = max(kept, key=lambda r: r.moved_in)
        if latest.relation != row.relation:
            self._problem(row.number, "relation", row.relation.value,
                          f"this resident is {latest.relation.value} of this unit already")
        else:
            self._problem(row.number, "move_in", row.move_in.isoformat(),
                          f"this resident moved into this unit on {latest.moved_in}")

    def _reading(self, row: ReadingRow) -> None:
        building, unit = self._find_unit(row)
        if building is None:
            return
        if unit is None:
            self._problem(row.number, "unit", row.unit,
                          f"no unit with this number in building {building.code}")
            return
        assert unit.id is not None
        stored = self._readings.get((unit.id, row.meter, row.period))
        if stored is None:
            self.plan.steps.append(Step(row.number, RecordReading(
                self.actor, unit_id=unit.id, meter=row.meter, value=row.value,
                read_on=row.read_on, period=row.period, source=ReadingSource.IMPORT)))
        elif not self._differs(row.number, f"a {row.meter} reading for {row.period}", {
                "value": (row.value, stored.value), "read_on": (row.read_on, stored.read_on)}):
            self.plan.unchanged += 1

    async def _opening(self, row: OpeningRow) -> None:
        building, unit = self._find_unit(row)
        if building is None:
            return
        if unit is None or unit.id is None:
            self._problem(row.number, "unit", row.unit,
                          f"no unit with this number in building {building.code}")
            return
        arrears = self._opening_bills.get(unit.id)
        # (`kind` is find's own parameter: entries are filtered here, as billing does.)
        credits = [e for e in await self.uow.find(BalanceEntry, unit_id=unit.id)
                   if e.kind == BalanceKind.OPENING]
        if arrears is None and not credits:
            self.plan.steps.append(Step(row.number, RecordOpeningBalance(
                self.actor, unit_id=unit.id, as_of=row.as_of, owed=row.owed,
                credit=row.credit)))
            return
        stored_owed = arrears.total if arrears is not None else Decimal(0)
        stored_credit = sum((e.amount for e in credits), Decimal(0))
        stored_as_of = arrears.due_date if arrears is not None else None
        label = f"the opening balance of unit {row.unit} of {building.code}"
        if not self._differs(row.number, label, {
                "owed": (row.owed, stored_owed), "credit": (row.credit, stored_credit),
                "as_of": (row.as_of if arrears is not None else None, stored_as_of)}):
            self.plan.unchanged += 1
