"""Polling the simulators: what a device holds arrives decoded, faults are raised and cleared,
and counters stay continuous across a wrap and a replacement."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from simulators.modbus.elevator import Elevator
from simulators.modbus.meters import Meter
from simulators.modbus.station import Station
from tests.integration.modbus.rig import Rig

DOORS = {0: "closed", 1: "open", 2: "closing", 3: "opening"}
DIRECTIONS = {0: "idle", 1: "up", 2: "down"}


class SimClock:
    """The simulators' time, moved by the test: what a device holds changes only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
async def rig(clock: SimClock) -> AsyncIterator[Rig]:
    gateway = Station({1: Elevator(rng=random.Random(3)), 2: Meter("energy"),
                       3: Meter("water")}, clock=clock)
    async with gateway:
        rig = Rig({"b3-lift-1": (gateway, 1, "elevator-std"),
                   "b3-energy": (gateway, 2, "meter-energy"),
                   "b3-water": (gateway, 3, "meter-water")})
        await rig.start()
        try:
            yield rig
        finally:
            await rig.stop()


def lift(rig: Rig) -> Elevator:
    station = rig.devices["b3-lift-1"][0]
    model = station.units[1]
    assert isinstance(model, Elevator)
    return model


def meter(rig: Rig, code: str) -> Meter:
    station, unit, _ = rig.devices[code]
    model = station.units[unit]
    assert isinstance(model, Meter)
    return model


async def test_elevator_telemetry_is_what_the_car_shows_and_trips_grow_between_polls(
        rig: Rig, clock: SimClock) -> None:
    car = lift(rig)
    first = await rig.next_telemetry("b3-lift-1")
    assert first.metrics == {
        "floor": car.floor, "direction": DIRECTIONS[car.direction], "door": DOORS[car.door],
        "mode": "normal", "fault": "none", "occupied": int(car.occupied), "trips": car.trips,
        "trips_total": car.trips, "run_seconds": int(car.run_seconds),
        "run_seconds_total": int(car.run_seconds), "speed_mm_s": car.speed_mm_s}

    clock.now += 120  # two minutes of rounds: the car has travelled
    second = await rig.next_telemetry("b3-lift-1", fresh=True)
    assert (second.metrics["trips"], second.metrics["floor"]) == (car.trips, car.floor)
    assert second.metrics["door"] == DOORS[car.door]
    assert car.trips > int(first.metrics["trips"])
    assert second.metrics["trips_total"] == car.trips
    assert second.envelope.seq is not None and first.envelope.seq is not None
    assert second.envelope.seq > first.envelope.seq
    assert second.envelope.boot == "modbus-rig"
    print(f"\nb3-lift-1: {first.metrics['trips']} -> {second.metrics['trips']} trips, "
          f"floor {first.metrics['floor']} -> {second.metrics['floor']}")


async def test_meter_readings_arrive_as_numbers_with_their_status(rig: Rig,
                                                                  clock: SimClock) -> None:
    clock.now += 3600
    energy = await rig.next_telemetry("b3-energy", fresh=True)
    water = await rig.next_telemetry("b3-water", fresh=True)
    assert energy.metrics["reading"] == pytest.approx(meter(rig, "b3-energy").reading, rel=1e-6)
    assert water.metrics["reading"] == pytest.approx(meter(rig, "b3-water").reading, rel=1e-6)
    assert energy.metrics["status"] == 0
    assert 0.1 < float(energy.metrics["reading"]) < 1.0  # about 0.5 kWh in an hour


