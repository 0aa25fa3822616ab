"""The gate's periodic passes: overstay flags, once; plate logs forgotten after their
retention, except sessions that carry a charge."""

from __future__ import annotations

from datetime import timedelta

from hub.domain.parking.standing import Standing
from hub.parking.steps import run_gate_log_retention, run_overstay_flags
from hub.settings import ParkingSettings
from tests.integration.parking_gate.world import T0, World

DAY = timedelta(days=1)


async def test_a_car_inside_too_long_is_flagged_once(world: World) -> None:
    world.standing("沪A00001", Standing.REGISTERED)
    await world.enter("沪A00001", T0)
    await world.enter("沪A00002", T0 + 2 * DAY)
    settings = ParkingSettings(overstay_hours=72)
    late = T0 + 3 * DAY + timedelta(hours=1)
    assert await run_overstay_flags(world.sessions, settings, late) == 1
    assert await run_overstay_flags(world.sessions, settings, T0 + 4 * DAY) == 0
    first, second = await world.all_sessions()
    assert first.overstay and first.needs_review and not second.overstay


async def test_retention_removes_old_logs_but_keeps_charged_sessions(world: World) -> None:
    world.standing("沪A00003", Standing.REGISTERED)
    await world.enter("沪A00003", T0)
    await world.leave("沪A00003", T0 + timedelta(hours=1))  # free: no charge
    await world.enter("沪A00004", T0)
    await world.leave("沪A00004", T0 + timedelta(hours=3))  # a charge, due
    await world.enter("沪A00005", T0 + 200 * DAY)  # recent: stays
    settings = ParkingSettings(log_retention_days=180)
    removed = await run_gate_log_retention(world.sessions, settings, T0 + 190 * DAY)
    assert removed == 5  # 4 old decisions, 1 old session without a charge
    plates = [s.plate for s in await world.all_sessions()]
    assert plates == ["沪A00004", "沪A00005"]
    assert len(await world.charges()) == 1
