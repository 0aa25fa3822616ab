"""What the hub stored, read straight from its database, and the one-line report of a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.db import make_engine
from hub.store.device_tables import counters, dead_letters, device_state, devices, inbox
from hub.store.device_tables import sequence_gaps as gaps_table
from hub.store.device_tables import telemetry as telemetry_table
from hub.store.tables import sites
from tests.e2e.devices.fleet import Key


@dataclass(frozen=True)
class Gap:
    code: str
    first_missing: int
    last_missing: int

    @property
    def size(self) -> int:
        return self.last_missing - self.first_missing + 1


def covered(gaps: Iterable[Gap]) -> set[Key]:
    """Every (device, seq) some gap reports missing."""
    return {(g.code, seq) for g in gaps for seq in range(g.first_missing, g.last_missing + 1)}


class Store:
    """Read-only views of the hub's tables (the test's own connection)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine = make_engine(url, pool_size=2)

    async def close(self) -> None:
        await self.engine.dispose()

    async def add_site(self, code: str) -> None:
        """The registry file names a site; sites come from the property side, not the file."""
        async with self.engine.begin() as connection:
            await connection.execute(insert(sites).values(
                code=code, name=f"{code} (e2e)", address="", timezone="Asia/Shanghai"))

    @asynccontextmanager
    async def writes_blocked(self) -> AsyncIterator[None]:
        """Hold the hub's writes back (SQLite: the database's write lock; PostgreSQL: the
        inbox table's) until the block ends, then roll back."""
        async with self.engine.connect() as connection:
            transaction = await connection.begin()
            if connection.dialect.name == "postgresql":
                await connection.execute(text("LOCK TABLE inbox IN EXCLUSIVE MODE"))
            else:
                await connection.execute(insert(counters).values(name="e2e|lock", value=0))
            try:
                yield
            finally:
                await transaction.rollback()

    @asynccontextmanager
    async def table_locked(self, table: str) -> AsyncIterator[None]:
        """PostgreSQL: nobody writes `table` until the block ends (reads go on)."""
        async with self.engine.connect() as connection, connection.begin():
            await connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
            yield

    async def lock_waiters(self) -> int:
        """PostgreSQL: sessions of this database waiting for a lock."""
        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                     " AND wait_event_type = 'Lock'")
        async with self.engine.connect() as connection:
            return int(await connection.scalar(query) or 0)

    async def rows(self) -> Counter[Key]:
        """Telemetry rows per message: metric `n` carries the seq (tests.e2e.devices.fleet)."""
        query = (select(devices.c.code, telemetry_table.c.value, func.count())
                 .join(devices, devices.c.id == telemetry_table.c.device_id)
                 .where(telemetry_table.c.metric == "n")
                 .group_by(devices.c.code, telemetry_table.c.value))
        async with self.engine.connect() as connection:
            result = await connection.execute(query)
            return Counter({(code, int(value)): n for code, value, n in result})

    async def lease_holders(self) -> dict[str, str]:
        """Which worker holds each lease (hub.leases): one row per job name."""
        query = text("SELECT name, holder FROM leases")
        async with self.engine.connect() as connection:
            return {name: holder for name, holder in await connection.execute(query)}

    async def inbox_keys(self) -> set[tuple[str, str, int]]:
        query = (select(devices.c.code, inbox.c.boot, inbox.c.seq)
                 .join(devices, devices.c.id == inbox.c.device_id))
        async with self.engine.connect() as connection:
            return {(code, boot, seq) for code, boot, seq in await connection.execute(query)}

    async def gaps(self) -> list[Gap]:
        query = (select(devices.c.code, gaps_table.c.first_missing, gaps_table.c.last_missing)
                 .join(devices, devices.c.id == gaps_table.c.device_id)
                 .order_by(gaps_table.c.id))
        async with self.engine.connect() as connection:
            return [Gap(*row) for row in await connection.execute(query)]

    async def counters(self) -> dict[str, int]:
        async with self.engine.connect() as connection:
            return {name: int(value) for name, value in
                    await connection.execute(select(counters.c.name, counters.c.value))}

    async def letters_by_reason(self) -> Counter[str]:
        """Rows of the (bounded) dead-letter table, by reason."""
        query = select(dead_letters.c.reason, func.count()).group_by(dead_letters.c.reason)
        async with self.engine.connect() as connection:
            return Counter({reason: n for reason, n in await connection.execute(query)})

    async def states(self) -> dict[str, dict[str, Any]]:
        query = (select(devices.c.code, device_state)
                 .join(devices, devices.c.id == device_state.c.device_id))
        async with self.engine.connect() as connection:
            return {row.code: dict(row._mapping) for row in await connection.execute(query)}

    async def device_ids(self) -> dict[str, int]:
        async with self.engine.connect() as connection:
            return {code: id_ for code, id_ in
                    await connection.execute(select(devices.c.code, devices.c.id))}


@dataclass
class Tally:
    """Published, acknowledged and stored, set against each other."""

    published: set[Key]
    acked: set[Key]
    rows: Counter[Key]

    @property
    def stored(self) -> set[Key]:
        return set(self.rows)

    @property
    def lost_after_ack(self) -> set[Key]:
        return self.acked - self.stored

    @property
    def duplicate_rows(self) -> int:
        return sum(n - 1 for n in self.rows.values() if n > 1)

    @property
    def duplicated(self) -> set[Key]:
        return {key for key, n in self.rows.items() if n > 1}

    @property
    def never_published(self) -> set[Key]:
        return self.stored - self.published

    def missing_seqs(self) -> int:
        """Seqs absent from the store below each device's highest stored one."""
        highest: dict[str, int] = {}
        for code, seq in self.stored:
            highest[code] = max(seq, highest.get(code, 0))
        present = Counter(code for code, _ in self.stored)
        return sum(top - present[code] for code, top in highest.items())


def brief(keys: set[Key]) -> str:
    """For an assertion message: how many, and a few of them."""
    return f"{len(keys)}, e.g. {sorted(keys)[:5]}"


def summary(test: str, numbers: Mapping[str, object]) -> str:
    """The one line a reliability test prints: `Q1 published=... acked=... ...`."""
    def shown(value: object) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)
    line = f"{test} " + " ".join(f"{k}={shown(v)}" for k, v in numbers.items())
    print(f"\n{line}")
    return line
