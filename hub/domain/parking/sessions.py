"""Parking sessions, the gate's decisions and the one charge of a session: the records the
gate flow keeps, and the rules of time that make them safe against cameras (RELIABILITY R4).

A session is one car's stay in one lot, from the entry read to the exit. Times are the
camera's own (`ts` of the event), checked against when the hub received it: a camera clock
that runs ahead is pulled back to the hub's time, one far behind is replaced by it, and a
stay is never negative. Money is Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hub.domain.parking.standing import Direction, Standing

ZERO = Decimal("0.00")


class SessionState(StrEnum):
    INSIDE = "inside"  # in the lot (or at its exit barrier, waiting to pay)
    LEFT = "left"
    CLOSED_BY_STAFF = "closed_by_staff"
    HELD = "held"  # at an exit with no entry: a guard decides


# A car in one of these states occupies a space and cannot enter the lot again.
PRESENT_STATES = frozenset({SessionState.INSIDE, SessionState.HELD})


class Verdict(StrEnum):
    OPEN = "open"
    REFUSE = "refuse"
    HOLD = "hold"  # a guard decides: no barrier command
    AWAIT_PAYMENT = "await_payment"  # the fee is on the display; open once paid


class ChargeStatus(StrEnum):
    DUE = "due"
    PAID = "paid"
    WAIVED = "waived"


class PaidBy(StrEnum):
    CASH = "cash"
    ONLINE = "online"


class ExitWithoutEntry(StrEnum):
    """What an exit read of a car with no session inside does (never a silent free exit)."""

    CHARGE_FIRST_PERIOD = "charge_first_period"
    HOLD_FOR_GUARD = "hold_for_guard"


def present_key(lot_id: int, plate: str) -> str:
    """Unique while the car is in the lot: one present session per (lot, plate), enforced by
    a unique column that is NULL once the session ends (portable, unlike partial indexes)."""
    return f"{lot_id}:{plate}"


@dataclass(eq=False)
class ParkingSession:
    site_id: int
    lot_id: int
    plate: str  # normalised where it could be; as the camera read it otherwise
    standing: Standing
    state: SessionState
    updated_at: datetime
    entry_at: datetime | None = None  # None: an exit with no entry
    entry_lane_id: int | None = None
    entry_decision_id: int | None = None
    exit_at: datetime | None = None  # set at the exit read, also while waiting to pay
    exit_lane_id: int | None = None
    exit_decision_id: int | None = None
    vehicle_id: int | None = None
    pass_id: int | None = None
    visitor_pass_id: int | None = None
    visitor_free_minutes: int = 0
    vehicle_class: str | None = None
    plate_color: str | None = None
    tariff_id: int | None = None
    tariff_version: int | None = None  # the version number in force at entry
    fee: Decimal | None = None  # the stay's total fee, once quoted at the exit
    # Paid in advance (hub payments): what was paid and until when the car may leave
    # without paying more. The exit opens while `exit_at <= paid_until`; after it, the fee
    # of the whole stay less `paid_amount` is due.
    paid_amount: Decimal = ZERO
    paid_until: datetime | None = None
    overstay: bool = False
    no_entry: bool = False
    needs_review: bool = False
    review_reason: str | None = None
    present_key: str | None = None
    closed_by: int | None = None
    close_reason: str | None = None
    id: int | None = None

    @property
    def present(self) -> bool:
        return self.state in PRESENT_STATES

    @property
    def waiting_at_exit(self) -> bool:
        """At an exit barrier with the fee on the display."""
        return self.state is SessionState.INSIDE and self.exit_lane_id is not None

    def flag(self, reason: str) -> None:
        self.needs_review = True
        self.review_reason = reason if not self.review_reason else \
            f"{self.review_reason}; {reason}"[:500]

    def end(self, state: SessionState, at: datetime) -> None:
        self.state = state
        self.present_key = None
        self.updated_at = at

    def owed(self) -> Decimal:
        """What is still to pay of the quoted fee (never below zero)."""
        return max(ZERO, (self.fee or ZERO) - self.paid_amount)


@dataclass(eq=False)
class GateDecision:
    """One decision at a lane, with its reasons and the evidence it was made on."""

    site_id: int
    lot_id: int
    lane_id: int
    direction: Direction
    verdict: Verdict
    reasons: list[str]
    at: datetime  # the event's time, after the skew guard
    received_at: datetime  # when the hub received the read
    plate_read: str | None = None  # as the camera (or the reader) read it
    plate: str | None = None  # the plate decided on (matched among cars inside)
    confidence: float | None = None
    session_id: int | None = None
    snapshot_ref: str | None = None  # the plate image kept as evidence, if any
    camera_device_id: int | None = None
    seq: int | None = None
    boot: str = ""
    by_account: int | None = None  # a guard's manual decision; None: the hub's
    passed_at: datetime | None = None  # the lane's loop saw the car go through
    id: int | None = None


@dataclass(eq=False)
class ParkingCharge:
    """The one charge of a session (unique by session): the whole stay's fee, itemised."""

    session_id: int
    site_id: int
    plate: str
    amount: Decimal
    lines: list[dict[str, Any]]
    status: ChargeStatus
    at: datetime
    tariff_id: int | None = None
    tariff_version: int | None = None
    paid_by: PaidBy | None = None
    paid_at: datetime | None = None
    recorded_by: int | None = None  # the guard who took cash
    id: int | None = None


