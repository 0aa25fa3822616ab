"""Recorded events through a rule set: what would have happened, with no database and no bus."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.rules.actions import Fired
from hub.rules.engine import RuleEngine
from hub.rules.events import BadEventLine, from_line
from hub.rules.loader import RuleSet
from hub.rules.state import EngineState


@dataclass
class Replay:
    fired: list[Fired] = field(default_factory=list)
    events: int = 0
    problems: list[str] = field(default_factory=list)  # "line N: reason", the line skipped


def replay(lines: Iterable[str], rules: RuleSet, state: EngineState | None = None) -> Replay:
    """Feed each JSONL line (docs/rules.md) to a fresh engine, in order."""
    engine, state = RuleEngine(rules), state or EngineState()
    engine.adopt(state)
    result = Replay()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = from_line(line)
        except BadEventLine as err:
            result.problems.append(f"line {number}: {err}")
            continue
        result.events += 1
        result.fired += engine.feed(event, state)
    return result
