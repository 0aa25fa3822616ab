"""A hub on a fresh database per test (SQLite, and PostgreSQL/MariaDB when their URLs are set),
with a clock the test moves, and "elm", a small community with five residents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from hub.bootstrap import Hub, bootstrap
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM
from hub.domain.residents import Relation
from hub.handlers.ownership import MoveIn
from hub.settings import load_settings
from hub.store.db import make_engine
from tests.integration.store.conftest import database_url, empty_database_url

__all__ = ["Clock", "Elm", "clock", "database_url", "elm", "empty_database_url", "hub"]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set_day(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


@dataclass
class Elm:
    site: int = 0
    building: int = 0
    home: int = 0  # 1-201: the 陈 family lives there
    flat: int = 0  # 1-202: empty, for rent
    people: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
async def hub(database_url: str, clock: Clock) -> AsyncIterator[Hub]:
    settings = load_settings(None, mode="demo", database={"url": database_url})
    hub = bootstrap(settings, engine=make_engine(database_url), clock=clock)
    try:
        yield hub
    finally:
        await hub.close()


@pytest.fixture
async def elm(hub: Hub) -> Elm:
    bus = hub.bus
    e = Elm()
    e.site = await bus.handle(c.CreateSite(SYSTEM, code="elm", name="Elm Gardens 榆园"))
    e.building = await bus.handle(c.CreateBuilding(SYSTEM, site_id=e.site, code="e1",
                                                   name="1号楼", floors=6))
    for attr, number in (("home", "1-201"), ("flat", "1-202")):
        setattr(e, attr, await bus.handle(c.CreateUnit(
            SYSTEM, building_id=e.building, number=number, floor=2, gross_area=D("100.00"),
            inner_area=D("80.00"), status="vacant")))
    for name in ("陈静", "陈小雨", "刘洋", "赵敏", "孙丽"):
        e.people[name] = await bus.handle(c.RegisterResident(SYSTEM, site_id=e.site, name=name))
    for name, relation in (("陈静", Relation.OWNER), ("陈小雨", Relation.FAMILY)):
        await bus.handle(MoveIn(SYSTEM, unit_id=e.home, resident_id=e.people[name],
                                relation=relation, moved_in=date(2015, 3, 1)))
    return e
