"""Telemetry after it is stored: 1-minute and 1-hour rollups, retention, device names.

Rollups are incremental by raw row id. A run looks at the raw rows added since the last run,
finds the (device, metric, bucket) triples they fall into, and recomputes each of those buckets
whole from its source (raw rows for 1-minute buckets, 1-minute buckets for 1-hour ones), then
upserts it. Recomputing instead of adding makes a rerun harmless and lets a late row in a
closed bucket correct it.

Ids are handed out when a row is inserted, not when it commits: on PostgreSQL and MariaDB a
transaction still open during a run may later commit ids below what that run saw. So the
watermark lags one run behind (`done` is the previous run's `seen`) and every raw row is looked
at by two runs; a row committed more than a whole run interval after its id was drawn is missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, delete, func, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from hub.domain.observations import DeviceKey
from hub.store.device_tables import counters, devices, telemetry, telemetry_1h, telemetry_1m
from hub.store.tables import sites
from hub.store.types import UtcDateTime

DONE, SEEN = "telemetry.rollup.done", "telemetry.rollup.seen"
# Raw rows this close to the raw retention limit are not rolled up: their bucket may already
# have lost rows to retention, and recomputing it would replace a whole bucket by a part.
RETENTION_MARGIN = timedelta(hours=1)
AGGREGATES = ("count", "sum", "min", "max", "last")


class BucketStart(FunctionElement[datetime]):
    """Start of the minute or hour holding a UTC timestamp, plus `shift` whole buckets."""

    type = UtcDateTime()
    # `unit` and `shift` are not part of SQLAlchemy's cache key: never cache, or a minute
    # bucket could come back compiled as an hour. It compiles once per rollup run.
    inherit_cache = False

    def __init__(self, value: ColumnElement[datetime], unit: str, shift: int = 0) -> None:
        if unit not in ("minute", "hour"):
            raise ValueError(f"no bucket of one {unit}")
        self.unit, self.shift = unit, shift
        super().__init__(value)


@compiles(BucketStart, "postgresql")
def _pg_bucket(element: BucketStart, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    shift = f" + interval '{element.shift} {element.unit}'" if element.shift else ""
    return f"(date_trunc('{element.unit}', {value}){shift})"


@compiles(BucketStart, "sqlite")
def _sqlite_bucket(element: BucketStart, compiler: SQLCompiler, **kw: Any) -> str:
    # The text form SQLAlchemy stores, so buckets compare with stored timestamps as strings.
    value = compiler.process(element.clauses, **kw)
    pattern = {"minute": "%Y-%m-%d %H:%M:00.000000", "hour": "%Y-%m-%d %H:00:00.000000"}
    start = f"strftime('{pattern[element.unit]}', {value})"
    if not element.shift:
        return start
    # Shift the start, not the value: SQLite rounds 08:59:59.9999 to 09:00 when it adds.
    return f"strftime('{pattern[element.unit]}', {start}, '+{element.shift} {element.unit}s')"


@compiles(BucketStart, "mysql")
@compiles(BucketStart, "mariadb")
def _mysql_bucket(element: BucketStart, compiler: SQLCompiler, **kw: Any) -> str:
    # Arithmetic, not DATE_FORMAT: its '%' would clash with the driver's paramstyle, and
    # UNIX_TIMESTAMP would bring in the session time zone.
    value = compiler.process(element.clauses, **kw)
    within = f"SECOND({value}) * 1000000 + MICROSECOND({value})"
    if element.unit == "hour":
        within = f"MINUTE({value}) * 60000000 + {within}"
    shift = f" + INTERVAL {element.shift} {element.unit.upper()}" if element.shift else ""
    return f"({value} - INTERVAL ({within}) MICROSECOND{shift})"


@dataclass(frozen=True)
class RollupRun:
    raw_rows: int  # raw ids looked at
    minute_buckets: int
    hour_buckets: int


async def roll_up(engine: AsyncEngine, *, now: datetime, raw_retention: timedelta,
                  chunk_ids: int = 50_000) -> RollupRun:
    """One incremental run over the raw rows added since the previous runs."""
    async with engine.begin() as conn:
        done = await get_counter(conn, DONE)
        seen = await get_counter(conn, SEEN)
        top = int(await conn.scalar(select(func.max(telemetry.c.id))) or 0)
    if top < seen:  # ids went backwards (SQLite reuses them in an emptied table): start over
        done = seen = 0
    guard = now - raw_retention + RETENTION_MARGIN
    totals = [0, 0, 0]
    for lo in range(done, top, chunk_ids):
        hi = min(lo + chunk_ids, top)
        new = and_(telemetry.c.id > lo, telemetry.c.id <= hi, telemetry.c.value.is_not(None),
                   telemetry.c.at >= guard)
        minutes, hours = await _roll(engine, new, progress=hi)
        totals = [totals[0] + hi - lo, totals[1] + minutes, totals[2] + hours]
        await asyncio.sleep(0)
    async with engine.begin() as conn:
        await set_counter(conn, DONE, min(seen, top))
        await set_counter(conn, SEEN, top)
    return RollupRun(*totals)


async def rebuild(engine: AsyncEngine, start: datetime, end: datetime) -> tuple[int, int]:
    """Recompute the buckets of raw rows stamped in [start, end), whatever their ids."""
    new = and_(telemetry.c.at >= start, telemetry.c.at < end, telemetry.c.value.is_not(None))
    return await _roll(engine, new)


async def _roll(engine: AsyncEngine, new: ColumnElement[bool],
                progress: int | None = None) -> tuple[int, int]:
    """Recompute every bucket the raw rows matching `new` fall into.

    The heavy parts, aggregating, are reads of their own: on SQLite a write transaction locks
    out every other writer (ingestion), so it holds only the upserts. A row committed between
    a read and its write has a newer id and gets a run of its own; a row with an id in this
    window that was still uncommitted is read again by the next run (see the module's notes).
    """
    minutes = await _read(engine, _minutes_from_raw(new))
    async with engine.begin() as conn:
        await _upsert(conn, telemetry_1m, minutes)
    hours = await _read(engine, _hours_from_minutes(new))
    async with engine.begin() as conn:
        await _upsert(conn, telemetry_1h, hours)
        if progress is not None:
            await set_counter(conn, DONE, progress)  # progress survives a crash halfway
    return len(minutes), len(hours)


async def _read(engine: AsyncEngine, query: Select[Any]) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]


def _touched(new: ColumnElement[bool], unit: str) -> Any:
    """(device, metric, bucket start, bucket end) of the raw rows matching `new`."""
    return select(
        telemetry.c.device_id, telemetry.c.metric,
        BucketStart(telemetry.c.at, unit).label("start"),
        BucketStart(telemetry.c.at, unit, 1).label("end"),
    ).where(new).distinct().subquery("touched")


def _minutes_from_raw(new: ColumnElement[bool]) -> Select[Any]:
    touched, raw = _touched(new, "minute"), telemetry.alias("raw")
    key = (raw.c.device_id, raw.c.metric, touched.c.start)
    rows = select(
        *key, raw.c.value,
        func.first_value(raw.c.value).over(
            partition_by=key, order_by=(raw.c.at.desc(), raw.c.id.desc())).label("last"),
    ).join(touched, and_(raw.c.device_id == touched.c.device_id,
                         raw.c.metric == touched.c.metric,
                         raw.c.at >= touched.c.start, raw.c.at < touched.c.end)
           ).where(raw.c.value.is_not(None)).subquery("rows")
    return select(rows.c.device_id, rows.c.metric, rows.c.start.label("bucket"),
                  func.count().label("count"), func.sum(rows.c.value).label("sum"),
                  func.min(rows.c.value).label("min"), func.max(rows.c.value).label("max"),
                  func.max(rows.c.last).label("last"),
                  ).group_by(rows.c.device_id, rows.c.metric, rows.c.start)


def _hours_from_minutes(new: ColumnElement[bool]) -> Select[Any]:
    touched, minute = _touched(new, "hour"), telemetry_1m.alias("minute")
    key = (minute.c.device_id, minute.c.metric, touched.c.start)
    rows = select(
        *key, minute.c.count, minute.c.sum, minute.c.min, minute.c.max,
        func.first_value(minute.c.last).over(
            partition_by=key, order_by=minute.c.bucket.desc()).label("latest"),
    ).join(touched, and_(minute.c.device_id == touched.c.device_id,
                         minute.c.metric == touched.c.metric,
                         minute.c.bucket >= touched.c.start,
                         minute.c.bucket < touched.c.end)).subquery("rows")
    return select(rows.c.device_id, rows.c.metric, rows.c.start.label("bucket"),
                  func.sum(rows.c.count).label("count"), func.sum(rows.c.sum).label("sum"),
                  func.min(rows.c.min).label("min"), func.max(rows.c.max).label("max"),
                  func.max(rows.c.latest).label("last"),
                  ).group_by(rows.c.device_id, rows.c.metric, rows.c.start)


async def _upsert(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Write buckets, overwriting the aggregates of those already there."""
    if not rows:
        return
    statement: Any
    if conn.dialect.name in ("postgresql", "sqlite"):
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["device_id", "metric", "bucket"],
            set_={name: statement.excluded[name] for name in AGGREGATES})
    else:
        statement = mysql.insert(table)
        statement = statement.on_duplicate_key_update(
            {name: statement.inserted[name] for name in AGGREGATES})
    await conn.execute(statement, rows)


