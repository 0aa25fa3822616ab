"""Lakeside Gardens' car park and door cards, seeded once after the demo's devices exist.

The simulated cameras (simulators/mqtt/scenario.py) see the residents' plates and visitors'
plates; here the first are registered to households (one by a monthly pass instead), the
gates' cameras become entry and exit lanes of one lot, and temporary cars pay the posted
tariff: so a newcomer sees barriers open for residents and charges appear for visitors. The
door simulators present two cards; they are issued to the two demo residents.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from hub.bus import MessageBus
from hub.domain.accounts import SYSTEM, Account
from hub.domain.parking.registry import Lot
from hub.domain.parking.standing import Direction
from hub.domain.property import Site
from hub.domain.registry import Device
from hub.domain.residents import Residency
from hub.handlers.access import IssueCard
from hub.handlers.parking_plates import IssuePass, RegisterVehicle
from hub.handlers.parking_registry import CreateLane, CreateLot
from hub.handlers.tariffs import CreateTariff
from hub.ports import UnitOfWork
from simulators.mqtt.scenario import CREDENTIALS, RESIDENT_PLATES

LOT_CODE = "p1"
GATES = ("north", "south")
# 临停: the first hour ¥5, then ¥2 an hour, at most ¥30 a calendar day. No free minutes, so
# the demo's short stays show a charge at once.
DEMO_TARIFF = {"free_minutes": 0, "first_period_minutes": 60, "first_period_price": "5.00",
               "unit_minutes": 60, "unit_price": "2.00",
               "cap": {"amount": "30.00", "window": "calendar_day"}}
REGISTERED = 4  # the first resident plates are households' cars; the next has a monthly pass


async def seed_parking(bus: MessageBus, uow_factory: Callable[[], UnitOfWork],
                       site_code: str, now: datetime) -> bool:
    """Seed once (False: the lot was there already)."""
    async with uow_factory() as uow:
        site = await uow.find_one(Site, code=site_code)
        if site is None or site.id is None:
            return False
        if await uow.find_one(Lot, site_id=site.id, code=LOT_CODE) is not None:
            return False
        devices = {d.code: d.id for d in await uow.find(Device, site_id=site.id)}
        logins = [a for a in await uow.find(Account) if a.resident_id is not None]
        homes = [(r.resident_id, r.unit_id) for a in sorted(logins, key=lambda a: a.username)
                 for r in await uow.find(Residency, resident_id=a.resident_id)]
        others = [(r.resident_id, r.unit_id) for r in await uow.find(Residency)
                  if r.moved_out is None][:REGISTERED]
    tariff = await bus.handle(CreateTariff(
        SYSTEM, site_id=site.id, code="temporary", name="临时停车 Temporary parking",
        effective_from=now, rules=DEMO_TARIFF))
    lot = await bus.handle(CreateLot(SYSTEM, site_id=site.id, code=LOT_CODE,
                                     name="地面停车场 Surface car park", temporary_capacity=20,
                                     tariff_id=tariff))
    for gate in GATES:
        for way in Direction:
            camera, barrier = devices.get(f"cam-{gate}-{way.value}"), devices.get(f"gate-{gate}")
            if camera is not None and barrier is not None:
                await bus.handle(CreateLane(SYSTEM, lot_id=lot, code=f"{gate}-{way.value}",
                                            direction=way,
                                            camera_device_id=camera,
                                            barrier_device_id=barrier))
    owners = (homes + others)[:REGISTERED]
    for plate, (resident_id, unit_id) in zip(RESIDENT_PLATES, owners, strict=False):
        await bus.handle(RegisterVehicle(SYSTEM, unit_id=unit_id, plate=plate,
                                         resident_id=resident_id, note="demo"))
    if len(RESIDENT_PLATES) > REGISTERED:
        await bus.handle(IssuePass(SYSTEM, site_id=site.id, plate=RESIDENT_PLATES[REGISTERED],
                                   valid_from=(now - timedelta(days=20)).date(),
                                   valid_to=(now + timedelta(days=10)).date(), grace_days=3,
                                   fee_ref="demo"))
    cards = [c.removeprefix("CARD:") for c in CREDENTIALS if c.startswith("CARD:")]
    for card, (resident_id, _unit) in zip(cards, homes, strict=False):
        await bus.handle(IssueCard(SYSTEM, resident_id=resident_id, card=card,
                                   label="demo card"))
    return True
