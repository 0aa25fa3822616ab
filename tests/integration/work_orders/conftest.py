"""Work orders on a real database: a small estate (lakeside, two buildings, lifts, staff) and
message buses wired with the work-order handlers, a controlled clock and a chosen policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.bootstrap import _inject
from hub.bus import MessageBus
from hub.domain.accounts import SYSTEM, Account, Role, ScopeGrant
from hub.domain.outcomes import (
    Cause,
    Evidence,
    OrderOpened,
    OrderReopened,
    Priority,
    RaiseFault,
)
from hub.domain.property import Building, Site, Unit
from hub.domain.registry import Device
from hub.domain.work_orders import DEFAULT_POLICY, OrderPolicy
from hub.handlers.work_orders import COMMAND_HANDLERS
from hub.store.db import make_sessions
from hub.store.mapping import start_mappers
from hub.store.uow import SqlUnitOfWork

# A migrated database per test on each backend (PostgreSQL: a copy of a session template),
# and its engine: the store tests' fixtures.
from tests.integration.store.conftest import database_url, engine

__all__ = ["database_url", "engine"]

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class Clock:
    """Time the test moves by hand; nothing sleeps."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@dataclass
class Estate:
    site: int = 0
    b1: int = 0
    b2: int = 0
    unit_a: int = 0
    lift_b1: int = 0
    lift_b2: int = 0
    staff: dict[str, int] = field(default_factory=dict)


def uow_factory(engine: AsyncEngine) -> Callable[[], SqlUnitOfWork]:
    start_mappers()
    sessions = make_sessions(engine)
    return lambda: SqlUnitOfWork(sessions)


def make_bus(engine: AsyncEngine, clock: Clock, policy: OrderPolicy = DEFAULT_POLICY,
             published: list[object] | None = None) -> MessageBus:
    """`published` collects the events the bus delivers (after their command committed)."""
    dependencies = {"clock": clock, "order_policy": policy}

    async def record(event: object, uow: object) -> None:
        if published is not None:
            published.append(event)

    return MessageBus(uow_factory(engine),
                      {kind: _inject(h, dependencies) for kind, h in COMMAND_HANDLERS.items()},
                      {OrderOpened: [record], OrderReopened: [record]})


async def seed(engine: AsyncEngine) -> Estate:
    e = Estate()
    new_uow = uow_factory(engine)
    async with new_uow() as uow:
        site = Site(code="lakeside", name="Lakeside Gardens")
        uow.add(site)
        await uow.flush()
        assert site.id is not None
        b1, b2 = Building(site.id, "b1", "Building 1", 18), Building(site.id, "b2", "B 2", 18)
        uow.add(b1)
        uow.add(b2)
        await uow.flush()
        assert b1.id is not None and b2.id is not None
        unit = Unit(site.id, b1.id, "1-0301", 3, gross_area=__import__("decimal").Decimal("89"),
                    inner_area=__import__("decimal").Decimal("70"))
        lift1 = Device(site.id, "lift-b1", "elevator", building_id=b1.id)
        lift2 = Device(site.id, "lift-b2", "elevator", building_id=b2.id)
        for thing in (unit, lift1, lift2):
            uow.add(thing)
        for name, role in (("tech-a", Role.MAINTENANCE), ("tech-b", Role.MAINTENANCE),
                           ("tech-c", Role.MAINTENANCE), ("boss", Role.MANAGER)):
            account = Account(name, "x", role, grants=[ScopeGrant(site.id)])
            uow.add(account)
            await uow.flush()
            assert account.id is not None
            e.staff[name] = account.id
        await uow.commit()
        e.site, e.b1, e.b2 = site.id, b1.id, b2.id
        assert unit.id and lift1.id and lift2.id
        e.unit_a, e.lift_b1, e.lift_b2 = unit.id, lift1.id, lift2.id
    return e


def trapped(e: Estate, at: datetime, device_id: int | None = None, seq: int = 1) -> RaiseFault:
    device = device_id or e.lift_b1
    return RaiseFault(
        site_id=e.site, fault="TRAPPED_BETWEEN_FLOORS", category="elevator",
        priority=Priority.P1, title="Passengers trapped between floors", at=at,
        device_id=device, actor=SYSTEM,
        cause=Cause(rule_id="elevator-trapped", rule_version="3", evidence=(
            Evidence(kind="fault", at=at, device_id=device,
                     summary={"code": "TRAPPED_BETWEEN_FLOORS", "seq": seq}),)))


@pytest.fixture
async def estate(engine: AsyncEngine) -> Estate:
    return await seed(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock()
