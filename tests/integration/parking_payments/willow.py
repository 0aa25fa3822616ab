"""Willow Court: two households (alice's, bob's), a guard of willow and one of another site,
the lakeside visitors' tariff (15 free minutes, first hour ¥5, then ¥2 per started 30 min,
night ¥1 an hour, ¥30 per rolling 24 h), and 沪A12345 inside since 09:00 (Shanghai),
a temporary car of alice's household."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hub.bootstrap import Hub
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Actor, Role
from hub.domain.parking.sessions import ParkingSession, SessionState, SessionViewer, present_key
from hub.domain.parking.standing import Standing
from hub.domain.residents import Relation
from hub.handlers.tariffs import CreateTariff
from tests.integration.api.world import VISITOR_RULES

SH = ZoneInfo("Asia/Shanghai")
ENTRY = datetime(2026, 11, 27, 9, 0, tzinfo=SH)
PLATE = "沪A12345"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=SH)


@dataclass
class Willow:
    site: int
    other_site: int
    tariff: int
    session: int
    alice: Actor
    bob: Actor
    guard: Actor
    other_guard: Actor


async def build(hub: Hub) -> Willow:
    bus = hub.bus
    site = await bus.handle(c.CreateSite(SYSTEM, code="willow", name="Willow Court"))
    other = await bus.handle(c.CreateSite(SYSTEM, code="elm", name="Elm Court"))
    building = await bus.handle(c.CreateBuilding(SYSTEM, site_id=site, code="w1",
                                                 name="1号楼", floors=6))
    actors: list[Actor] = []
    for number, name, phone in (("1-101", "张伟", "13812345678"), ("1-102", "李娜",
                                                                   "13700001111")):
        unit = await bus.handle(c.CreateUnit(SYSTEM, building_id=building, number=number,
                                             floor=1, gross_area=Decimal("90"),
                                             inner_area=Decimal("70"), status="occupied"))
        resident = await bus.handle(c.RegisterResident(
            SYSTEM, site_id=site, name=name, phone=phone, national_id=None,
            residencies=(c.ResidencyIn(unit, Relation.OWNER, date(2020, 5, 1)),)))
        # Actors as a login makes them (accounts are not needed below the API).
        actors.append(Actor(account_id=100 + len(actors), role=Role.RESIDENT,
                            unit_ids=frozenset({unit}), resident_id=resident))
    guards: list[Actor] = []
    for where in (site, other):
        guards.append(Actor(account_id=200 + len(guards), role=Role.SECURITY,
                            whole_sites=frozenset({where})))
    tariff = await bus.handle(CreateTariff(
        SYSTEM, site_id=site, code="visitors", name="临停", rules=VISITOR_RULES,
        effective_from=datetime(2026, 1, 1, tzinfo=SH)))
    async with hub.uow() as uow:
        session = ParkingSession(
            site_id=site, lot_id=1, plate=PLATE, standing=Standing.TEMPORARY,
            state=SessionState.INSIDE, updated_at=ENTRY, entry_at=ENTRY, entry_lane_id=1,
            tariff_id=tariff, tariff_version=1, present_key=present_key(1, PLATE))
        uow.add(session)
        await uow.flush()
        assert session.id is not None and actors[0].resident_id is not None
        uow.add(SessionViewer(session_id=session.id, resident_id=actors[0].resident_id))
        await uow.commit()
        session_id = session.id
    return Willow(site, other, tariff, session_id, actors[0], actors[1], guards[0], guards[1])


async def car_at_exit(hub: Hub, session_id: int, exit_at: datetime, fee: str) -> None:
    """What the gate flow records when the car reaches an exit with a fee to pay."""
    async with hub.uow() as uow:
        session = await uow.get(ParkingSession, session_id)
        assert session is not None
        session.exit_at, session.exit_lane_id, session.fee = exit_at, 2, Decimal(fee)
        await uow.commit()
