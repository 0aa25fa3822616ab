"""Parking sessions, gate decisions and charges as the API shows them, and what guards send.
Money travels as decimal strings ("7.00")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from hub.api.schemas.common import In, Out
from hub.domain.parking.sessions import ChargeStatus, PaidBy, SessionState, Verdict
from hub.domain.parking.standing import Direction, Standing

Reason = Annotated[str, Field(min_length=1, max_length=500, examples=["left unseen: gate loop"])]
Amount = Annotated[Decimal, Field(gt=0, le=100000, max_digits=8, decimal_places=2,
                                  examples=["7.00"])]


class ReasonIn(In):
    reason: Reason


class CashIn(In):
    amount: Amount


class SessionOut(Out):
    id: int
    site_id: int
    lot_id: int
    plate: str
    standing: Standing
    state: SessionState
    entry_at: datetime | None
    entry_lane_id: int | None
    exit_at: datetime | None
    exit_lane_id: int | None
    tariff_id: int | None
    tariff_version: int | None
    fee: Decimal | None
    paid_amount: Decimal
    paid_until: datetime | None
    overstay: bool
    no_entry: bool
    needs_review: bool
    review_reason: str | None
    close_reason: str | None


class DecisionOut(Out):
    id: int
    lane_id: int
    direction: Direction
    verdict: Verdict
    reasons: list[str]
    at: datetime
    received_at: datetime
    plate_read: str | None
    plate: str | None
    confidence: float | None
    session_id: int | None
    snapshot_ref: str | None
    by_account: int | None
    passed_at: datetime | None


class ChargeOut(Out):
    id: int
    session_id: int
    plate: str
    amount: Decimal
    lines: list[dict[str, Any]]
    status: ChargeStatus
    paid_by: PaidBy | None
    paid_at: datetime | None
    at: datetime
    tariff_id: int | None
    tariff_version: int | None


class SessionDetailOut(SessionOut):
    decisions: list[DecisionOut]
    charge: ChargeOut | None


class MySessionOut(Out):
    """A resident's view: their car's stay and what it cost, without the gate's internals."""

    id: int
    lot_id: int
    plate: str
    state: SessionState
    entry_at: datetime | None
    exit_at: datetime | None
    fee: Decimal | None
    paid_amount: Decimal
    paid_until: datetime | None


class LotOccupancyOut(Out):
    lot_id: int
    code: str
    name: str
    parent_id: int | None
    temporary_capacity: int
    inside_temporary: int
    inside_total: int
