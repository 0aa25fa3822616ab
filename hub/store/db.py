"""Engines: one per process, made by the composition root, tuned per backend."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from hub.store.turns import WriteTurns, take_turns

SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    # Statement parameters are personal data (a national ID typed as a username, a phone):
    # SQL logging shows the statements only.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        # aiosqlite logs every call with its arguments at DEBUG; those hold the parameters too.
        logging.getLogger("aiosqlite").setLevel(max(logging.INFO,
                                                    logging.getLogger("aiosqlite").level))
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        # A pooled connection may have died with a database restart: test it before use.
        kwargs.update(pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size,
                      pool_recycle=1800)
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # One writer at a time: this process's writers take turns (hub.store.turns) rather
        # than poll for the lock.
        take_turns(engine, WriteTurns(), timeout_s=SQLITE_BUSY_TIMEOUT_MS / 1000)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; the busy timeout turns "database is locked"
    # into a short wait; SQLite leaves foreign keys off unless asked, per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
