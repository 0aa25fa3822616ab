"""SQLite connection settings that the embedded mode relies on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from hub.store.db import SQLITE_BUSY_TIMEOUT_MS, make_engine


async def test_every_sqlite_connection_has_wal_foreign_keys_and_a_busy_timeout(
        tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'hub.db'}", pool_size=2)
    try:
        async with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
                assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
                busy_timeout = await connection.scalar(text("PRAGMA busy_timeout"))
                assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS >= 1000
    finally:
        await engine.dispose()
    assert (tmp_path / "data" / "hub.db").exists()