@dataclass(eq=False)
class SessionViewer:
    """A resident who may see (and pay) a session: the car's household, or a visitor's host."""

    session_id: int
    resident_id: int


@dataclass(frozen=True)
class EventTime:
    at: datetime
    reasons: tuple[str, ...] = field(default=())
    doubtful: bool = False  # far behind the hub: a guard should look at the stay


def event_time(ts: datetime | None, received_at: datetime, max_skew: timedelta) -> EventTime:
    """When a read happened. A camera clock ahead of the hub cannot be right (nothing is
    received before it happened): the hub's time is used. A time behind the hub is kept (a
    read held back by a gate or the broker while the hub was away happened then), but one
    more than `max_skew` behind is either such a delay or a slow clock: kept, and doubtful."""
    if ts is None:
        return EventTime(received_at, ("the camera sent no time: the hub's time is used",))
    if ts > received_at:
        ahead = int((ts - received_at).total_seconds())
        reasons = (f"camera clock {ahead} s ahead: the hub's time is used",) if ahead else ()
        return EventTime(received_at, reasons)
    if received_at - ts > max_skew:
        behind = int((received_at - ts).total_seconds() // 60)
        return EventTime(ts, (f"read received {behind} min after its camera time (a late "
                              "delivery or a slow camera clock)",), doubtful=True)
    return EventTime(ts)


def billable_span(entry_at: datetime, exit_at: datetime,
                  received: tuple[datetime, datetime] | None = None
                  ) -> tuple[datetime, datetime, str | None]:
    """The (entry, exit) to quote: never a negative stay. Two cameras whose clocks disagree
    can put the exit before the entry; then the hub's receive times of the two reads
    (`received`) are quoted instead, and the reason says so (the caller flags the session
    for review). Without them the stay is quoted as zero long, flagged too."""
    if exit_at >= entry_at:
        return entry_at, exit_at, None
    if received is not None and received[1] >= received[0]:
        return received[0], received[1], ("the exit read is timed before the entry read "
                                          "(camera clocks disagree): the hub's receive times "
                                          "are quoted")
    return entry_at, entry_at, ("the exit read is timed before the entry read (camera clocks "
                                "disagree): quoted as a stay of 0 minutes")


def is_repeat(last_at: datetime | None, at: datetime, window: timedelta) -> bool:
    """A second read of the same car at the same lane within the window (either order: two
    cameras' reads may arrive out of order)."""
    return last_at is not None and abs(at - last_at) <= window
