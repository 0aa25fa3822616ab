"""Rule state across a restart, reloads that keep it (or refuse a broken set), and replay of a
recorded file printing what the live run did."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.outcomes import Priority, RaiseFault
from hub.rules.actions import describe
from hub.rules.loader import RuleError, load_dir
from hub.rules.replay import replay
from hub.store.rule_tables import rule_outcomes, rule_state
from tests.integration.rules.conftest import FakeBus
from tests.unit.test_rules_engine import PACKS, fault, s, story, telemetry, tick


async def test_a_for_timer_started_before_a_restart_fires_after_it(
        make_runner: Any, bus: FakeBus, engine: AsyncEngine) -> None:
    first = make_runner()
    await first.start()
    await first.process(telemetry(s(0), mode=0))
    await first.process(fault("DOOR_OPEN_FAILURE", s(1)))  # P3: confirmed after 10 s
    await first.flush(force=True)  # what the worker does on shutdown
    async with engine.connect() as connection:
        keys = set((await connection.execute(select(rule_state.c.key))).scalars())
    assert {"dev:7", "ep:elevator.faults-p3|7|DOOR_OPEN_FAILURE"} <= keys

    second = make_runner()  # a new process: nothing in memory
    await second.start()
    assert second.state.devices[7].mode == "normal"
    await second.process(tick(s(30)))
    (raise_,) = bus.handled
    assert isinstance(raise_, RaiseFault) and raise_.priority == Priority.P3
    assert raise_.at == s(11) and raise_.cause.evidence[0].at == s(1)


async def test_a_fired_latch_and_a_cooldown_survive_a_restart(
        make_runner: Any, bus: FakeBus) -> None:
    first = make_runner()
    await first.start()
    await first.process(fault("TRAPPED_AT_FLOOR", s(0)))
    await first.flush(force=True)
    second = make_runner()
    await second.start()
    await second.process(fault("TRAPPED_AT_FLOOR", s(30)))  # within the 2-minute cooldown
    assert [type(c).__name__ for c in bus.handled] == ["RaiseFault", "Notify"]


def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(PACKS, folder)
    return folder


async def test_reload_keeps_state_and_a_broken_file_keeps_the_running_set(
        make_runner: Any, bus: FakeBus, tmp_path: Path) -> None:
    folder = rules_dir(tmp_path)
    runner = make_runner(folder)
    await runner.start()
    await runner.process(fault("DOOR_CLOSE_FAILURE", s(0)))  # a 10 s timer starts
    running = runner.rules
    (folder / "broken.yaml").write_text(
        "rules:\n  - id: lift.bad\n    description: x\n    when: {event: fault}\n"
        "    if: {for: 5 parsecs}\n    then: [{open_door: {}}]\n", encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        runner.reload()
    assert caught.value.problems[0].startswith(f"{folder / 'broken.yaml'}:lift.bad: if.for: "
                                               "bad duration '5 parsecs'")
    assert any("unknown action 'open_door'" in p for p in caught.value.problems)
    assert runner.rules is running
    runner.reload_logged()  # what SIGHUP does: logs, keeps the running set
    assert runner.rules is running

    (folder / "broken.yaml").unlink()
    text = (folder / "elevator.yaml").read_text(encoding="utf-8")
    (folder / "elevator.yaml").write_text(text.replace("title: \"{code} on {device}\"}",
                                                       "title: \"{device}: {code}\"}"),
                                          encoding="utf-8")
    reloaded = runner.reload()
    assert reloaded is runner.rules and reloaded is not running
    await runner.process(tick(s(20)))  # the timer started before the reload fires
    (raise_,) = bus.handled
    assert isinstance(raise_, RaiseFault) and raise_.title == "b3-lift-1: DOOR_CLOSE_FAILURE"
    assert (await runner.health())["reloads"] == 1


async def test_replay_of_the_recorded_events_prints_what_the_live_run_did(
        make_runner: Any, engine: AsyncEngine, tmp_path: Path) -> None:
    record = tmp_path / "events.jsonl"
    runner = make_runner(record_file=str(record))
    await runner.start()
    for event in story():
        await runner.process(event)
    await runner.flush(force=True)
    async with engine.connect() as connection:
        live = list((await connection.execute(
            select(rule_outcomes.c.line).order_by(rule_outcomes.c.id))).scalars())
    lines = record.read_text(encoding="utf-8").splitlines()
    result = replay(lines, load_dir(PACKS))
    assert result.problems == [] and result.events == len(lines) == len(list(story()))
    assert [describe(f) for f in result.fired] == live
    assert len(live) >= 6
    print(f"replay: {result.events} events, {len(live)} outcomes, the same as live")
