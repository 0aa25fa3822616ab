"""Access control in the API tests' world: per site a door (a door device of a building),
per household (A, B, riverside's) a card and a visitor pass waiting for approval. Visitor
passes carry no phone here: the world's phone crawl (test_pii) knows only residents' phones;
tests/integration/access/test_access_api.py checks visitors' phones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM, Actor, Role
from hub.handlers import access as h
from hub.store.device_tables import devices


async def seed_access(hub: Hub, w: Any) -> None:
    async def door(site: int, building: int, code: str) -> tuple[int, int]:
        async with hub.engine.begin() as conn:
            device = int(await conn.scalar(devices.insert().values(
                site_id=site, building_id=building, code=code, kind="door", name=code,
                protocol="mqtt", connection={}, poll_period_s=1.0, timeout_s=300,
                approval="active", tags=[]).returning(devices.c.id)))
        return int(await hub.bus.handle(h.RegisterDoor(SYSTEM, device, f"{code} 单元门",
                                                       building))), device

    w.door_lakeside, w.door_device_lakeside = await door(w.lakeside, w.b1, "door-b1")
    w.door_river, w.door_device_river = await door(w.riverside, w.r1, "door-r1")
    now = hub.clock()
    for attribute, site, unit, resident, card, visitor in (
            ("a", w.lakeside, w.unit_a, w.alice, "A1A1A1A1", "周杰"),
            ("b", w.lakeside, w.unit_b, w.bob, "B2B2B2B2", "吴刚"),
            ("river", w.riverside, w.unit_river, w.river_resident, "C3C3C3C3", "郑爽")):
        setattr(w, f"credential_{attribute}", await hub.bus.handle(h.IssueCard(
            SYSTEM, resident_id=resident, card=card, label="门禁卡")))
        household = Actor(0, Role.RESIDENT, partial_sites=frozenset({site}),
                          unit_ids=frozenset({unit}), resident_id=resident)
        issued = await hub.bus.handle(h.IssueVisitorPass(
            household, visitor_name=visitor, valid_from=now,
            valid_until=now + timedelta(days=7), entries=2, needs_approval=True))
        setattr(w, f"visitor_pass_{attribute}", issued.id)
