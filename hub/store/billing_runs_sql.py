"""What a billing run reads and writes in bulk, in the unit of work's own transaction.

A run of 10,000 units reads only what it needs (the site's units and stays, this period's and
the latest earlier readings, the period's bills and the keys already billed in them, the bills
overdue on `as_of`) as plain rows, and writes its new bills and lines with Core multi-row
inserts instead of one ORM INSERT per row. The unique keys (unit, period) and (bill, key) stay
the guard: two commits racing meet there and one gets a Conflict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.billing.ledger import Bill
from hub.domain.billing.run import Readings
from hub.domain.errors import Conflict
from hub.ports import UnitOfWork
from hub.store.billing_tables import bill_lines, bills, meter_readings
from hub.store.tables import residencies, units

CHUNK = 1000  # rows per INSERT statement (SQLite allows 32,766 parameters; a line has 12)


def session_of(uow: UnitOfWork) -> AsyncSession:
    """The SQL unit of work's session (its transaction)."""
    session = getattr(uow, "session", None)
    if not isinstance(session, AsyncSession):
        raise TypeError("billing runs need the SQL unit of work")
    return session


class SqlBillingRuns:
    """The `run_store` dependency of hub.handlers.billing_runs."""

    async def units(self, uow: UnitOfWork, site_id: int) -> list[Any]:
        """(id, building_id, number, gross_area, inner_area, status) of the site's units."""
        return list(await session_of(uow).execute(
            select(units.c.id, units.c.building_id, units.c.number, units.c.gross_area,
                   units.c.inner_area, units.c.status)
            .where(units.c.site_id == site_id).order_by(units.c.id)))

    async def stays(self, uow: UnitOfWork,
                    site_id: int) -> dict[int, list[tuple[date, date | None]]]:
        found: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
        for unit_id, moved_in, moved_out in await session_of(uow).execute(
                select(residencies.c.unit_id, residencies.c.moved_in, residencies.c.moved_out)
                .join(units, units.c.id == residencies.c.unit_id)
                .where(units.c.site_id == site_id)):
            found[unit_id].append((moved_in, moved_out))
        return found

    async def readings(self, uow: UnitOfWork, site_id: int, label: str,
                       meters: Iterable[str]) -> dict[tuple[int, str], Readings]:
        """This period's reading and the latest earlier one, per unit and meter: two reads
        however long the site's history."""
        meters = sorted(set(meters))
        if not meters:
            return {}
        session = session_of(uow)
        mine = and_(meter_readings.c.site_id == site_id, meter_readings.c.meter.in_(meters))
        current = {(u, m): v for u, m, v in await session.execute(
            select(meter_readings.c.unit_id, meter_readings.c.meter, meter_readings.c.value)
            .where(mine, meter_readings.c.period == label))}
        latest = (select(meter_readings.c.unit_id, meter_readings.c.meter,
                         func.max(meter_readings.c.period).label("period"))
                  .where(mine, meter_readings.c.period < label)
                  .group_by(meter_readings.c.unit_id, meter_readings.c.meter).subquery())
        previous = {(u, m): v for u, m, v in await session.execute(
            select(meter_readings.c.unit_id, meter_readings.c.meter, meter_readings.c.value)
            .join(latest, and_(latest.c.unit_id == meter_readings.c.unit_id,
                               latest.c.meter == meter_readings.c.meter,
                               latest.c.period == meter_readings.c.period)))}
        return {key: Readings(current.get(key), previous.get(key))
                for key in current.keys() | previous.keys()}

    async def period_bills(self, uow: UnitOfWork, site_id: int,
                           label: str) -> dict[int, int]:
        """unit id → id of its bill of this period."""
        return {u: b for u, b in await session_of(uow).execute(
            select(bills.c.unit_id, bills.c.id)
            .where(bills.c.site_id == site_id, bills.c.period == label))}

    async def load_bills(self, uow: UnitOfWork, ids: Sequence[int]) -> list[Bill]:
        """Bills as entities of the session (to change them with their version check)."""
        session, found = session_of(uow), list[Bill]()
        for start in range(0, len(ids), CHUNK):
            found.extend((await session.scalars(
                select(Bill).where(bills.c.id.in_(ids[start:start + CHUNK])))).all())
        return found

    async def stored_keys(self, uow: UnitOfWork, bill_of: Mapping[int, int],
                          fee_item_ids: Iterable[int]) -> dict[int, set[str]]:
        """Keys already billed for these fee items in the given bills (unit id → bill id of
        the period), per unit: read by bill id, along the (bill, key) unique index."""
        unit_of = {bill_id: unit_id for unit_id, bill_id in bill_of.items()}
        ids, items = sorted(unit_of), sorted(set(fee_item_ids))
        keys: dict[int, set[str]] = defaultdict(set)
        session = session_of(uow)
        for start in range(0, len(ids), CHUNK):
            for bill_id, key in await session.execute(
                    select(bill_lines.c.bill_id, bill_lines.c.key)
                    .where(bill_lines.c.bill_id.in_(ids[start:start + CHUNK]),
                           bill_lines.c.fee_item_id.in_(items))):
                keys[unit_of[bill_id]].add(key)
        return keys

    async def owing_units(self, uow: UnitOfWork, site_id: int, as_of: date) -> set[int]:
        """Units with a bill due before `as_of` and not settled (the arrears flag)."""
        outstanding = bills.c.total - bills.c.paid - bills.c.written_off
        return set((await session_of(uow).scalars(
            select(bills.c.unit_id).distinct().where(
                bills.c.site_id == site_id, bills.c.due_date < as_of, outstanding > 0))).all())

    async def overdue_bills(self, uow: UnitOfWork, site_id: int, as_of: date) -> list[Bill]:
        """The site's bills due before `as_of` and not settled (arrears), as entities."""
        outstanding = bills.c.total - bills.c.paid - bills.c.written_off
        return list((await session_of(uow).scalars(
            select(Bill).where(bills.c.site_id == site_id, bills.c.due_date < as_of,
                               outstanding > 0))).all())

    async def insert_bills(self, uow: UnitOfWork, rows: Sequence[dict[str, Any]],
                           order: Sequence[int]) -> dict[int, int]:
        """New bills (dicts of the `bills` columns); unit id → new bill id, read back by the
        (unit, period) key, so no backend needs RETURNING of many rows."""
        await self._insert(uow, bills, [{**row, "version": 1} for row in rows])
        if not rows:
            return {}
        label, site_id = rows[0]["period"], rows[0]["site_id"]
        stored = await self.period_bills(uow, site_id, label)
        return {unit_id: stored[unit_id] for unit_id in order}

    async def insert_lines(self, uow: UnitOfWork, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(uow, bill_lines, rows)

    async def _insert(self, uow: UnitOfWork, table: Any,
                      rows: Sequence[dict[str, Any]]) -> None:
        session = session_of(uow)
        try:
            for start in range(0, len(rows), CHUNK):
                await session.execute(insert(table), list(rows[start:start + CHUNK]))
        except IntegrityError:
            await session.rollback()
            raise Conflict("the change conflicts with stored data") from None
