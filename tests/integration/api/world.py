"""A small, memorable world for API tests: two communities, two households, every role.

Built once per test session into a template SQLite file; each test gets a copy of the file, so
tests may change anything without paying for the seeding (Argon2 hashing) again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx

from hub.bootstrap import Hub
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.national_id import check_digit
from hub.domain.residents import Relation
from hub.store.device_tables import devices
from tests.integration.access.seed import seed_access
from tests.integration.billing.seed import seed_billing
from tests.integration.notices.seed import seed_notices
from tests.integration.parking_evidence.seed import seed_gate_evidence
from tests.integration.parking_gate.seed import seed_gate_sessions
from tests.integration.parking_registry.seed import seed_parking_registry
from tests.integration.work_orders.seed import seed_work_orders

PASSWORD = "correct-horse-battery"  # every account in the world shares it


def valid_national_id(first17: str) -> str:
    return first17 + check_digit(first17)


ALICE_ID = valid_national_id("31010119850315123")  # household A
BOB_ID = valid_national_id("11010519790622456")  # household B


@dataclass
class World:
    """Ids of everything seeded; `tokens` holds one access token per username."""

    lakeside: int = 0
    riverside: int = 0
    b1: int = 0
    b2: int = 0
    r1: int = 0
    unit_a: int = 0
    unit_b: int = 0
    unit_c: int = 0
    unit_river: int = 0
    alice: int = 0  # resident, owner of unit A
    alice_child: int = 0
    bob: int = 0  # resident, tenant of unit B
    river_resident: int = 0
    residency_alice: int = 0
    residency_bob: int = 0
    lift_b1: int = 0  # devices: an elevator in each building, and a gate of lakeside's own
    lift_b2: int = 0
    gate_lakeside: int = 0
    lift_river: int = 0
    asset_b1: int = 0  # facilities: each lift an asset, with a maintenance plan
    asset_b2: int = 0
    asset_river: int = 0
    plan_b1: int = 0
    plan_river: int = 0
    order_alice: int = 0  # work orders: households A's and B's repairs, a riverside fault
    order_bob: int = 0
    order_river: int = 0
    ann_lakeside: int = 0  # announcements: lakeside-wide, to b1, to b2, riverside-wide
    ann_b1: int = 0
    ann_b2: int = 0
    ann_river: int = 0
    complaint_a: int = 0  # complaints of households A and B and of riverside's unit
    complaint_b: int = 0
    complaint_river: int = 0
    decision_lakeside: int = 0  # parking evidence: a gate decision with a snapshot per site
    decision_river: int = 0
    note_alice: int = 0  # notifications: b1's residents, riverside's manager
    note_bob: int = 0
    note_river_manager: int = 0
    fee_lakeside: int = 0  # billing: a property fee per site, October billed, a payment each
    fee_river: int = 0
    bill_a: int = 0
    bill_b: int = 0
    bill_c: int = 0
    bill_river: int = 0
    payment_a: int = 0
    payment_b: int = 0
    payment_river: int = 0
    tariff_lakeside: int = 0  # parking: a visitors' tariff per site
    tariff_river: int = 0
    door_lakeside: int = 0  # access: a door per site; per household a card and a visitor
    door_river: int = 0  # pass waiting for approval (tests/integration/access/seed.py)
    door_device_lakeside: int = 0  # the door devices of those doors (in b1 and r1)
    door_device_river: int = 0
    credential_a: int = 0
    credential_b: int = 0
    credential_river: int = 0
    visitor_pass_a: int = 0
    visitor_pass_b: int = 0
    visitor_pass_river: int = 0
    camera_lakeside: int = 0  # parking registry: per site a lot, an entry lane, a black-list
    camera_river: int = 0  # entry; per household (A, B, riverside's) a space, a vehicle, a pass
    gate_river: int = 0
    lot_lakeside: int = 0
    lot_river: int = 0
    lane_lakeside: int = 0
    lane_river: int = 0
    list_entry_lakeside: int = 0
    list_entry_river: int = 0
    space_a: int = 0
    space_b: int = 0
    space_river: int = 0
    vehicle_a: int = 0
    vehicle_b: int = 0
    vehicle_river: int = 0
    monthly_pass_a: int = 0
    monthly_pass_b: int = 0
    monthly_pass_river: int = 0
    session_a: int = 0  # gate: A's car inside, B's at the exit owing ¥7.00, riverside's car
    session_b: int = 0
    session_river: int = 0
    accounts: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


# username -> (role, grants as (site attribute, building attribute or None))
STAFF = {
    "admin": (Role.ADMIN, ()),
    "manager": (Role.MANAGER, (("lakeside", None),)),
    "finance": (Role.FINANCE, (("lakeside", None),)),
    "tech": (Role.MAINTENANCE, (("lakeside", None),)),
    "desk": (Role.SERVICE_DESK, (("lakeside", None),)),
    "guard": (Role.SECURITY, (("lakeside", None),)),
    "river-manager": (Role.MANAGER, (("riverside", None),)),
    "b2-tech": (Role.MAINTENANCE, (("lakeside", "b2"),)),
}
RESIDENT_LOGINS = {"alice": "alice", "bob": "bob"}


async def build(hub: Hub) -> World:
    w = World()
    bus = hub.bus
    w.lakeside = await bus.handle(c.CreateSite(SYSTEM, code="lakeside", name="Lakeside Gardens"))
    w.riverside = await bus.handle(c.CreateSite(SYSTEM, code="riverside", name="Riverside Court"))
    w.b1 = await bus.handle(c.CreateBuilding(SYSTEM, site_id=w.lakeside, code="b1",
                                             name="Building 1", floors=18))
    w.b2 = await bus.handle(c.CreateBuilding(SYSTEM, site_id=w.lakeside, code="b2",
                                             name="Building 2", floors=18))
    w.r1 = await bus.handle(c.CreateBuilding(SYSTEM, site_id=w.riverside, code="r1",
                                             name="River 1", floors=6))

    async def unit(building: int, number: str) -> int:
        return int(await bus.handle(c.CreateUnit(
            SYSTEM, building_id=building, number=number, floor=3,
            gross_area=Decimal("89.75"), inner_area=Decimal("72.10"), status="occupied")))

    w.unit_a = await unit(w.b1, "1-0301")
    w.unit_b = await unit(w.b1, "1-0302")
    w.unit_c = await unit(w.b2, "2-0301")
    w.unit_river = await unit(w.r1, "r-0301")

    async def device(site: int, building: int | None, code: str, kind: str) -> int:
        async with hub.engine.begin() as conn:
            return int(await conn.scalar(devices.insert().values(
                site_id=site, building_id=building, code=code, kind=kind, name=code,
                protocol="mqtt", connection={}, poll_period_s=1.0, timeout_s=300,
                approval="active", tags=[]).returning(devices.c.id)))

    w.lift_b1 = await device(w.lakeside, w.b1, "lift-b1", "elevator")
    w.lift_b2 = await device(w.lakeside, w.b2, "lift-b2", "elevator")
    w.gate_lakeside = await device(w.lakeside, None, "gate-north", "gate")
    w.lift_river = await device(w.riverside, w.r1, "lift-r1", "elevator")
    await _facilities(hub, w)

    async def resident(site: int, name: str, phone: str, nid: str | None, unit_id: int,
                       relation: Relation) -> int:
        return int(await bus.handle(c.RegisterResident(
            SYSTEM, site_id=site, name=name, phone=phone, national_id=nid,
            residencies=(c.ResidencyIn(unit_id, relation, date(2020, 5, 1)),))))

    w.alice = await resident(w.lakeside, "张伟", "13812345678", ALICE_ID, w.unit_a,
                             Relation.OWNER)
    w.alice_child = await resident(w.lakeside, "张小明", "13912345678", None, w.unit_a,
                                   Relation.FAMILY)
    w.bob = await resident(w.lakeside, "李娜", "13700001111", BOB_ID, w.unit_b, Relation.TENANT)
    w.river_resident = await resident(w.riverside, "王芳", "13600002222", None, w.unit_river,
                                      Relation.OWNER)
    async with hub.uow() as uow:
        from hub.domain.residents import Residency

        w.residency_alice = (await uow.find(Residency, resident_id=w.alice))[0].id or 0
        w.residency_bob = (await uow.find(Residency, resident_id=w.bob))[0].id or 0

    ids = {"lakeside": w.lakeside, "riverside": w.riverside, "b2": w.b2}
    for username, (role, grants) in STAFF.items():
        w.accounts[username] = await bus.handle(c.CreateAccount(
            SYSTEM, username=username, password=PASSWORD, role=role,
            grants=tuple(c.GrantIn(ids[s], ids[b] if b else None) for s, b in grants)))
    w.accounts["alice"] = await bus.handle(c.CreateAccount(
        SYSTEM, username="alice", password=PASSWORD, role=Role.RESIDENT, resident_id=w.alice))
    w.accounts["bob"] = await bus.handle(c.CreateAccount(
        SYSTEM, username="bob", password=PASSWORD, role=Role.RESIDENT, resident_id=w.bob))
    await seed_work_orders(hub, w)
    await seed_notices(hub, w)
    await seed_billing(hub, w)
    await _tariffs(hub, w)
    await seed_gate_evidence(hub, w)
    await seed_access(hub, w)
    await seed_parking_registry(hub, w)
    await seed_gate_sessions(hub, w)
    for username in w.accounts:
        tokens = await bus.handle(c.Login(username, PASSWORD))
        w.tokens[username] = tokens.access_token
        w.refresh_tokens[username] = tokens.refresh_token
    return w


async def _facilities(hub: Hub, w: World) -> None:
    """A lift asset per building, linked to its lift device, and a TSG T5002 plan for two."""
    from hub.handlers.facilities import RegisterAsset
    from hub.handlers.maintenance import CreatePlanFromTemplate

    async def asset(site: int, building: int, code: str, device_id: int) -> int:
        asset_id = int(await hub.bus.handle(RegisterAsset(
            SYSTEM, site_id=site, code=code, name=f"{code} lift", category="elevator",
            building_id=building, supplier="Lakeside Lifts Co.")))
        async with hub.engine.begin() as conn:
            await conn.execute(devices.update().where(devices.c.id == device_id)
                               .values(asset_id=asset_id))
        return asset_id

    w.asset_b1 = await asset(w.lakeside, w.b1, "b1-lift", w.lift_b1)
    w.asset_b2 = await asset(w.lakeside, w.b2, "b2-lift", w.lift_b2)
    w.asset_river = await asset(w.riverside, w.r1, "r1-lift", w.lift_river)
    first_due = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    w.plan_b1 = int(await hub.bus.handle(CreatePlanFromTemplate(
        actor=SYSTEM, asset_id=w.asset_b1, template="half-monthly", first_due=first_due,
        every_trips=5000)))
    w.plan_river = int(await hub.bus.handle(CreatePlanFromTemplate(
        actor=SYSTEM, asset_id=w.asset_river, template="quarterly", first_due=first_due)))


# 15 free minutes, first hour ¥5, then ¥2 per started 30 minutes, night 20:00–08:00 ¥1 per
# started hour, at most ¥30 per rolling 24 hours, green plates ×0.5 (docs/parking.md).
VISITOR_RULES = {
    "free_minutes": 15, "first_period_minutes": 60, "first_period_price": "5.00",
    "unit_minutes": 30, "unit_price": "2.00",
    "night": {"start": "20:00", "end": "08:00", "unit_minutes": 60, "unit_price": "1.00"},
    "cap": {"amount": "30.00", "window": "rolling_24h"}, "plate_multipliers": {"green": "0.5"},
}


async def _tariffs(hub: Hub, w: World) -> None:
    from hub.handlers.tariffs import CreateTariff

    since = datetime.fromisoformat("2026-01-01T00:00:00+08:00")
    for site, attribute in ((w.lakeside, "tariff_lakeside"), (w.riverside, "tariff_river")):
        setattr(w, attribute, await hub.bus.handle(CreateTariff(
            SYSTEM, site_id=site, code="visitors", name="临停 visitors", effective_from=since,
            rules=VISITOR_RULES)))


async def login(client: httpx.AsyncClient, username: str,
                password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v1/auth/login",
                             data={"username": username, "password": password})
