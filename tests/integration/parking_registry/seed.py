"""The parking registry of the API tests' world: per site a lot with an entry lane (its own
camera and barrier), and per household (A, B, riverside's) a space, a vehicle and a monthly
pass; a black-list entry per site."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hub.bootstrap import Hub
from hub.domain.accounts import SYSTEM
from hub.domain.parking.registry import PlateList, SpaceKind
from hub.domain.parking.standing import Direction
from hub.handlers.parking_plates import AddListEntry, IssuePass, RegisterVehicle
from hub.handlers.parking_registry import CreateLane, CreateLot, CreateSpace
from hub.store.device_tables import devices

# Plates of the world: A's, B's and riverside's cars, and one black-listed per site.
PLATE_A, PLATE_B, PLATE_RIVER = "沪A11111", "沪B22222", "苏E33333"
BANNED_LAKESIDE, BANNED_RIVER = "沪C44444", "苏E55555"


async def seed_parking_registry(hub: Hub, w: Any) -> None:
    async def device(site: int, code: str, kind: str) -> int:
        async with hub.engine.begin() as conn:
            return int(await conn.scalar(devices.insert().values(
                site_id=site, building_id=None, code=code, kind=kind, name=code,
                protocol="mqtt", connection={}, poll_period_s=1.0, timeout_s=300,
                approval="active", tags=[]).returning(devices.c.id)))

    w.camera_lakeside = await device(w.lakeside, "cam-north-in", "camera")
    w.camera_river = await device(w.riverside, "cam-river-in", "camera")
    w.gate_river = await device(w.riverside, "gate-river", "gate")
    bus = hub.bus
    since = datetime(2026, 1, 1, tzinfo=UTC)
    for site, prefix, camera, gate, tariff, unit, plate, banned in (
            (w.lakeside, "lakeside", w.camera_lakeside, w.gate_lakeside, w.tariff_lakeside,
             w.unit_a, PLATE_A, BANNED_LAKESIDE),
            (w.riverside, "river", w.camera_river, w.gate_river, w.tariff_river, w.unit_river,
             PLATE_RIVER, BANNED_RIVER)):
        lot = await bus.handle(CreateLot(SYSTEM, site_id=site, code="north",
                                         name="北门地面 north lot", temporary_capacity=20,
                                         tariff_id=tariff))
        lane = await bus.handle(CreateLane(SYSTEM, lot_id=lot, code="north-in",
                                           direction=Direction.IN, camera_device_id=camera,
                                           barrier_device_id=gate))
        entry = await bus.handle(AddListEntry(SYSTEM, site_id=site, list=PlateList.BLACK,
                                              plate=banned, reason="rammed the barrier",
                                              valid_from=since))
        setattr(w, f"lot_{prefix}", lot)
        setattr(w, f"lane_{prefix}", lane)
        setattr(w, f"list_entry_{prefix}", entry)
        space_name = "space_a" if site == w.lakeside else "space_river"
        await _household(hub, w, site, lot, unit, plate, space_name)
    await _household(hub, w, w.lakeside, w.lot_lakeside, w.unit_b, PLATE_B, "space_b")


async def _household(hub: Hub, w: Any, site: int, lot: int, unit: int, plate: str,
                     space_name: str) -> None:
    suffix = space_name.removeprefix("space_")
    space = await hub.bus.handle(CreateSpace(SYSTEM, lot_id=lot, code=f"B1-{suffix.upper()}",
                                             kind=SpaceKind.OWNED, unit_id=unit))
    vehicle = await hub.bus.handle(RegisterVehicle(SYSTEM, unit_id=unit, plate=plate,
                                                   space_id=space))
    monthly = await hub.bus.handle(IssuePass(SYSTEM, site_id=site, vehicle_id=vehicle,
                                             valid_from=date(2026, 1, 1),
                                             valid_to=date(2026, 12, 31), grace_days=3))
    setattr(w, space_name, space)
    setattr(w, f"vehicle_{suffix}", vehicle)
    setattr(w, f"monthly_pass_{suffix}", monthly)
