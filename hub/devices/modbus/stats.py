"""What a poller counts, per connection and per device: the figures `/health` shows and the
benchmark and reliability tests read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hub.domain.observations import DeviceKey


def _count(errors: dict[str, int], kind: str) -> None:
    errors[kind] = errors.get(kind, 0) + 1


def _errors_text(errors: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items())) or "none"


@dataclass
class DeviceStats:
    polls_ok: int = 0
    attempts: int = 0  # polls started, whatever became of them
    errors: dict[str, int] = field(default_factory=dict)  # by kind: timeout, exception_6, ...
    missed: int = 0  # slots that could not start on time while not backing off
    skipped_in_backoff: int = 0  # slots left out on purpose while the device or link backs off
    invalid_values: int = 0  # NaN or infinite floats, left out of the telemetry
    counter_wraps: int = 0
    counter_resets: int = 0
    reachable: bool | None = None
    backoff_until: float = 0.0  # loop time; 0 when not backing off
    last_error: str = ""

    def error(self, kind: str, detail: str) -> None:
        _count(self.errors, kind)
        self.last_error = f"{kind}: {detail}"[:200]

    def detail(self, now: float) -> str:
        text = (f"polls ok {self.polls_ok}/{self.attempts}, missed {self.missed}, "
                f"errors {_errors_text(self.errors)}")
        if self.backoff_until > now:
            text += f", backing off {self.backoff_until - now:.1f}s after {self.last_error}"
        return text


@dataclass
class LinkStats:
    connects: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # connect, timeout, garbage, closed...
    up: bool | None = None
    down_since: float | None = None
    backoff_until: float = 0.0
    last_error: str = ""

    def error(self, kind: str, detail: str) -> None:
        _count(self.errors, kind)
        self.last_error = f"{kind}: {detail}"[:200]

    def detail(self, now: float, devices: int) -> str:
        state = {None: "not yet connected", True: "up", False: "down"}[self.up]
        if self.up is False and self.down_since is not None:
            state += f" {now - self.down_since:.0f}s ({self.last_error})"
        if self.backoff_until > now:
            state += f", retry in {self.backoff_until - now:.1f}s"
        return (f"{state}; {devices} devices, connects {self.connects}, "
                f"errors {_errors_text(self.errors)}")


@dataclass(frozen=True)
class PollRecord:
    """One poll as it happened, in loop time: for benchmarks and tests (jitter = started - due)."""

    key: DeviceKey
    due: float
    started: float
    ended: float
    ok: bool
    error: str = ""


Observer = Callable[[PollRecord], None]
