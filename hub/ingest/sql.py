"""The few statements whose SQL differs per backend: insert-or-ignore and counter increments;
and a plain insert of many rows that spends little on parameters.

SQLite and PostgreSQL spell "ignore a duplicate" ON CONFLICT DO NOTHING, MySQL and MariaDB
INSERT IGNORE. Where the backend returns rows from an INSERT (SQLite 3.35+, PostgreSQL,
MariaDB 10.5+), the rows returned are exactly the ones inserted; MySQL has no RETURNING, so
there each row goes alone and its rowcount tells.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Insert, Table, Update, bindparam, insert, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.store.device_tables import counters

Processor = Callable[[Any], Any] | None
_COMPILED: dict[tuple[str, str, str, tuple[str, ...]], tuple[str, list[Processor]]] = {}


async def insert_many(connection: AsyncConnection, table: Table, columns: Sequence[str],
                      rows: Sequence[Sequence[Any]]) -> None:
    """A plain INSERT of many rows given as tuples in `columns` order, for the telemetry rows
    (several per message), where SQLAlchemy's executemany spent more main-thread time
    building and processing parameters than the database spent on the rows. The statement
    is compiled once per backend; each value goes through its column's bind processor as
    SQLAlchemy would, once for a run of the same object (a message's time in each of its
    samples)."""
    if not rows:
        return
    sql, processors = _compiled(connection.dialect, table, ("insert", *columns), lambda: (
        insert(table).values({name: bindparam(name) for name in columns}), tuple(columns)))
    await connection.exec_driver_sql(sql, _bound(rows, processors))


async def update_many(connection: AsyncConnection, table: Table, key: str,
                      columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """UPDATE many rows by their key, each given as a tuple of `columns` then the key, as
    `insert_many` does it: the batch's device state rows, one per device, where
    SQLAlchemy's executemany cost 60 µs of CPU a row."""
    if not rows:
        return
    sql, processors = _compiled(connection.dialect, table, ("update", key, *columns), lambda: (
        update(table).where(table.c[key] == bindparam(f"b_{key}"))
        .values({name: bindparam(name) for name in columns}), (*columns, f"b_{key}")))
    await connection.exec_driver_sql(sql, _bound(rows, processors))


def _bound(rows: Sequence[Sequence[Any]], processors: list[Processor]) -> list[tuple[Any, ...]]:
    """The rows' values through their columns' bind processors; one call for a run of the
    same object in a column."""
    width = len(processors)
    last: list[Any] = [object()] * width
    done: list[Any] = [None] * width
    converting = [(i, p) for i, p in enumerate(processors) if p is not None]
    bound = []
    for row in rows:
        values = list(row)
        for i, process in converting:
            value = values[i]
            if value is not last[i]:
                last[i], done[i] = value, process(value)
            values[i] = done[i]
        bound.append(tuple(values))
    return bound


def _compiled(dialect: Dialect, table: Table, shape: tuple[str, ...],
              build: Callable[[], tuple[Insert | Update, tuple[str, ...]]],
              ) -> tuple[str, list[Processor]]:
    """A statement compiled once per backend and shape, with each positional parameter's
    bind processor (`build` gives the statement and its parameters' names in the order the
    rows give them)."""
    cache_key = (dialect.name, dialect.driver, table.name, shape)
    if cache_key not in _COMPILED:
        statement, order = build()
        compiled = statement.compile(dialect=dialect)
        if tuple(compiled.positiontup or ()) != order:  # all our drivers bind by position
            raise NotImplementedError(f"{dialect.name}+{dialect.driver}: not positional "
                                      f"as {order}")
        processors: list[Processor] = [
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in order]
        _COMPILED[cache_key] = (str(compiled), processors)
    return _COMPILED[cache_key]


def _ignoring(connection: AsyncConnection, table: Table) -> Insert:
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return insert(table).prefix_with("IGNORE")


async def insert_ignoring(connection: AsyncConnection, table: Table,
                          rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert the rows that do not collide with a unique key; ignore the rest."""
    if rows:
        await connection.execute(_ignoring(connection, table), list(rows))


async def insert_new(connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]],
                     key: Sequence[Column[Any]],
                     returning: bool | None = None) -> set[tuple[Any, ...]]:
    """Insert-or-ignore the rows; return the `key` values of those actually inserted.

    `returning=False` forces the row-at-a-time path (MySQL's), so tests can run it anywhere.
    """
    if not rows:
        return set()
    statement = _ignoring(connection, table)
    names = [column.name for column in key]
    if returning is None:
        returning = bool(connection.dialect.insert_returning)
    inserted: set[tuple[Any, ...]] = set()
    if returning:
        # executemany with RETURNING: SQLAlchemy sends multi-row VALUES ("insertmanyvalues")
        # from one cached compiled statement, within each backend's parameter limit.
        result = await connection.execute(statement.returning(*key), [dict(r) for r in rows])
        return {tuple(row) for row in result}
    for row in rows:
        result = await connection.execute(statement, dict(row))
        if result.rowcount == 1:
            inserted.add(tuple(row[name] for name in names))
    return inserted


async def increment(connection: AsyncConnection, deltas: Mapping[str, int]) -> None:
    """Add to named counters, creating them at zero. Names are sorted so that two workers
    lock the rows in the same order and never deadlock."""
    rows = [{"name": n, "value": v} for n, v in sorted(deltas.items()) if v]
    if not rows:
        return
    name = connection.dialect.name
    if name in ("postgresql", "sqlite"):
        dialect = postgresql if name == "postgresql" else sqlite
        upsert = dialect.insert(counters).values(rows)
        await connection.execute(upsert.on_conflict_do_update(
            index_elements=[counters.c.name],
            set_={"value": counters.c.value + upsert.excluded.value}))
        return
    my_upsert = mysql.insert(counters).values(rows)
    await connection.execute(my_upsert.on_duplicate_key_update(
        value=counters.c.value + my_upsert.inserted.value))
