"""RELIABILITY R4 on the gate flow: one temporary car's stay, its reads duplicated, dropped,
reordered and timed by cameras up to 10 minutes off, never makes a second session or a
second charge, and never lets the car out free: every exit read is a fee on the display or
a hold for a guard."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.domain.parking.sessions import ChargeStatus, SessionState, Verdict
from hub.domain.parking.standing import Direction
from hub.store.db import make_engine, make_sessions
from hub.store.mapping import start_mappers
from tests.integration.parking_gate.world import T0, build_world

M = timedelta(minutes=1)


@st.composite
def deliveries(draw: st.DrawFn) -> list[tuple[Direction, timedelta, timedelta]]:
    """(direction, camera time offset from the real moment, delivery delay) per read."""
    stay = timedelta(minutes=draw(st.integers(40, 600)))
    reads = []
    for direction, moment in ((Direction.IN, timedelta(0)), (Direction.OUT, stay)):
        copies = draw(st.integers(0, 3))  # 0: the read is lost
        for _ in range(copies):
            skew = timedelta(seconds=draw(st.integers(-600, 600)))
            repeat_after = timedelta(seconds=draw(st.integers(0, 8)))
            delay = timedelta(seconds=draw(st.integers(0, 5)))
            reads.append((direction, moment + repeat_after + skew, moment + repeat_after +
                          delay))
    order = draw(st.permutations(range(len(reads))))
    return [reads[i] for i in order]


async def _run(schema: Path, folder: Path,
               reads: list[tuple[Direction, timedelta, timedelta]]) -> None:
    start_mappers()
    path = folder / f"r4-{id(reads)}.db"
    shutil.copy(schema, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        world = await build_world(engine, make_sessions(engine))
        verdicts = []
        for direction, camera, received in reads:
            outcome = await world.read("沪R44444", direction, T0 + camera,
                                       received_at=T0 + received)
            verdicts.append((direction, outcome.verdict))
        sessions = await world.all_sessions()
        charges = await world.charges()
        assert len(sessions) <= 1, [(s.state, s.entry_at, s.exit_at) for s in sessions]
        assert len(charges) <= 1
        # Never a free exit: no exit read opens the barrier for this unpaid car.
        assert (Direction.OUT, Verdict.OPEN) not in verdicts
        assert world.opened("gate-out") == 0
        exits = [v for d, v in verdicts if d is Direction.OUT and v is not None]
        if exits:
            (session,) = sessions
            assert exits[0] in (Verdict.AWAIT_PAYMENT, Verdict.HOLD)
            (charge,) = charges
            assert charge.status is ChargeStatus.DUE and charge.amount > 0
            assert session.state is SessionState.INSIDE and session.exit_lane_id is not None
            if session.no_entry or session.entry_at is None:
                assert session.needs_review
    finally:
        await engine.dispose()


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(reads=deliveries())
def test_duplicated_lost_reordered_and_skewed_reads_never_charge_twice_or_open_free(
        schema_file: Path, tmp_path: Path,
        reads: list[tuple[Direction, timedelta, timedelta]]) -> None:
    asyncio.run(_run(schema_file, tmp_path, reads))
