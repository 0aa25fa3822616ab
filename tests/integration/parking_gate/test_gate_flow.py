"""The gate flow, every entry and exit case of issue 6, against a fake registry and gateway
on SQLite: the decisions, the barrier and display commands, one charge at most, occupancy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hub.domain.accounts import Actor, Role
from hub.domain.parking.sessions import ChargeStatus, PaidBy, SessionState, Verdict
from hub.domain.parking.standing import Standing
from hub.settings import ParkingSettings
from tests.integration.parking_gate.world import T0, World, build_world

GUARD = Actor(account_id=7, role=Role.SECURITY, all_sites=True)
M = timedelta(minutes=1)


async def test_resident_car_enters_and_leaves_free(world: World) -> None:
    world.standing("沪A12345", Standing.REGISTERED, resident_ids=(3,))
    entry = await world.enter("沪A12345", T0)
    leave = await world.leave("沪A12345", T0 + 300 * M)
    assert (entry.verdict, leave.verdict) == (Verdict.OPEN, Verdict.OPEN)
    assert world.gateway.actions() == [("gate-in", "open"), ("gate-out", "open")]
    (session,) = await world.all_sessions()
    assert session.state is SessionState.LEFT and session.fee == 0
    assert await world.charges() == []


async def test_monthly_pass_and_expired_pass_in_grace_open(world: World) -> None:
    world.standing("沪B11111", Standing.MONTHLY, pass_id=1)
    world.standing("沪B22222", Standing.MONTHLY_GRACE, pass_id=2)
    for plate in ("沪B11111", "沪B22222"):
        assert (await world.enter(plate, T0)).verdict is Verdict.OPEN
        assert (await world.leave(plate, T0 + 600 * M)).verdict is Verdict.OPEN
    assert world.opened() == 4 and await world.charges() == []


async def test_visitor_parks_free_within_its_free_minutes(world: World) -> None:
    world.standing("沪C33333", Standing.VISITOR, visitor_pass_id=5, visitor_free_minutes=120)
    assert (await world.enter("沪C33333", T0)).verdict is Verdict.OPEN
    leave = await world.leave("沪C33333", T0 + 100 * M)
    assert leave.verdict is Verdict.OPEN
    assert await world.charges() == []


async def test_temporary_car_pays_cash_at_the_exit(world: World) -> None:
    await world.enter("沪D44444", T0)
    leave = await world.leave("沪D44444", T0 + 90 * M)  # 15 free, 60 first 5.00, 1 unit 2.00
    assert leave.verdict is Verdict.AWAIT_PAYMENT
    display = world.gateway.sent[-1]
    assert (display.key.device, display.action) == ("lcd-out", "display")
    assert display.args["amount"] == "7.00" and display.args["session_id"] == leave.session_id
    assert world.opened("gate-out") == 0
    assert leave.session_id is not None
    charge = await world.flow.staff.record_cash(GUARD, leave.session_id, Decimal("7.00"),
                                                T0 + 92 * M)
    await world.flow.gate.commands.drain()
    assert charge.status is ChargeStatus.PAID and charge.paid_by is PaidBy.CASH
    assert world.opened("gate-out") == 1
    (session,) = await world.all_sessions()
    assert session.state is SessionState.LEFT and session.paid_amount == Decimal("7.00")
    assert len(await world.charges()) == 1


async def test_blacklisted_car_is_refused_and_security_alerted(world: World) -> None:
    world.standing("沪E55555", Standing.BLACKLISTED, list_entry_id=9)
    outcome = await world.enter("沪E55555", T0)
    assert outcome.verdict is Verdict.REFUSE and "blacklisted" in outcome.reasons[-1]
    assert world.gateway.sent == [] and await world.all_sessions() == []
    (alert,) = world.alerts
    assert alert.role is Role.SECURITY and "沪E55555" in alert.title


async def test_full_lot_refuses_temporary_cars_but_not_residents(world: World) -> None:
    await world.enter("沪F00001", T0)
    await world.enter("沪F00002", T0 + M)
    full = await world.enter("沪F00003", T0 + 2 * M)
    assert full.verdict is Verdict.REFUSE and "full: 2 of 2" in full.reasons[-1]
    world.standing("沪F00004", Standing.REGISTERED)
    assert (await world.enter("沪F00004", T0 + 3 * M)).verdict is Verdict.OPEN
    assert world.opened("gate-in") == 3


async def test_misread_exit_matches_the_one_car_inside(world: World) -> None:
    await world.enter("沪G12348", T0)
    leave = await world.leave("沪G1234B", T0 + 10 * M)  # 8 read as B; within free minutes
    assert leave.verdict is Verdict.OPEN
    assert any("matched 沪G12348" in r for r in leave.reasons)
    (session,) = await world.all_sessions()
    assert session.state is SessionState.LEFT and session.needs_review


async def test_ambiguous_misread_matches_nobody(world: World) -> None:
    await world.enter("沪G12340", T0)
    await world.enter("沪G1234D", T0 + M)
    leave = await world.leave("沪G1234Q", T0 + 10 * M)
    assert any("could be any of" in r for r in leave.reasons)
    assert leave.verdict is Verdict.AWAIT_PAYMENT  # treated as an exit with no entry
    sessions = await world.all_sessions()
    assert [s.state for s in sessions[:2]] == [SessionState.INSIDE, SessionState.INSIDE]


async def test_repeated_reads_are_merged(world: World) -> None:
    first = await world.enter("沪H77777", T0)
    again = await world.enter("沪H77777", T0 + timedelta(seconds=4))
    assert first.verdict is Verdict.OPEN and again.verdict is None
    await world.leave("沪H77777", T0 + 5 * M)
    assert (await world.leave("沪H77777", T0 + 5 * M + timedelta(seconds=3))).verdict is None
    assert world.opened() == 2 and len(await world.all_sessions()) == 1


async def test_exit_with_no_entry_charges_the_first_period(world: World) -> None:
    leave = await world.leave("沪J88888", T0)
    assert leave.verdict is Verdict.AWAIT_PAYMENT
    assert world.gateway.sent[-1].args["amount"] == "5.00"
    (session,) = await world.all_sessions()
    assert session.no_entry and session.needs_review
    (charge,) = await world.charges()
    assert charge.amount == Decimal("5.00") and charge.status is ChargeStatus.DUE


async def test_exit_with_no_entry_can_be_held_for_a_guard(engine) -> None:  # type: ignore[no-untyped-def]
    from hub.store.db import make_sessions
    world = await build_world(engine, make_sessions(engine), settings=ParkingSettings(
        exit_without_entry="hold_for_guard"))
    leave = await world.leave("沪J88889", T0)
    assert leave.verdict is Verdict.HOLD and world.gateway.sent == []
    (session,) = await world.all_sessions()
    assert session.state is SessionState.HELD and session.needs_review
    assert leave.session_id is not None
    await world.flow.staff.close_session(GUARD, leave.session_id, "let out after checking",
                                         T0 + M)
    (session,) = await world.all_sessions()
    assert session.state is SessionState.CLOSED_BY_STAFF and await world.charges() == []


async def test_a_car_inside_cannot_enter_again_until_closed(world: World) -> None:
    first = await world.enter("沪K99999", T0)
    twice = await world.enter("沪K99999", T0 + 5 * M)
    assert twice.verdict is Verdict.REFUSE and "already inside" in twice.reasons[-1]
    assert first.session_id is not None
    await world.flow.staff.close_session(GUARD, first.session_id, "tailgated out", T0 + 6 * M)
    assert (await world.enter("沪K99999", T0 + 7 * M)).verdict is Verdict.OPEN
    assert world.opened("gate-in") == 2


async def test_paid_in_advance_leaves_within_grace_then_owes_the_rest(world: World) -> None:
    await world.enter("沪L10101", T0)
    await world.enter("沪L20202", T0)
    async with world.sessions() as db, db.begin():
        for stored in await world.all_sessions():
            s = await db.merge(stored)
            s.paid_amount, s.paid_until = Decimal("5.00"), T0 + 70 * M  # paid at 55 min
    within = await world.leave("沪L10101", T0 + 69 * M)
    late = await world.leave("沪L20202", T0 + 200 * M)  # 5 + 2*3 = 11.00, 6.00 left
    assert within.verdict is Verdict.OPEN
    assert late.verdict is Verdict.AWAIT_PAYMENT
    assert world.gateway.sent[-1].args["amount"] == "6.00"
    by_plate = {c.plate: c for c in await world.charges()}
    assert by_plate["沪L10101"].status is ChargeStatus.PAID
    assert by_plate["沪L20202"].amount == Decimal("11.00")


async def test_paying_online_opens_the_waiting_exit(world: World) -> None:
    await world.enter("沪M30303", T0)
    leave = await world.leave("沪M30303", T0 + 80 * M)
    assert leave.session_id is not None
    assert not await world.flow.open_after_payment(leave.session_id)  # not paid yet
    async with world.sessions() as db, db.begin():
        from hub.domain.parking.sessions import ParkingSession
        s = await db.get(ParkingSession, leave.session_id)
        assert s is not None
        s.paid_amount = s.fee or Decimal(0)
    assert await world.flow.open_after_payment(leave.session_id)
    await world.flow.gate.commands.drain()
    assert world.opened("gate-out") == 1


async def test_read_without_text_and_no_reader_is_held(world: World) -> None:
    outcome = await world.enter(None, T0, image=b"\xff\xd8\xff")
    assert outcome.verdict is Verdict.HOLD and world.gateway.sent == []
    assert any("no plate reader" in r for r in outcome.reasons)


class _Reading:
    plate, color, confidence = "沪N12121", "blue", 0.93


class _Reader:
    def __init__(self) -> None:
        self.images: list[bytes] = []

    async def read(self, image: bytes) -> _Reading:
        self.images.append(image)
        return _Reading()


async def test_a_read_without_text_is_read_from_its_snapshot(engine) -> None:  # type: ignore[no-untyped-def]
    from hub.store.db import make_sessions
    reader = _Reader()
    world = await build_world(engine, make_sessions(engine), reader=reader)
    outcome = await world.enter(None, T0, image=b"\xff\xd8\xffjpeg")
    assert outcome.verdict is Verdict.OPEN and reader.images == [b"\xff\xd8\xffjpeg"]
    assert any("read from the snapshot" in r for r in outcome.reasons)
    (session,) = await world.all_sessions()
    assert session.plate == "沪N12121"
    # A weak read is read again; the reader's better reading is the car already inside.
    weak = await world.enter("沪N9999Z", T0 + M, confidence=0.3, image=b"\xff\xd8\xffjpeg")
    assert weak.verdict is Verdict.REFUSE and len(reader.images) == 2
    assert "already inside" in weak.reasons[-1]


async def test_an_exit_read_before_its_entry_is_charged_once_for_review(world: World) -> None:
    leave = await world.leave("沪P50505", T0 + 120 * M)  # delivered first
    late = await world.enter("沪P50505", T0, received_at=T0 + 121 * M)
    assert leave.verdict is Verdict.AWAIT_PAYMENT and late.verdict is Verdict.HOLD
    (session,) = await world.all_sessions()
    assert session.entry_at is not None and session.needs_review
    assert "entry read arrived after its exit" in (session.review_reason or "")
    assert len(await world.charges()) == 1 and world.opened() == 0


async def test_camera_clocks_that_disagree_never_make_a_stay_free(world: World) -> None:
    # The exit camera runs 9 minutes slow: its exit read is timed before the entry read.
    await world.enter("沪Q60606", T0)
    leave = await world.leave("沪Q60606", T0 - 4 * M, received_at=T0 + 5 * M)
    assert leave.verdict is Verdict.OPEN  # 5 minutes by the hub's clock: within free minutes
    (session,) = await world.all_sessions()
    assert session.needs_review and "camera clocks disagree" in (session.review_reason or "")
    await world.enter("沪Q70707", T0)
    late = await world.leave("沪Q70707", T0 - 4 * M, received_at=T0 + 95 * M)
    assert late.verdict is Verdict.AWAIT_PAYMENT  # 95 minutes by the hub: 7.00 due
    assert world.gateway.sent[-1].args["amount"] == "7.00"


async def test_reads_reach_the_flow_through_its_queue_per_site(world: World) -> None:
    import asyncio

    from hub.domain.observations import DeviceKey, Envelope, PlateRead
    from hub.domain.registry import Approval
    from hub.ingest.observers import Delivered
    from hub.ingest.registry_cache import DeviceInfo
    camera = DeviceInfo(world.camera_in, world.site_id, "lakeside", "cam-in", "camera", None,
                        Approval.ACTIVE, 300)
    envelope = Envelope(DeviceKey("lakeside", "camera", "cam-in"), T0, T0, 1, "b1")
    runner = asyncio.create_task(world.flow.run())
    try:
        await world.flow.observe(Delivered(camera, PlateRead(
            envelope, "in-1", "in", "沪S80808", "blue", 0.97)))
        for _ in range(200):
            if world.flow.decided:
                break
            await asyncio.sleep(0.01)
        await world.flow.gate.commands.drain()
    finally:
        runner.cancel()
    assert world.flow.decided == 1 and world.opened("gate-in") == 1


async def test_the_barriers_loop_marks_the_opening_it_let_through(world: World) -> None:
    """`passed` is the barrier's own event: it is matched to the lane by barrier, never by
    camera, and noted on the lane's latest opening only."""
    from hub.domain.observations import DeviceKey, Envelope, VehiclePassed
    await world.enter("沪S80808", T0)
    gate_in = world.lane_in.barrier_device_id
    assert gate_in is not None
    envelope = Envelope(DeviceKey("lakeside", "gate", "gate-in"), T0 + timedelta(seconds=4),
                        T0 + timedelta(seconds=4), 1, "b1")

    await world.flow.passed(world.camera_in, VehiclePassed(envelope, lane="in-1"))
    decisions = await world.flow.decisions_of((await world.all_sessions())[0].id)
    assert [d.passed_at for d in decisions] == [None]  # a camera has no loop

    await world.flow.passed(gate_in, VehiclePassed(envelope, lane="in-1"))
    decisions = await world.flow.decisions_of((await world.all_sessions())[0].id)
    assert [d.passed_at for d in decisions] == [T0 + timedelta(seconds=4)]


