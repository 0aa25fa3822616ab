"""Fixtures for access tests: a hub on a copy of a migrated SQLite file seeded once with the
small lakeside (tests/integration/access/community.py)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hub.api.app import create_app
from hub.bootstrap import Hub, bootstrap
from hub.settings import Settings, load_settings
from hub.store.migrate import upgrade
from tests.integration.access.community import Community, build

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai


class Clock:
    """The hub's clock, moved by the test."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def access_settings(data_dir: Path, **overrides: object) -> Settings:
    # Long-lived access tokens: the template's tokens must outlive a slow run.
    return load_settings(None, mode="demo", data_dir=data_dir,
                         security={"access_token_minutes": 120}, **overrides)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Community]]:
    folder = tmp_path_factory.mktemp("access")
    settings = access_settings(folder)
    upgrade(settings.database_url)

    async def seed() -> Community:
        hub = bootstrap(settings)  # the real clock: tokens expire by it (PyJWT's check)
        try:
            return await build(hub)
        finally:
            await hub.close()

    yield folder, asyncio.run(seed())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def hub(seeded: tuple[Path, Community], tmp_path: Path,
              clock: Clock) -> AsyncIterator[Hub]:
    shutil.copy(seeded[0] / "hub.db", tmp_path / "hub.db")
    built = bootstrap(access_settings(tmp_path), clock=clock)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
def lakeside(seeded: tuple[Path, Community], hub: Hub) -> Community:
    return seeded[1]


_apps: list[FastAPI] = []


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    """One app for the session (building one walks every route's dependencies, seconds on a
    busy machine), given each test's hub; its caller cache starts empty."""
    if not _apps:
        _apps.append(create_app(hub.settings, hub))
    app = _apps[0]
    app.state.hub, app.state.callers = hub, None
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield client
