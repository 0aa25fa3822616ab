"""The import command and its handler: check everything, then write all of it or nothing.

A dry run stops after the checks. A commit runs the modules' own handlers for residents and
readings (the ones the API's single-record routes use, so a national ID is sealed exactly as
they seal it) on one unit of work whose `commit` only flushes, and adds buildings and units
as their handlers build them (see `_handlers`); the one real commit comes at the end, with
the audit entry. Any refusal on the way rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Self, TypeVar

from hub.domain import commands as c
from hub.domain.audit import AuditAction, AuditEntry, entry_by
from hub.domain.commands import Command
from hub.domain.errors import DomainError
from hub.domain.property import Building, Orientation, Unit, UnitStatus
from hub.handlers import residents
from hub.handlers.billing import RecordReading, record_reading
from hub.handlers.billing_opening import RecordOpeningBalance, record_opening_balance
from hub.handlers.scope import managed_site
from hub.imports.parking_resolve import PARKING_KINDS, ParkingResolver, parking_steps
from hub.imports.parse import Parsed
from hub.imports.report import Problem, Report
from hub.imports.resolve import Resolver
from hub.ports import Clock, UnitOfWork
from hub.security.pii import PiiVault

T = TypeVar("T")

# A handler's field name → the import's column.
FIELDS = {"number": "unit", "moved_in": "move_in", "residencies.unit_id": "unit",
          "unit_id": "unit", "amount": "owed"}


@dataclass(frozen=True)
class RunImport(Command):
    site_id: int
    parsed: Parsed = field(repr=False)
    commit: bool = False


class _OneTransaction:
    """The unit of work the modules' handlers see during an import: their `commit` flushes
    (ids, unique checks) and the import commits once, or not at all."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def commit(self) -> None:
        await self._uow.flush()

    async def rollback(self) -> None:
        await self._uow.rollback()

    async def flush(self) -> None:
        await self._uow.flush()

    def add(self, entity: object) -> None:
        self._uow.add(entity)

    async def delete(self, entity: object) -> None:
        await self._uow.delete(entity)

    async def get(self, kind: type[T], ident: Any) -> T | None:
        return await self._uow.get(kind, ident)

    async def find(self, kind: type[T], **equal: Any) -> Sequence[T]:
        return await self._uow.find(kind, **equal)

    async def find_one(self, kind: type[T], **equal: Any) -> T | None:
        return await self._uow.find_one(kind, **equal)

    def audit(self, entry: AuditEntry) -> None:
        self._uow.audit(entry)

    def emit(self, event: object) -> None:
        self._uow.emit(event)

    def collect_events(self) -> list[object]:
        return self._uow.collect_events()


async def run_import(cmd: RunImport, uow: UnitOfWork, vault: PiiVault, clock: Clock) -> Report:
    await managed_site(uow, cmd.actor, cmd.site_id)
    parsed = cmd.parsed
    report = Report(parsed.kind, rows=parsed.count, problems=list(parsed.problems),
                    header_row=parsed.header_row)
    if parsed.count == 0 and report.problems:  # the file could not be read as a table
        return report
    resolver = ParkingResolver if parsed.kind in PARKING_KINDS else Resolver
    plan = await resolver(uow, cmd.actor, cmd.site_id, parsed.header, vault).resolve(
        parsed.kind, parsed.rows, parsed.refs)
    report.problems = parsed.order(report.problems + plan.problems)
    report.unchanged, report.created = plan.unchanged, len(plan.steps)
    if report.problems or not cmd.commit:
        return report
    handlers = _handlers(cmd.site_id, vault, clock)
    tx = _OneTransaction(uow)
    registered: dict[int, int] = {}  # row → the resident its step registered
    row = 0
    try:
        for step in plan.steps:
            row, command = step.row, step.command
            if step.joins is not None:
                command = replace(command, resident_id=registered[step.joins])
            result = await handlers[type(command)](command, tx)
            if isinstance(command, c.RegisterResident):
                registered[step.row] = result
        row = 0  # what was only added is written now: a unique index names no one row
        await tx.flush()
    except DomainError as err:
        await uow.rollback()
        column = FIELDS.get(err.field or "", err.field or "")
        report.problems.append(Problem(row, parsed.header.name(column), "", err.message))
        report.created = 0
        return report
    # Counts only: the rows are personal data, the file's name may be too.
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.DATA_IMPORTED, f"site:{cmd.site_id}",
                       {"kind": parsed.kind, "rows": str(report.rows),
                        "created": str(report.created), "unchanged": str(report.unchanged)}))
    await uow.commit()
    report.committed = True
    return report


def _handlers(site_id: int, vault: PiiVault,
              clock: Clock) -> dict[type, Callable[[Any, UnitOfWork], Any]]:
    """Residents, readings and opening balances go through their modules' handlers, one row
    at a time (a sealed national ID is bound to the resident's id; a reading's period and an
    opening balance's bill are the billing module's call). Buildings and units, thousands at
    a time, are built as premises.create_building and create_unit build them and flushed
    together: the resolver has made those handlers' checks (whole site, code and number free,
    floor in the building), and row by row the write lock of SQLite would be held for
    minutes (10,000 units: 24 s against 3 s)."""

    async def building(command: c.CreateBuilding, uow: UnitOfWork) -> None:
        uow.add(Building(site_id=command.site_id, code=command.code, name=command.name,
                         floors=command.floors))

    async def unit(command: c.CreateUnit, uow: UnitOfWork) -> None:
        uow.add(Unit(
            site_id=site_id, building_id=command.building_id, number=command.number,
            floor=command.floor, gross_area=command.gross_area, inner_area=command.inner_area,
            layout=command.layout,
            orientation=Orientation(command.orientation) if command.orientation else None,
            status=UnitStatus(command.status)))

    async def register(command: c.RegisterResident, uow: UnitOfWork) -> int:
        return await residents.register_resident(command, uow, vault)

    async def reading(command: RecordReading, uow: UnitOfWork) -> int:
        return await record_reading(command, uow, clock)

    async def opening(command: RecordOpeningBalance, uow: UnitOfWork) -> int:
        return await record_opening_balance(command, uow, clock)

    return {c.CreateBuilding: building, c.CreateUnit: unit, c.RegisterResident: register,
            c.AddResidency: residents.add_residency, RecordReading: reading,
            RecordOpeningBalance: opening, **parking_steps(site_id)}


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {RunImport: run_import}
