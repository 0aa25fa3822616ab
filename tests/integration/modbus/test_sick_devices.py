"""RELIABILITY.md M1-M5: a Modbus device slow, down, hung, speaking garbage or answering
exception responses. Meanwhile healthy devices keep their period (0 missed polls); the sick
one backs off (far fewer attempts than slots, no busy loop), is reported unreachable once,
logged once, and recovers by itself when it is well again. Each test prints its numbers."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from simulators.modbus.elevator import Elevator
from simulators.modbus.meters import Meter
from simulators.modbus.station import Mode, Station
from tests.integration.modbus.rig import Rig

SICK_S = 4.0
HEALTHY = ("b1-lift-1", "b1-energy", "b2-lift-1", "b2-water")
POLLER_LOG = "hub.devices.modbus.poller"


@dataclass(frozen=True)
class Sickness:
    row: str
    sick: str  # the device code that falls ill
    make_sick: Callable[[Station], Awaitable[None]]
    make_well: Callable[[Station], Awaitable[None]]
    errors: frozenset[str]  # the error kinds it must be counted under (at least one of each)


async def _mode(station: Station, mode: Mode) -> None:
    await station.set_mode(mode)


async def _slow(station: Station) -> None:
    station.behave(delay_s=1.0)  # longer than the 0.3 s request timeout


async def _refusing(station: Station) -> None:
    station.behave(2, exception_codes=(2, 4, 6))


async def _well(station: Station) -> None:
    station.behave()


SICKNESSES = [
    Sickness("M1 slow", "b3-lift-1", _slow, _well, frozenset({"timeout"})),
    Sickness("M2 down", "b3-lift-1", lambda s: _mode(s, Mode.DOWN),
             lambda s: _mode(s, Mode.HEALTHY), frozenset({"connect"})),
    Sickness("M3 hung", "b3-lift-1", lambda s: _mode(s, Mode.HUNG),
             lambda s: _mode(s, Mode.HEALTHY), frozenset({"timeout"})),
    Sickness("M4 garbage", "b3-lift-1", lambda s: _mode(s, Mode.GARBAGE),
             lambda s: _mode(s, Mode.HEALTHY), frozenset({"garbage"})),
    # On a gateway: unit 2 refuses, unit 1 on the same connection stays well.
    Sickness("M5 exception", "b2-water", _refusing, _well,
             frozenset({"exception_2", "exception_4", "exception_6"})),
]


@pytest.fixture
async def stations() -> AsyncIterator[dict[str, Station]]:
    seeds = random.Random(24476)
    built = {
        "b1": Station({1: Elevator(rng=random.Random(seeds.random())), 2: Meter("energy")}),
        "b2": Station({1: Elevator(rng=random.Random(seeds.random())), 2: Meter("water")}),
        "b3": Station({1: Elevator(rng=random.Random(seeds.random()))}),
    }
    for station in built.values():
        await station.set_mode(Mode.HEALTHY)
    try:
        yield built
    finally:
        for station in built.values():
            await station.set_mode(Mode.DOWN)


@pytest.fixture
async def rig(stations: dict[str, Station]) -> AsyncIterator[Rig]:
    b1, b2, b3 = stations["b1"], stations["b2"], stations["b3"]
    rig = Rig({"b1-lift-1": (b1, 1, "elevator-std"), "b1-energy": (b1, 2, "meter-energy"),
               "b2-lift-1": (b2, 1, "elevator-std"), "b2-water": (b2, 2, "meter-water"),
               "b3-lift-1": (b3, 1, "elevator-std")})
    await rig.start()
    try:
        yield rig
    finally:
        await rig.stop()


@pytest.mark.parametrize("sickness", SICKNESSES, ids=lambda s: s.row.split()[0])
async def test_a_sick_device_backs_off_alone_and_recovers_by_itself(
        rig: Rig, sickness: Sickness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="hub.devices.modbus")
    sick, loop = sickness.sick, asyncio.get_running_loop()
    healthy = [code for code in rig.devices if code != sick]
    station = rig.devices[sick][0]
    await rig.until(lambda: all(rig.stats(c).polls_ok >= 3 for c in rig.devices), "warm-up")
    warm_polls, sick_attempts = len(rig.polls), rig.stats(sick).attempts

    cpu_before, fell_ill = time.process_time(), loop.time()
    await sickness.make_sick(station)
    await asyncio.sleep(SICK_S)
    attempts = rig.stats(sick).attempts - sick_attempts
    cpu = time.process_time() - cpu_before
    healed = loop.time()
    await sickness.make_well(station)
    recovered = rig.stats(sick).polls_ok + 1
    await rig.until(lambda: rig.stats(sick).polls_ok >= recovered, f"{sick} to recover")
    recovery_s = loop.time() - healed

    during = [p for p in rig.polls[warm_polls:] if fell_ill <= p.due < healed]
    on_time = [p for p in during if str(p.key.device) in healthy and p.ok]
    slots = SICK_S / rig.period_s
    print(f"\n{sickness.row}: healthy missed {sum(rig.stats(c).missed for c in healthy)}, "
          f"healthy polls while sick {len(on_time)} (worst start "
          f"{max(p.started - p.due for p in on_time) * 1000:.1f} ms late); "
          f"{sick} tried {attempts} times in {SICK_S:.0f}s ({attempts / SICK_S * 60:.0f}/min "
          f"for {slots * 60 / SICK_S:.0f} slots/min), errors {rig.stats(sick).errors}, "
          f"CPU {cpu / SICK_S * 100:.1f}% while sick, recovered in {recovery_s:.2f}s")

    for code in healthy:
        assert rig.stats(code).missed == 0, f"{code} missed polls"
        assert rig.stats(code).errors == {}, f"{code} had errors"
        assert any(str(p.key.device) == code for p in on_time), f"{code} was not polled"
    assert sickness.errors <= set(rig.stats(sick).errors)
    assert 1 <= attempts <= slots / 2, "the sick device must back off, not retry every slot"
    sick_id = rig.device_id(sick)
    assert [(ok, reason == "answered") for i, ok, reason in rig.reachability if i == sick_id] \
        == [(True, True), (False, False), (True, True)]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, "an outage is logged once, not every poll"
    back = [r for r in caplog.records if "again" in r.getMessage() or " back " in r.getMessage()]
    assert back, "the recovery is logged"


async def test_a_refusing_unit_does_not_disturb_its_gateway_connection(
        rig: Rig, stations: dict[str, Station]) -> None:
    await rig.until(lambda: rig.stats("b2-water").polls_ok >= 2, "warm-up")
    coordinator = next(c for c in rig.polling.coordinators  # type: ignore[union-attr]
                       if c.port == stations["b2"].port)
    connects = coordinator.stats.connects
    stations["b2"].behave(2, exception_codes=(6,))
    answered = stations["b2"].exceptions_answered(2)
    await rig.until(lambda: stations["b2"].exceptions_answered(2) >= answered + 3,
                    "three busy answers")
    assert rig.stats("b2-water").errors.get("exception_6", 0) >= 3
    assert coordinator.stats.connects == connects, "a device's 'no' is not a broken link"
    assert coordinator.stats.errors == {}
