"""Properties of the engine over generated event streams: a restart anywhere (the state saved
row by row as the worker saves it, then loaded) decides exactly what an uninterrupted run
decides; and P1 raises never happen in inspection or maintenance mode."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.outcomes import Priority, RaiseFault
from hub.rules.actions import describe
from hub.rules.engine import RuleEngine
from hub.rules.events import RuleEvent
from hub.rules.loader import load_dir
from hub.rules.state import EngineState
from tests.unit.test_rules_engine import GATE, LIFT, LIGHT, PACKS, T0

RULES = load_dir(PACKS)
CODES = ["TRAPPED_AT_FLOOR", "OVERTRAVEL_TOP", "POWER_FAILURE", "DOOR_CLOSE_FAILURE"]


@st.composite
def events(draw: st.DrawFn) -> list[RuleEvent]:
    at, out = T0, []
    for _ in range(draw(st.integers(1, 40))):
        at += timedelta(seconds=draw(st.sampled_from([0, 1, 2, 4, 7, 30, 65, 700])))
        choice = draw(st.integers(0, 6))
        if choice == 0:
            out.append(RuleEvent("fault", at, LIFT, {"code": draw(st.sampled_from(CODES)),
                                                     "active": draw(st.booleans())}))
        elif choice == 1:
            out.append(RuleEvent("telemetry", at, LIFT, {"mode": draw(st.integers(0, 4))}))
        elif choice == 2:
            out.append(RuleEvent("telemetry", at, LIGHT, {
                "on": draw(st.booleans()), "power_w": draw(st.sampled_from([0.0, 0.4, 15.0]))}))
        elif choice == 3:
            out.append(RuleEvent(draw(st.sampled_from(["offline", "online"])), at,
                                 draw(st.sampled_from([LIFT, GATE])), {"reason": "last will"}))
        elif choice == 4:
            out.append(RuleEvent("barrier", at, GATE,
                                 {"state": draw(st.sampled_from(["open", "closed", "stuck"]))}))
        else:
            out.append(RuleEvent("tick", at))
    return out


def run(stream: list[RuleEvent], restart_at: int | None = None) -> list[str]:
    engine, state, saved = RuleEngine(RULES), EngineState(), {}
    lines = []
    for i, event in enumerate(stream):
        if i == restart_at:  # a new process: the saved rows, through JSON, and a new engine
            engine = RuleEngine(RULES)
            state = EngineState.from_rows(json.loads(json.dumps(saved)))
            engine.adopt(state)
        lines += [describe(f) for f in engine.feed(event, state)]
        changed, removed = state.take_changes()  # what the worker writes
        saved.update(changed)
        for key in removed:
            saved.pop(key, None)
    return lines


@settings(max_examples=300, deadline=None)
@given(events(), st.data())
def test_a_restart_anywhere_decides_what_an_uninterrupted_run_decides(
        stream: list[RuleEvent], data: Any) -> None:
    restart_at = data.draw(st.integers(0, len(stream)))
    assert run(stream, restart_at) == run(stream)


@settings(max_examples=300, deadline=None)
@given(events())
def test_no_fault_order_is_raised_in_inspection_or_maintenance_mode(
        stream: list[RuleEvent]) -> None:
    engine, state = RuleEngine(RULES), EngineState()
    mode = 0
    for event in stream:
        if event.kind == "telemetry" and event.device == LIFT:
            mode = event.payload["mode"]
        for fired in engine.feed(event, state):
            command = fired.command
            if isinstance(command, RaiseFault) and command.device_id == LIFT.id \
                    and command.fault != "offline":
                assert mode not in (1, 2), (fired.rule_id, mode)
                assert command.priority in (Priority.P1, Priority.P2, Priority.P3)
