"""A migrated SQLite database per test, the shipped rules, a bus that can be told to fail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.rules.loader import load_dir
from hub.rules.runner import RulesRunner
from hub.rules.store import SqlRuleStore
from hub.settings import RulesSettings
from hub.store.db import make_engine
from hub.store.migrate import upgrade_async
from tests.unit.test_rules_engine import PACKS


class FakeBus:
    """Handles what it is told to, fails what it is told to (`failures` per command kind:
    how many calls fail, -1 for all), and has no handler for `unhandled` kinds."""

    def __init__(self) -> None:
        self.handled: list[Any] = []
        self.failures: dict[str, int] = {}
        self.unhandled: set[str] = set()
        self.calls = 0

    async def handle(self, command: object) -> Any:
        self.calls += 1
        kind = type(command).__name__
        if kind in self.unhandled:
            raise LookupError(f"no handler for {kind}")
        left = self.failures.get(kind, 0)
        if left:
            self.failures[kind] = left - 1 if left > 0 else left
            raise ConnectionError(f"database down while handling {kind}")
        self.handled.append(command)
        return None


class Clock:
    """Wall clock and monotonic clock, both moved by the test only."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
        self.mono = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    await upgrade_async(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_runner(engine: AsyncEngine, bus: FakeBus, clock: Clock) -> Any:
    def make(directory: Path = PACKS, **settings: Any) -> RulesRunner:
        return RulesRunner(load_dir(directory), SqlRuleStore(engine), bus.handle,
                           settings=RulesSettings(**settings), directory=directory,
                           clock=clock, monotonic=clock.monotonic)
    return make


# The API's seeded world, for the rules routes.
from tests.integration.api.conftest import api, template  # noqa: E402, F401
