"""A fresh, migrated database for one benchmark: SQLite in a temporary folder, or a new
database on the PostgreSQL/MariaDB server a URL names (created, then dropped), so a benchmark
never writes into the database the URL itself names (tests share it)."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from hub.store import migrate


def backend_of(url: str | None) -> str:
    return "sqlite" if url is None else make_url(url).get_backend_name()


@asynccontextmanager
async def fresh_database(server_url: str | None, prefix: str) -> AsyncIterator[str]:
    """Yields the URL of an empty database migrated to head; removes it afterwards."""
    if server_url is None or make_url(server_url).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"hub-bench-{prefix}-") as folder:
            url = f"sqlite+aiosqlite:///{folder}/hub.db"
            await migrate.upgrade_async(url)
            yield url
        return
    server = make_url(server_url)
    name = f"bench_{prefix}_{secrets.token_hex(4)}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f"CREATE DATABASE {name}"))
        url = server.set(database=name).render_as_string(hide_password=False)
        try:
            await migrate.upgrade_async(url)
            yield url
        finally:
            async with admin.connect() as conn:
                drop = f"DROP DATABASE {name}"
                if server.get_backend_name() == "postgresql":
                    drop += " WITH (FORCE)"
                await conn.execute(text(drop))
    finally:
        await admin.dispose()
