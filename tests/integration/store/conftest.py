"""A database per test on each backend: SQLite in tmp_path, PostgreSQL and MariaDB fresh.

Server databases are created as `hub_test_<hex>` through an admin connection to the URL
of tests/services.py and dropped afterwards, so tests never share rows or schema.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub.store.db import make_engine, make_sessions
from hub.store.mapping import start_mappers
from hub.store.migrate import upgrade_async
from hub.store.uow import SqlUnitOfWork
from tests.services import require_service

BACKENDS = [
    pytest.param("sqlite"),
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@asynccontextmanager
async def fresh_database(server_url: str, template: str | None = None) -> AsyncIterator[str]:
    """Create a uniquely named database on the server (PostgreSQL: a copy of `template`),
    yield its URL, drop it."""
    server = make_url(server_url)
    name = f"hub_test_{secrets.token_hex(6)}"
    postgres = server.get_backend_name() == "postgresql"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(
                (f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
                if postgres
                else f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                # FORCE: a test that failed halfway may have left a connection open.
                await connection.execute(text(
                    f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if postgres else "")))
    finally:
        await admin.dispose()


@pytest.fixture(params=BACKENDS)
async def empty_database_url(request: pytest.FixtureRequest,
                             tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables yet, on the backend named by the parameter."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    async with fresh_database(require_service(request.param)) as url:
        yield url


# PostgreSQL copies a database migrated once per test session (CREATE DATABASE ... TEMPLATE):
# migrating every test's database through every revision was most of their time.
_pg_templates: dict[str, str] = {}


async def _pg_template(server_url: str) -> str:
    if server_url not in _pg_templates:
        name = f"hub_tmpl_{secrets.token_hex(6)}"
        server = make_url(server_url)
        admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f"CREATE DATABASE {name}"))
        finally:
            await admin.dispose()
        await upgrade_async(server.set(database=name).render_as_string(hide_password=False))
        _pg_templates[server_url] = name
    return _pg_templates[server_url]


async def _drop_pg_templates() -> None:
    for server_url, name in _pg_templates.items():
        admin = create_async_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        finally:
            await admin.dispose()
    _pg_templates.clear()


def drop_pg_templates() -> None:
    """At the end of the test session (tests/conftest.py), wherever the fixture was used."""
    if _pg_templates:
        asyncio.run(_drop_pg_templates())


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database migrated to the head revision."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        await upgrade_async(url)
        yield url
        return
    server_url = require_service(request.param)
    template = await _pg_template(server_url) if request.param == "postgres" else None
    async with fresh_database(server_url, template=template) as url:
        if template is None:
            await upgrade_async(url)
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def new_uow(engine: AsyncEngine) -> Callable[[], SqlUnitOfWork]:
    """Units of work on the test's database: `async with new_uow() as uow: ...`."""
    start_mappers()
    sessions = make_sessions(engine)
    return lambda: SqlUnitOfWork(sessions)
