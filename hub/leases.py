"""Work that one worker of many should do: Modbus polling, rollups, retention, schedulers.

Each such job runs under a lease, a row in `leases` (name, holder, expires_at) that the holder
renews every third of its time to live. Several `hub run` workers on one database (scale-out,
DESIGN.md §1) then run it once between them: if the holder dies, another takes over when the
lease expires. Taking a lease is one UPDATE (renew, or take an expired one) and, failing that,
one INSERT that a unique primary key lets only one worker win: no lock, on every backend.

A holder that cannot reach the database keeps its job running until its own lease would have
expired, and stops it then: by that time another worker may hold it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import and_, delete, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.health import HealthBoard
from hub.ports import Clock
from hub.store.device_tables import leases
from hub.supervise import Job

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 30.0


@dataclass(frozen=True)
class LeaseStore:
    engine: AsyncEngine

    async def acquire(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Renew ours, or take one that expired, or create it; False if another holds it."""
        expires = now + ttl
        async with self.engine.begin() as connection:
            renewed = await connection.execute(
                update(leases)
                .where(and_(leases.c.name == name,
                            or_(leases.c.holder == holder, leases.c.expires_at < now)))
                .values(holder=holder, expires_at=expires))
            if renewed.rowcount == 1:
                return True
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    insert(leases).values(name=name, holder=holder, expires_at=expires))
        except IntegrityError:
            return False  # it exists and another holds it
        return True

    async def release(self, name: str, holder: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                delete(leases).where(and_(leases.c.name == name, leases.c.holder == holder)))


async def leased(name: str, job: Job, store: LeaseStore, holder: str, health: HealthBoard,
                 clock: Clock, *, ttl_s: float = DEFAULT_TTL_S) -> None:
    """Run `job` while this worker holds lease `name`; meant to run under `supervised`.

    A crash of the job is raised (the supervisor restarts the whole, lease included); losing
    the lease cancels the job, and it starts again if the lease comes back."""
    ttl = timedelta(seconds=ttl_s)
    task: asyncio.Task[None] | None = None
    held_until: datetime | None = None
    component = f"lease {name}"
    try:
        while True:
            now = clock()
            try:
                held = await store.acquire(name, holder, now, ttl)
            except Exception as err:  # noqa: BLE001 - the database may be away for a while
                held = held_until is not None and now < held_until
                health.beat(component, "degraded",
                            f"cannot renew ({type(err).__name__}); "
                            + ("running until the lease expires" if held else "stopped"))
            else:
                health.beat(component, "ok",
                            f"held by {holder}" if held else "held by another worker")
                held_until = now + ttl if held else None
            if held and task is None:
                log.info("%s: this worker (%s) holds the lease and runs it", name, holder)
                task = asyncio.ensure_future(job())
            elif not held and task is not None:
                log.warning("%s: lease lost; stopping it here", name)
                await _cancel(task)
                task = None
            if task is None:
                await asyncio.sleep(ttl_s / 3)
                continue
            await asyncio.wait({task}, timeout=ttl_s / 3)
            if task.done():
                done, task = task, None
                done.result()  # raises what the job raised
                raise RuntimeError(f"{name} returned")
    finally:
        if task is not None:
            await _cancel(task)
            with contextlib.suppress(Exception):  # best effort: it expires anyway
                await store.release(name, holder)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def lease_jobs(jobs: dict[str, Job], names: Iterable[str], store: LeaseStore, holder: str,
               health: HealthBoard, clock: Clock, *, ttl_s: float = DEFAULT_TTL_S) -> None:
    """Wrap the named jobs (those present) in `leased`, in place."""
    for name in names:
        if name in jobs:
            jobs[name] = partial(leased, name, jobs[name], store, holder, health, clock,
                                 ttl_s=ttl_s)
