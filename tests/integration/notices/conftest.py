"""The API tests' seeded world (a per-test copy), a migrated database per backend, and a
clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tests.integration.api.conftest import api, template
from tests.integration.store.conftest import database_url, empty_database_url

__all__ = ["Clock", "api", "database_url", "empty_database_url", "template"]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> datetime:
        self.now += by
        return self.now
