"""Engines: one per process, made by the composition root, tuned per backend."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from hub.store.sqlite_onehop import one_hop_connector
from hub.store.turns import WriteTurns, process_lock_for, take_turns

SQLITE_BUSY_TIMEOUT_MS = 5000
# SQLite connections kept open at least: one per request or job using the database at once,
# up to this many. A connection beyond the pool is opened and closed around each use, which
# costs a thread, an open and four pragmas (`hub bench api` with 32 clients opened 88 a
# second with SQLAlchemy's default of 5, each holding up the requests behind it). An idle
# one costs a file handle and a sleeping thread.
SQLITE_POOL_MIN = 32


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
            size = max(pool_size, SQLITE_POOL_MIN)
            kwargs.update(pool_size=size, max_overflow=size)
        # The URL's own connection arguments, as SQLAlchemy's dialect reads them, go to the
        # one-hop connections (hub.store.sqlite_onehop), which SQLAlchemy does not configure.
        args, params = SQLiteDialect_aiosqlite().create_connect_args(parsed)
        params["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
        kwargs["async_creator"] = one_hop_connector(*args, **params)
    else:
        # A pooled connection may have died with a database restart: test it before use.
        kwargs.update(pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size,
                      pool_recycle=1800)
    engine = create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # One writer at a time: this process's writers take turns (hub.store.turns) rather
        # than poll for the lock, and so do the processes sharing a database file.
        on_file = bool(parsed.database) and parsed.database != ":memory:" \
            and parsed.query.get("mode") != "memory"
        between = process_lock_for(str(parsed.database)) if on_file else None
        take_turns(engine, WriteTurns(between), timeout_s=SQLITE_BUSY_TIMEOUT_MS / 1000)
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
