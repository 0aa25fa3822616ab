"""Sequence tracking per (device, boot): which `seq` values went missing (DESIGN.md §2).

Pure. A new boot starts counting afresh; a `seq` at or below the highest seen in the same boot
is a redelivery or a reordering, never a gap, and never moves the high-water mark back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    """Where a device's counter stands: its boot and the highest `seq` seen in it."""

    boot: str = ""
    last_seq: int | None = None


@dataclass(frozen=True)
class Gap:
    boot: str
    first_missing: int
    last_missing: int

    @property
    def size(self) -> int:
        return self.last_missing - self.first_missing + 1


def advance(position: Position, boot: str, seq: int) -> tuple[Position, Gap | None]:
    """The position after one message, and the gap it reveals, if any."""
    if boot != position.boot or position.last_seq is None:
        return Position(boot, seq), None
    if seq <= position.last_seq:
        return position, None
    gap = Gap(boot, position.last_seq + 1, seq - 1) if seq > position.last_seq + 1 else None
    return Position(boot, seq), gap


def in_counting_order(keys: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Order one batch's (boot, seq) pairs as the device counted them: boots in the order they
    first appear, each boot's seqs ascending. Messages reordered inside one batch then reveal
    no false gap."""
    first_seen: dict[str, int] = {}
    pairs = list(keys)
    for boot, _seq in pairs:
        first_seen.setdefault(boot, len(first_seen))
    return sorted(pairs, key=lambda pair: (first_seen[pair[0]], pair[1]))


def track(position: Position, keys: Iterable[tuple[str, int]]) -> tuple[Position, list[Gap]]:
    """Run a batch of (boot, seq) pairs through `advance` in counting order."""
    gaps: list[Gap] = []
    for boot, seq in in_counting_order(keys):
        position, gap = advance(position, boot, seq)
        if gap is not None:
            gaps.append(gap)
    return position, gaps
