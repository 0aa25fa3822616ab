"""What the gate flow and parking payments tell each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class ParkingChargePaid:
    """A session's charge was paid (online through hub payments, or cash by a guard). The
    gate opens the exit barrier if the car is waiting there; publish it after the commit
    that marked the session paid (`paid_amount`, `paid_until`)."""

    session_id: int
    amount: Decimal
    at: datetime
