"""Fixtures for API tests: the app on a per-test copy of a seeded SQLite database."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hub.api.app import create_app
from hub.bootstrap import Hub, bootstrap
from hub.settings import Settings, load_settings
from hub.store.migrate import upgrade
from tests.integration.api import world as world_module
from tests.integration.api.world import World


def api_settings(data_dir: Path, **overrides: object) -> Settings:
    # Long-lived access tokens: the template's tokens must outlive a slow CI run.
    return load_settings(None, mode="demo", data_dir=data_dir,
                         security={"access_token_minutes": 120}, **overrides)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, World]]:
    folder = tmp_path_factory.mktemp("template")
    settings = api_settings(folder)
    upgrade(settings.database_url)

    async def seed() -> World:
        hub = bootstrap(settings)
        try:
            return await world_module.build(hub)
        finally:
            await hub.close()

    yield folder, asyncio.run(seed())


@dataclass
class Api:
    app: FastAPI
    hub: Hub
    client: httpx.AsyncClient
    world: World
    settings: Settings
    db_file: Path


@pytest.fixture
async def api(template: tuple[Path, World], tmp_path: Path) -> AsyncIterator[Api]:
    folder, world = template
    shutil.copy(folder / "hub.db", tmp_path / "hub.db")
    settings = api_settings(tmp_path)
    hub = bootstrap(settings)
    app = create_app(settings, hub)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield Api(app, hub, client, world, settings, tmp_path / "hub.db")
    await hub.close()
