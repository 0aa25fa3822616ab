"""The device side of the `cmd` channel: reading a command, and remembering which ids were
answered so that a replay is never carried out twice (RELIABILITY Q10)."""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Action = Callable[[Mapping[str, Any]], Awaitable[None]]
Clock = Callable[[], datetime]
MAX_ID_CHARS = 64
# A command lives at most 10 minutes (hub.domain.device_commands.MAX_LIFETIME); 4096 ids
# cover one device receiving a command every 0.15 s for all of that time.
LOG_CAPACITY = 4096


@dataclass(frozen=True)
class Command:
    id: str
    action: str
    expires: datetime
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What the device answered in `cmd/ack`: ok, or the reason it did not act."""

    ok: bool
    error: str | None = None


class Refused(Exception):
    """The device will not carry out a command; `error` goes into its ack."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class BadCommand(ValueError):
    """Not a command of the contract; `command_id` is set when there is an id to answer."""

    def __init__(self, reason: str, command_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.command_id = command_id


def parse_command(payload: bytes) -> Command:
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadCommand("invalid: not JSON") from None
    if not isinstance(data, dict):
        raise BadCommand("invalid: not an object")
    command_id = data.get("id")
    if not isinstance(command_id, str) or not 0 < len(command_id) <= MAX_ID_CHARS:
        raise BadCommand("invalid: id")
    action, args = data.get("action"), data.get("args", {})
    if not isinstance(action, str) or not action:
        raise BadCommand("invalid: action", command_id)
    if not isinstance(args, dict):
        raise BadCommand("invalid: args", command_id)
    # A command without a valid expiry is refused: a gate must not open on a stale order.
    expires = _instant(data.get("expires"))
    if expires is None:
        raise BadCommand("invalid: expires", command_id)
    return Command(id=command_id, action=action, expires=expires, args=args)


def _instant(value: Any) -> datetime | None:
    """ISO 8601 with an offset, or epoch milliseconds (the contract allows both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, ValueError, OSError):
            return None
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


class CommandLog:
    """The outcome of every command id answered, kept until the command expires: a replay
    after that is refused as expired anyway. Bounded by `capacity`, oldest first."""

    def __init__(self, capacity: int = LOG_CAPACITY) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[datetime, Outcome]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, command_id: str) -> Outcome | None:
        entry = self._entries.get(command_id)
        return entry[1] if entry else None

    def remember(self, command: Command, outcome: Outcome, now: datetime) -> None:
        self._entries[command.id] = (command.expires, outcome)
        while self._entries:
            oldest_id, (expires, _) = next(iter(self._entries.items()))
            if expires > now and len(self._entries) <= self._capacity:
                break
            del self._entries[oldest_id]


class CommandDesk:
    """Carries out each command id at most once; a replay gets the first outcome again.

    Callers hand commands over one at a time, so that a replay never races its original.
    """

    def __init__(self, clock: Clock) -> None:
        self.executions: Counter[str] = Counter()  # command id -> times carried out
        self.replays = 0
        self._clock = clock
        self._log = CommandLog()

    async def answer(self, command: Command, *, retained: bool,
                     actions: Mapping[str, Action]) -> Outcome:
        outcome = self._log.get(command.id)
        if outcome is not None:
            self.replays += 1
            return outcome
        outcome = await self._decide(command, retained, actions)
        self._log.remember(command, outcome, self._clock())
        return outcome

    async def _decide(self, command: Command, retained: bool,
                      actions: Mapping[str, Action]) -> Outcome:
        if retained:  # from the broker's store: the hub never retains a command
            return Outcome(ok=False, error="retained")
        if self._clock() >= command.expires:
            return Outcome(ok=False, error="expired")
        action = actions.get(command.action)
        if action is None:
            return Outcome(ok=False, error="unknown action")
        self.executions[command.id] += 1
        try:
            await action(command.args)
        except Refused as refused:
            return Outcome(ok=False, error=refused.error)
        return Outcome(ok=True)
