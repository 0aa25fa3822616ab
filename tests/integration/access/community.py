"""A small lakeside for access tests: two buildings, households A (b1) and B (b2), a door in
each building and a site gate door, residents with their homes; no accounts (no hashing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hub.bootstrap import Hub
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.residents import Relation
from hub.store.device_tables import devices


@dataclass
class Community:
    site: int = 0
    other_site: int = 0
    b1: int = 0
    b2: int = 0
    unit_a: int = 0
    unit_b: int = 0
    alice: int = 0  # lives in unit A (b1)
    bob: int = 0  # lives in unit B (b2)
    carol: int = 0  # moved out of unit A
    door_b1: int = 0  # devices of kind door
    door_b2: int = 0
    gate_door: int = 0  # the site gate's door, in no building
    accounts: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


PASSWORD = "correct-horse-battery"
# username -> role, site attribute of its grant (staff), resident attribute (residents)
ACCOUNTS = {"guard": (Role.SECURITY, "site", None), "desk": (Role.SERVICE_DESK, "site", None),
            "manager": (Role.MANAGER, "site", None),
            "river-manager": (Role.MANAGER, "other_site", None),
            "alice": (Role.RESIDENT, None, "alice"), "bob": (Role.RESIDENT, None, "bob")}


async def build(hub: Hub) -> Community:
    w = Community()
    bus = hub.bus
    w.site = await bus.handle(c.CreateSite(SYSTEM, code="lakeside", name="Lakeside Gardens"))
    w.other_site = await bus.handle(c.CreateSite(SYSTEM, code="riverside", name="Riverside"))
    w.b1 = await bus.handle(c.CreateBuilding(SYSTEM, site_id=w.site, code="b1",
                                             name="Building 1", floors=18))
    w.b2 = await bus.handle(c.CreateBuilding(SYSTEM, site_id=w.site, code="b2",
                                             name="Building 2", floors=18))

    async def unit(building: int, number: str) -> int:
        return int(await bus.handle(c.CreateUnit(
            SYSTEM, building_id=building, number=number, floor=3,
            gross_area=Decimal("89.75"), inner_area=Decimal("72.10"), status="occupied")))

    w.unit_a = await unit(w.b1, "1-0301")
    w.unit_b = await unit(w.b2, "2-0301")

    async def resident(name: str, unit_id: int, moved_out: date | None = None) -> int:
        ident = int(await bus.handle(c.RegisterResident(
            SYSTEM, site_id=w.site, name=name, phone="13812345678",
            residencies=(c.ResidencyIn(unit_id, Relation.OWNER, date(2020, 5, 1)),))))
        if moved_out is not None:
            from hub.domain.residents import Residency
            async with hub.uow() as uow:
                (await uow.find(Residency, resident_id=ident))[0].moved_out = moved_out
                await uow.commit()
        return ident

    w.alice = await resident("张伟", w.unit_a)
    w.bob = await resident("李娜", w.unit_b)
    w.carol = await resident("陈静", w.unit_a, moved_out=date(2025, 1, 1))

    async def device(building: int | None, code: str) -> int:
        async with hub.engine.begin() as conn:
            return int(await conn.scalar(devices.insert().values(
                site_id=w.site, building_id=building, code=code, kind="door", name=code,
                protocol="mqtt", connection={}, poll_period_s=1.0, timeout_s=300,
                approval="active", tags=[]).returning(devices.c.id)))

    w.door_b1 = await device(w.b1, "door-b1")
    w.door_b2 = await device(w.b2, "door-b2")
    w.gate_door = await device(None, "gate-door")
    for username, (role, site, resident) in ACCOUNTS.items():
        w.accounts[username] = await bus.handle(c.CreateAccount(
            SYSTEM, username=username, password=PASSWORD, role=role,
            resident_id=getattr(w, resident) if resident else None,
            grants=(c.GrantIn(getattr(w, site)),) if site else ()))
        w.tokens[username] = (await bus.handle(c.Login(username, PASSWORD))).access_token
    return w
