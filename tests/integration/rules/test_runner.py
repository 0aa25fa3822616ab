"""The rules worker on SQLite: outcomes through the bus and recorded with their evidence,
retries then dead letters while other events flow (R5), unhandled commands skipped."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.observations import DeviceKey, Envelope, Fault, Telemetry
from hub.domain.outcomes import Notify, Priority, RaiseFault
from hub.domain.registry import Approval
from hub.ingest.observers import Delivered
from hub.ingest.registry_cache import DeviceInfo
from hub.rules.events import RuleEvent
from hub.store.rule_tables import rule_outcomes
from tests.integration.rules.conftest import Clock, FakeBus
from tests.unit.test_rules_engine import GATE, LIFT, fault, s, telemetry


async def outcomes(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(
            select(rule_outcomes).order_by(rule_outcomes.c.id)))


async def test_trapped_passenger_is_sent_and_recorded_with_its_evidence(
        make_runner: Any, bus: FakeBus, engine: AsyncEngine) -> None:
    runner = make_runner()
    await runner.start()
    await runner.process(telemetry(s(0), mode=0))
    await runner.process(fault("TRAPPED_AT_FLOOR", s(1)))
    await runner.process(fault("TRAPPED_AT_FLOOR", s(2)))  # the monitor says it again
    await runner.flush()
    raise_, notify = bus.handled
    assert isinstance(raise_, RaiseFault) and raise_.priority == Priority.P1
    assert isinstance(notify, Notify)
    rows = await outcomes(engine)
    assert [(r.rule_id, r.rule_version, r.command, r.status, r.attempts) for r in rows] == [
        ("elevator.trapped", "1", "RaiseFault", "done", 1),
        ("elevator.trapped", "1", "Notify", "done", 1)]
    assert (rows[0].device_id, rows[0].site_id, rows[0].at) == (LIFT.id, LIFT.site_id, s(1))
    assert rows[0].evidence == [{"kind": "fault", "at": s(1).isoformat(), "device_id": LIFT.id,
                                 "summary": {"code": "TRAPPED_AT_FLOOR", "active": True}}]
    assert rows[0].detail["priority"] == "P1" and rows[0].detail["fault"] == "TRAPPED_AT_FLOOR"
    assert rows[0].line.startswith(f"{s(1).isoformat()} elevator.trapped@1 RaiseFault ")


async def test_the_same_fault_in_maintenance_mode_sends_nothing(
        make_runner: Any, bus: FakeBus, engine: AsyncEngine) -> None:
    runner = make_runner()
    await runner.start()
    await runner.process(telemetry(s(0), mode=2))
    await runner.process(fault("TRAPPED_AT_FLOOR", s(1)))
    await runner.flush()
    assert bus.handled == [] and await outcomes(engine) == []


async def test_a_failing_action_is_retried_then_dead_lettered_while_others_flow(
        make_runner: Any, bus: FakeBus, clock: Clock, engine: AsyncEngine) -> None:
    runner = make_runner(max_attempts=4, retry_base_s=1.0, retry_cap_s=4.0)
    await runner.start()
    bus.failures["RaiseFault"] = -1  # every RaiseFault fails: its table is unreachable
    await runner.process(fault("TRAPPED_AT_FLOOR", s(1)))  # RaiseFault fails, Notify goes
    delays, finished = [], []
    for i in range(3):
        await runner.process(telemetry(s(10 + i), GATE, x=i))  # other events keep flowing
        assert await runner.retry_due() == []  # not due yet
        delays.append(runner._retries[0].due - clock.mono)
        clock.mono = runner._retries[0].due
        finished = await runner.retry_due()
    assert delays == [1.0, 2.0, 4.0]  # capped exponential backoff
    (dead,) = finished
    assert (dead.status, dead.attempts) == ("dead_letter", 4)
    assert "database down" in (dead.error or "")
    bus.failures.clear()
    await runner.process(RuleEvent("offline", s(100), GATE, {"reason": "last will"}))
    await runner.flush()
    assert [type(c).__name__ for c in bus.handled] == [
        "Notify", "RaiseFault", "Notify", "PostAnnouncement"]
    rows = await outcomes(engine)
    assert [(r.command, r.status, r.attempts) for r in rows if r.status != "done"] == [
        ("RaiseFault", "dead_letter", 4)]
    health = await runner.health()
    assert health["status"] == "degraded" and health["dead_letters"] == 1
    assert bus.calls == 4 + 1 + 3
    print(f"R5: dead-lettered {health['dead_letters']}, events processed meanwhile "
          f"{health['processed']}, outcomes done {health['done']}")


async def test_a_transient_failure_is_retried_until_it_succeeds(
        make_runner: Any, bus: FakeBus, clock: Clock, engine: AsyncEngine) -> None:
    runner = make_runner()
    await runner.start()
    bus.failures["RaiseFault"] = 2
    await runner.process(fault("TRAPPED_AT_FLOOR", s(1)))
    for _ in range(2):
        clock.mono = runner._retries[0].due
        await runner.retry_due()
    await runner.flush()
    rows = await outcomes(engine)
    assert [(r.command, r.status, r.attempts) for r in rows] == [
        ("Notify", "done", 1), ("RaiseFault", "done", 3)]
    assert (await runner.health())["status"] == "ok"


async def test_commands_without_a_handler_yet_are_recorded_as_skipped(
        make_runner: Any, bus: FakeBus, engine: AsyncEngine) -> None:
    runner = make_runner()
    await runner.start()
    bus.unhandled = {"RaiseFault", "PostAnnouncement"}
    await runner.process(RuleEvent("offline", s(0), LIFT, {"reason": "inactive 300s"}))
    await runner.flush()
    rows = await outcomes(engine)
    assert [(r.command, r.status) for r in rows] == [
        ("RaiseFault", "skipped"), ("PostAnnouncement", "skipped")]
    assert rows[0].error == "no handler for RaiseFault"
    assert (await runner.health())["skipped"] == 2


async def test_a_full_queue_drops_telemetry_never_a_fault_and_skips_what_no_rule_uses(
        make_runner: Any) -> None:
    # hub bench fault lost 67 of 200 trapped passengers when the queue, full of meter
    # readings no rule reads, dropped faults like everything else.
    runner = make_runner(queue_size=10)
    info = DeviceInfo(LIFT.id, LIFT.site_id, LIFT.site, LIFT.code, LIFT.kind, LIFT.building_id,
                      Approval.ACTIVE, 300)
    meter = DeviceInfo(LIFT.id + 1, LIFT.site_id, LIFT.site, "b1-energy", "meter",
                       LIFT.building_id, Approval.ACTIVE, 300)
    lift = DeviceKey("lakeside", "elevator", LIFT.code)
    for seq in range(12):  # a lift's telemetry: the mode is remembered, so it matters
        envelope = Envelope(lift, s(5), ts=s(4), seq=seq)
        await runner.observe(Delivered(info, Telemetry(envelope, {"mode": 0, "floor": 3})))
    for seq in range(50):  # a meter's reading: no rule on meters reads it, power_w though
        envelope = Envelope(DeviceKey("lakeside", "meter", "b1-energy"), s(5), ts=s(4), seq=seq)
        await runner.observe(Delivered(meter, Telemetry(envelope, {"reading": 12.5,
                                                                   "power_w": 300})))
    for seq in range(12, 15):
        envelope = Envelope(lift, s(5), ts=s(4), seq=seq)
        await runner.observe(Delivered(info, Fault(envelope, "TRAPPED_AT_FLOOR", True)))
    stats = runner.stats
    print(f"\nqueue of 10: {len(runner._queue)} queued, {stats.overflow} telemetry dropped, "
          f"{stats.irrelevant} readings no rule uses skipped, {stats.urgent_overflow} faults "
          "refused")
    assert (len(runner._queue), stats.overflow, stats.irrelevant) == (13, 2, 50)
    assert stats.urgent_overflow == 0
    kinds = [e.kind for _ in range(13) if (e := runner._queue.pop()) is not None]
    assert kinds == ["telemetry"] * 10 + ["fault"] * 3  # the lift's own order kept
    assert (await runner.health())["status"] == "degraded"