async def test_a_read_is_not_held_up_by_a_passed_event_before_it(world: World) -> None:
    """The loops' `passed` notes go through a worker of their own: a slow one (SQLite's write
    lock behind the telemetry) must not make the next car's barrier wait."""
    import asyncio

    from hub.domain.observations import DeviceKey, Envelope, PlateRead, VehiclePassed
    from hub.domain.registry import Approval
    from hub.ingest.observers import Delivered
    from hub.ingest.registry_cache import DeviceInfo
    camera = DeviceInfo(world.camera_in, world.site_id, "lakeside", "cam-in", "camera", None,
                        Approval.ACTIVE, 300)
    gate_in = world.lane_in.barrier_device_id
    assert gate_in is not None
    gate = DeviceInfo(gate_in, world.site_id, "lakeside", "gate-in", "gate", None,
                      Approval.ACTIVE, 300)
    release = asyncio.Event()
    noted: list[int] = []

    async def slow_passed(device_id: int, passed: VehiclePassed) -> None:
        await release.wait()
        noted.append(device_id)

    world.flow.passed = slow_passed  # type: ignore[method-assign]
    runner = asyncio.create_task(world.flow.run())
    try:
        await world.flow.observe(Delivered(gate, VehiclePassed(
            Envelope(DeviceKey("lakeside", "gate", "gate-in"), T0, T0, 1, "b1"), "in-1")))
        await world.flow.observe(Delivered(camera, PlateRead(
            Envelope(DeviceKey("lakeside", "camera", "cam-in"), T0, T0, 1, "b1"),
            "in-1", "in", "沪S80808", "blue", 0.97)))
        for _ in range(200):
            if world.flow.decided:
                break
            await asyncio.sleep(0.01)
        assert world.flow.decided == 1 and noted == []  # decided while the note waits
        release.set()
        for _ in range(200):
            if noted:
                break
            await asyncio.sleep(0.01)
        await world.flow.gate.commands.drain()
    finally:
        runner.cancel()
    assert noted == [gate_in] and world.opened("gate-in") == 1
