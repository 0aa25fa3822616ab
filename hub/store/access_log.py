"""The access log's retention: rows older than the kept days are deleted in chunks, so that
a first pass over a long backlog never holds one huge transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.access_tables import access_log

CHUNK_ROWS = 5000


async def delete_access_log_before(engine: AsyncEngine, cutoff: datetime,
                                   chunk: int = CHUNK_ROWS) -> int:
    """Delete every row with `at` before `cutoff`; returns how many."""
    deleted = 0
    while True:
        async with engine.begin() as connection:
            ids = (await connection.scalars(select(access_log.c.id).where(
                access_log.c.at < cutoff).order_by(access_log.c.id).limit(chunk))).all()
            if not ids:
                return deleted
            await connection.execute(delete(access_log).where(access_log.c.id.in_(ids)))
        deleted += len(ids)
