"""Durations as rules write them: "30s", "5m", "2h", "1d", "1h30m"; nothing else."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)(ms|s|m|h|d)")
_UNITS = {"ms": timedelta(milliseconds=1), "s": timedelta(seconds=1),
          "m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_COUNT = re.compile(r"^\s*(\d+)\s+within\s+(\S+)\s*$")


def parse_duration(text: object) -> timedelta:
    """`"90s"` -> 90 seconds. A bare number is refused: a rule says its unit."""
    if not isinstance(text, str):
        raise ValueError(f"duration must be text such as '30s' or '5m', not {text!r}")
    compact = text.replace(" ", "")
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"bad duration {text!r}: use a number and ms, s, m, h or d "
                         "(e.g. '30s', '5m', '1h30m')")
    return sum((int(n) * _UNITS[u] for n, u in parts), timedelta())


def parse_count(text: object) -> tuple[int, timedelta]:
    """`"3 within 10m"` -> (3, 10 minutes)."""
    match = _COUNT.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"bad count {text!r}: write 'N within <duration>', e.g. '3 within 10m'")
    n, window = int(match.group(1)), parse_duration(match.group(2))
    if n < 1 or window <= timedelta():
        raise ValueError(f"bad count {text!r}: N and the window must be positive")
    return n, window


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
