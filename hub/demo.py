"""Lakeside Gardens: the believable community `hub demo` seeds into an empty database."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hub.bus import MessageBus
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.national_id import check_digit
from hub.domain.residents import Relation

SITE_CODE = "lakeside"
BUILDINGS = (("b1", "1号楼 Building 1", 20), ("b2", "2号楼 Building 2", 20),
             ("b3", "3号楼 Building 3", 20))
UNITS_PER_FLOOR = 2
LAYOUTS = (("3室2厅2卫", Decimal("128.40"), Decimal("103.20"), "NS"),
           ("2室2厅1卫", Decimal("89.75"), Decimal("72.10"), "S"))
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛",
         "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "辉")
STAFF = ((Role.ADMIN, "admin", "管理员 Admin"), (Role.MANAGER, "manager", "项目经理 Manager"),
         (Role.FINANCE, "finance", "财务 Finance"), (Role.MAINTENANCE, "tech", "维修工 Technician"),
         (Role.SERVICE_DESK, "desk", "客服 Service desk"), (Role.SECURITY, "guard", "保安 Guard"))
DEMO_PASSWORD_SUFFIX = "-demo-2026"  # noqa: S105 - printed on the demo's console on purpose
RESIDENT_LOGINS = 2


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    note: str


def national_id_for(rng: random.Random, birth: date) -> str:
    first17 = f"310115{birth:%Y%m%d}{rng.randrange(1000):03d}"  # 上海市浦东新区
    return first17 + check_digit(first17)


def phone_for(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


async def seed(bus: MessageBus, *, seed_value: int = 2026) -> None:
    """Create the community through the ordinary commands, so every rule applies to it."""
    rng = random.Random(seed_value)  # noqa: S311 - reproducible demo data, not secrets
    site = await bus.handle(c.CreateSite(SYSTEM, code=SITE_CODE, name="Lakeside Gardens 湖畔花园",
                                         address="上海市浦东新区湖畔路 88 号"))
    households: list[int] = []
    first_resident: dict[int, int] = {}
    for code, name, floors in BUILDINGS:
        building = await bus.handle(c.CreateBuilding(SYSTEM, site_id=site, code=code, name=name,
                                                     floors=floors))
        for floor in range(1, floors + 1):
            for index, (layout, gross, inner, facing) in enumerate(LAYOUTS, start=1):
                occupied = rng.random() < 0.85
                unit = await bus.handle(c.CreateUnit(
                    SYSTEM, building_id=building, number=f"{code[1:]}-{floor:02d}{index:02d}",
                    floor=floor, gross_area=gross, inner_area=inner, layout=layout,
                    orientation=facing, status="occupied" if occupied else "vacant"))
                if occupied:
                    households.append(unit)
                    first_resident[unit] = await _household(bus, rng, site, unit)
    for role, username, name in STAFF:
        grants = () if role == Role.ADMIN else (c.GrantIn(site),)
        await bus.handle(c.CreateAccount(SYSTEM, username=username, password=_password(username),
                                         role=role, display_name=name, grants=grants))
    for number, unit in enumerate(households[:RESIDENT_LOGINS], start=1):
        username = f"resident{number}"
        await bus.handle(c.CreateAccount(SYSTEM, username=username, password=_password(username),
                                         role=Role.RESIDENT, resident_id=first_resident[unit]))


def logins() -> list[DemoLogin]:
    """The accounts `seed` creates, for the demo's console."""
    staff = [DemoLogin(u, _password(u), role, name) for role, u, name in STAFF]
    residents = [DemoLogin(f"resident{n}", _password(f"resident{n}"), Role.RESIDENT,
                           "a household's owner; sees only that household")
                 for n in range(1, RESIDENT_LOGINS + 1)]
    return staff + residents


def _password(username: str) -> str:
    return username + DEMO_PASSWORD_SUFFIX


async def _household(bus: MessageBus, rng: random.Random, site: int, unit: int) -> int:
    moved_in = date(2015, 1, 1) + timedelta(days=rng.randrange(3500))
    relation = Relation.OWNER if rng.random() < 0.8 else Relation.TENANT
    members = [relation] + [Relation.FAMILY] * rng.randrange(0, 3)
    ids: list[int] = []
    for member in members:
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))
        ids.append(await bus.handle(c.RegisterResident(
            SYSTEM, site_id=site, name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            phone=phone_for(rng), national_id=national_id_for(rng, birth),
            residencies=(c.ResidencyIn(unit, member, moved_in),))))
    return ids[0]
