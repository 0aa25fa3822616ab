"""Parking spaces and vehicles against the database: the lot, building, unit and space each
row names; a stored record identical to its row is unchanged, one that differs a problem;
the rest become the steps that write them (added in one transaction by the import)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hub.domain.parking.plates import is_new_energy
from hub.domain.parking.registry import Lot, Space, SpaceKind, Vehicle
from hub.domain.parking.tariff import PlateColor, VehicleClass
from hub.domain.property import Unit
from hub.handlers.parking_plates import RegisterVehicle
from hub.handlers.parking_registry import CreateSpace
from hub.imports.parking_rows import SpaceRow, VehicleRow
from hub.imports.parse import Ref
from hub.imports.resolve import Plan, Resolver, Step
from hub.imports.rows import Row
from hub.ports import UnitOfWork

PARKING_KINDS = frozenset({"parking-spaces", "vehicles"})


class ParkingResolver(Resolver):
    """The import's resolver, knowing the site's lots, spaces and vehicles besides its
    buildings and units."""

    async def resolve(self, kind: str, rows: Sequence[Row], refs: Sequence[Ref] = ()) -> Plan:
        await self._read_stored(kind, rows)
        self._lots = {lot.code: lot for lot in await self.uow.find(Lot, site_id=self.site_id)}
        self._spaces = list(await self.uow.find(Space, site_id=self.site_id))
        self._vehicles = {v.plate: v for v in await self.uow.find(Vehicle, site_id=self.site_id)}
        self._unit_numbers = {u.id: u.number for u in self._units.values()}
        for row in rows:
            if isinstance(row, SpaceRow):
                self._space(row)
            elif isinstance(row, VehicleRow):
                self._vehicle(row)
        self.check_refs(refs)
        return self.plan

    def _unit_named(self, row: SpaceRow | VehicleRow) -> Unit | None:
        """The unit of the row's building and number; a problem when either is unknown."""
        building = self._buildings.get(row.building or "")
        if building is None:
            self._problem(row.number, "building", row.building,
                          "no building with this code in the site")
            return None
        assert building.id is not None
        unit = self._units.get((building.id, row.unit or ""))
        if unit is None:
            self._problem(row.number, "unit", row.unit,
                          f"no unit with this number in building {building.code}")
        return unit

    def _space(self, row: SpaceRow) -> None:
        lot = self._lots.get(row.lot)
        if lot is None:
            self._problem(row.number, "lot", row.lot, "no lot with this code in the site")
        unit = self._unit_named(row) if row.building is not None else None
        if lot is None or (row.building is not None and unit is None):
            return
        unit_id = unit.id if unit is not None else None
        stored = next((s for s in self._spaces if s.lot_id == lot.id and s.code == row.code),
                      None)
        if stored is None:
            assert lot.id is not None
            self.plan.steps.append(Step(row.number, CreateSpace(
                self.actor, lot_id=lot.id, code=row.code, kind=row.kind, unit_id=unit_id,
                valid_from=row.valid_from, valid_to=row.valid_to)))
        elif not self._differs(row.number, f"space {row.code} of lot {lot.code}", {
                "kind": (row.kind, stored.kind),
                "unit": (row.unit, self._unit_numbers.get(stored.unit_id)),
                "valid_from": (row.valid_from, stored.valid_from),
                "valid_to": (row.valid_to, stored.valid_to)}):
            self.plan.unchanged += 1

    def _vehicle(self, row: VehicleRow) -> None:
        unit = self._unit_named(row)
        named, space = self._space_named(row, unit)
        if unit is None or not named:
            return
        stored = self._vehicles.get(row.plate)
        if stored is None:
            assert unit.id is not None
            self.plan.steps.append(Step(row.number, RegisterVehicle(
                self.actor, unit_id=unit.id, plate=row.plate, plate_color=row.plate_color,
                vehicle_class=row.vehicle_class or VehicleClass.SMALL,
                new_energy=row.new_energy, space_id=space.id if space else None)))
            return
        stored_space = next((s.code for s in self._spaces if s.id == stored.space_id), None)
        if not self._differs(row.number, f"vehicle {row.plate}", {
                "unit": (row.unit, self._unit_numbers.get(stored.unit_id)),
                "plate_color": (row.plate_color, stored.plate_color),
                "vehicle_class": (row.vehicle_class, stored.vehicle_class),
                "new_energy": (row.new_energy, stored.new_energy),
                "space": (row.space, stored_space)}):
            self.plan.unchanged += 1

    def _space_named(self, row: VehicleRow, unit: Unit | None) -> tuple[bool, Space | None]:
        """(False, None) when the space the row names is a problem; else (True, the unit's
        space, or None when the row names none)."""
        if row.space is None:
            return True, None
        lot_ids = {lot.id for code, lot in self._lots.items() if row.lot in (None, code)}
        found = [s for s in self._spaces if s.code == row.space and s.lot_id in lot_ids]
        if not found:
            where = f"lot {row.lot}" if row.lot else "the site"
            self._problem(row.number, "space", row.space, f"no space with this code in {where}")
            return False, None
        if len(found) > 1:
            self._problem(row.number, "space", row.space,
                          "spaces of several lots have this code: give the lot")
            return False, None
        space = found[0]
        if unit is not None and (space.kind == SpaceKind.PUBLIC or space.unit_id != unit.id):
            self._problem(row.number, "space", row.space,
                          f"not a space of unit {row.unit}")
            return False, None
        return True, space


def parking_steps(site_id: int) -> dict[type, Callable[[Any, UnitOfWork], Any]]:
    """The steps' writes, added as the handlers build the records: the resolver has made
    their checks for the whole file (lot, unit and space in the site, codes and plates
    free), and the import's own audit entry stands for all of them."""

    async def space(command: CreateSpace, uow: UnitOfWork) -> None:
        uow.add(Space(site_id=site_id, lot_id=command.lot_id, code=command.code,
                      kind=command.kind, unit_id=command.unit_id,
                      valid_from=command.valid_from, valid_to=command.valid_to))

    async def vehicle(command: RegisterVehicle, uow: UnitOfWork) -> None:
        green = is_new_energy(command.plate)
        uow.add(Vehicle(site_id=site_id, unit_id=command.unit_id, plate=command.plate,
                        plate_color=command.plate_color
                        or (PlateColor.GREEN if green else PlateColor.BLUE),
                        vehicle_class=command.vehicle_class,
                        new_energy=green if command.new_energy is None else command.new_energy,
                        space_id=command.space_id))

    return {CreateSpace: space, RegisterVehicle: vehicle}