async def delete_raw_before(engine: AsyncEngine, cutoff: datetime, chunk: int) -> int:
    """Delete raw rows stamped before `cutoff` that the rollup has already looked at."""
    async with engine.connect() as conn:
        done = await get_counter(conn, DONE)
    # Rows above the watermark may still be waiting for their rollup; and while the newest
    # row stays, SQLite never hands its id out again.
    return await _delete_chunks(engine, telemetry, telemetry.c.at, cutoff, chunk,
                                telemetry.c.id <= done)


async def delete_minutes_before(engine: AsyncEngine, cutoff: datetime, chunk: int) -> int:
    return await _delete_chunks(engine, telemetry_1m, telemetry_1m.c.bucket, cutoff, chunk)


async def _delete_chunks(engine: AsyncEngine, table: Table, stamp: Any, cutoff: datetime,
                         chunk: int, *also: ColumnElement[bool]) -> int:
    """Delete by ascending time, about `chunk` rows per transaction, never all in one."""
    deleted = 0
    while True:
        async with engine.begin() as conn:
            boundary = await conn.scalar(select(stamp).where(stamp < cutoff, *also)
                                         .order_by(stamp).offset(chunk).limit(1))
            upto = stamp < (cutoff if boundary is None else boundary)
            removed = (await conn.execute(delete(table).where(upto, *also))).rowcount
            if removed == 0 and boundary is not None:
                # More than a chunk share the oldest stamp (every series' bucket of one
                # minute): take that one stamp alone.
                removed = (await conn.execute(delete(table).where(stamp == boundary,
                                                                  *also))).rowcount
        deleted += max(removed, 0)
        if boundary is None:
            return deleted
        await asyncio.sleep(0)


async def get_counter(conn: AsyncConnection, name: str) -> int:
    return int(await conn.scalar(select(counters.c.value).where(counters.c.name == name)) or 0)


async def set_counter(conn: AsyncConnection, name: str, value: int) -> None:
    update = counters.update().where(counters.c.name == name).values(value=value)
    if (await conn.execute(update)).rowcount:
        return
    try:
        async with conn.begin_nested():
            await conn.execute(counters.insert().values(name=name, value=value))
    except IntegrityError:
        # Another worker's first run created the row since our update found none.
        await conn.execute(update)


async def device_keys(engine: AsyncEngine, ids: Collection[int]) -> dict[int, DeviceKey]:
    """How the outside world names these devices: site code, kind, device code."""
    if not ids:
        return {}
    query = select(devices.c.id, sites.c.code.label("site"), devices.c.kind, devices.c.code
                   ).join(sites, sites.c.id == devices.c.site_id).where(devices.c.id.in_(ids))
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return {row.id: DeviceKey(row.site, row.kind, row.code) for row in rows}