async def test_a_fault_register_change_raises_a_fault_and_then_clears_it(
        rig: Rig, clock: SimClock) -> None:
    await rig.next_telemetry("b3-lift-1")
    lift(rig).inject_fault(7, seconds=30, now=clock.now)
    await rig.until(lambda: len(rig.faults("b3-lift-1")) == 1, "the fault")
    fresh = await rig.next_telemetry("b3-lift-1", fresh=True)
    assert fresh.metrics["fault"] == "TRAPPED_AT_FLOOR"

    clock.now += 31
    await rig.until(lambda: len(rig.faults("b3-lift-1")) == 2, "the clear")
    raised, cleared = rig.faults("b3-lift-1")
    assert (raised.code, raised.active) == ("TRAPPED_AT_FLOOR", True)
    assert (cleared.code, cleared.active) == ("TRAPPED_AT_FLOOR", False)
    assert raised.envelope.seq is not None and cleared.envelope.seq is not None
    assert raised.envelope.seq < cleared.envelope.seq
    await rig.next_telemetry("b3-lift-1")
    assert len(rig.faults("b3-lift-1")) == 2  # a fault that stays cleared is not cleared again


async def test_trips_stay_continuous_across_a_uint32_wrap_and_a_replaced_controller(
        rig: Rig) -> None:
    car = lift(rig)
    car.set_counters(trips=2**32 - 2)
    await rig.next_telemetry("b3-lift-1", fresh=True)
    car.set_counters(trips=3)  # five more trips: the register wrapped
    wrapped = await rig.next_telemetry("b3-lift-1", fresh=True)
    car.set_counters(trips=1)  # a new controller counts from zero
    replaced = await rig.next_telemetry("b3-lift-1", fresh=True)
    assert (wrapped.metrics["trips"], wrapped.metrics["trips_total"]) == (3, 2**32 + 3)
    assert (replaced.metrics["trips"], replaced.metrics["trips_total"]) == (1, 2**32 + 4)
    stats = rig.stats("b3-lift-1")
    assert (stats.counter_wraps, stats.counter_resets) == (1, 1)
    print(f"\nb3-lift-1 trips_total: {wrapped.metrics['trips_total']} after the wrap, "
          f"{replaced.metrics['trips_total']} after the replacement")


async def test_a_replaced_water_meter_keeps_the_total_going(rig: Rig, clock: SimClock) -> None:
    clock.now += 36_000
    before = await rig.next_telemetry("b3-water", fresh=True)
    meter(rig, "b3-water").replace()
    clock.now += 3600
    after = await rig.next_telemetry("b3-water", fresh=True)
    assert float(after.metrics["reading"]) < float(before.metrics["reading"])
    assert after.metrics["reading_total"] == pytest.approx(
        float(before.metrics["reading_total"]) + float(after.metrics["reading"]), rel=1e-6)


async def test_a_nan_reading_from_a_failed_sensor_is_left_out_not_sent(rig: Rig) -> None:
    meter(rig, "b3-energy").nan = True
    telemetry = await rig.next_telemetry("b3-energy", fresh=True)
    assert "reading" not in telemetry.metrics and telemetry.metrics["status"] == 0
    assert rig.stats("b3-energy").invalid_values >= 1


async def test_each_connection_and_device_reports_a_heartbeat(rig: Rig) -> None:
    await rig.next_telemetry("b3-water")
    gateway = rig.devices["b3-lift-1"][0]
    link = rig.health.beats[f"modbus 127.0.0.1:{gateway.port}"]
    lift_beat = rig.health.beats["modbus lakeside/elevator/b3-lift-1"]
    assert (link.status, lift_beat.status) == ("ok", "ok")
    assert link.detail.startswith("up; 3 devices, connects 1, errors none")
    assert lift_beat.detail.startswith("polls ok ")
    assert "missed 0, errors none" in lift_beat.detail


async def test_a_poller_that_crashes_is_restarted_and_keeps_its_sequence(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    before = await rig.next_telemetry("b3-lift-1")
    rig.ingest.fail_once = RuntimeError("ingest bug")
    after = await rig.next_telemetry("b3-lift-1", fresh=True)
    gateway = rig.devices["b3-lift-1"][0]
    crashes = [r for r in caplog.records if r.getMessage() ==
               f"task modbus 127.0.0.1:{gateway.port} crashed; restarting"]
    assert len(crashes) == 1
    assert before.envelope.seq is not None and after.envelope.seq is not None
    assert after.envelope.seq > before.envelope.seq
    assert after.envelope.boot == before.envelope.boot
