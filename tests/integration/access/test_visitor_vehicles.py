"""The parking registry's visitor side: a pass naming a plate makes it a VISITOR while the
pass admits, with the pass's free minutes, its end and the household who may pay."""

from __future__ import annotations

from datetime import timedelta

from hub.bootstrap import Hub
from hub.domain.access.model import PassStatus, VisitorPass
from hub.domain.parking.standing import Standing
from hub.store.access_visitors import SqlVisitorVehicles
from tests.integration.access.community import Community
from tests.integration.access.conftest import NOW

PLATE = "沪A12345"


async def _pass(hub: Hub, w: Community, **changes: object) -> int:
    values: dict[str, object] = dict(
        site_id=w.site, unit_id=w.unit_a, issued_by=w.alice, visitor_name="王芳",
        valid_from=NOW - timedelta(hours=1), valid_until=NOW + timedelta(hours=3),
        entries_allowed=1, created_at=NOW - timedelta(hours=2), salt="s", plate=PLATE,
        free_minutes=120)
    values.update(changes)
    async with hub.uow() as uow:
        visitor_pass = VisitorPass(**values)  # type: ignore[arg-type]
        uow.add(visitor_pass)
        await uow.commit()
        assert visitor_pass.id is not None
        return visitor_pass.id


async def test_a_valid_pass_makes_its_plate_a_visitor_of_the_household(
        hub: Hub, lakeside: Community) -> None:
    pass_id = await _pass(hub, lakeside)
    standing = await SqlVisitorVehicles(hub.engine).visitor_vehicle(lakeside.site, PLATE, NOW)
    assert standing is not None
    assert standing.standing == Standing.VISITOR
    assert standing.visitor_pass_id == pass_id
    assert standing.visitor_free_minutes == 120
    assert standing.visitor_until == NOW + timedelta(hours=3)
    assert standing.resident_ids == (lakeside.alice,)  # carol moved out of unit A
    assert any(PLATE in reason for reason in standing.reasons)


async def test_no_standing_outside_the_window_or_unapproved_or_cancelled(
        hub: Hub, lakeside: Community) -> None:
    visitors = SqlVisitorVehicles(hub.engine)
    await _pass(hub, lakeside, plate="沪B11111", status=PassStatus.PENDING, needs_approval=True)
    await _pass(hub, lakeside, plate="沪B22222", status=PassStatus.CANCELLED)
    await _pass(hub, lakeside, plate="沪B33333", status=PassStatus.REJECTED)
    await _pass(hub, lakeside, plate="沪B44444", valid_from=NOW, valid_until=NOW + timedelta(1))
    for plate in ("沪B11111", "沪B22222", "沪B33333", PLATE):
        assert await visitors.visitor_vehicle(lakeside.site, plate, NOW) is None, plate
    # The window: from valid_from on, up to (not at) valid_until.
    assert await visitors.visitor_vehicle(lakeside.site, "沪B44444", NOW) is not None
    assert await visitors.visitor_vehicle(
        lakeside.site, "沪B44444", NOW - timedelta(microseconds=1)) is None
    assert await visitors.visitor_vehicle(
        lakeside.site, "沪B44444", NOW + timedelta(days=1)) is None
    assert await visitors.visitor_vehicle(lakeside.other_site, "沪B44444", NOW) is None


async def test_used_up_entries_still_leave_the_car_a_visitor(hub: Hub,
                                                             lakeside: Community) -> None:
    await _pass(hub, lakeside, entries_used=1, last_entry_at=NOW - timedelta(minutes=50))
    standing = await SqlVisitorVehicles(hub.engine).visitor_vehicle(lakeside.site, PLATE, NOW)
    assert standing is not None and standing.standing == Standing.VISITOR


async def test_of_two_passes_the_longer_one_counts(hub: Hub, lakeside: Community) -> None:
    await _pass(hub, lakeside)
    longer = await _pass(hub, lakeside, valid_until=NOW + timedelta(days=2), free_minutes=0)
    standing = await SqlVisitorVehicles(hub.engine).visitor_vehicle(lakeside.site, PLATE, NOW)
    assert standing is not None and standing.visitor_pass_id == longer
