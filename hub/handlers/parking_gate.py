"""Guards' decisions at the gates, as commands: close a session, open a lane by hand, take
cash for a charge. Each is audited and runs through the gate flow (hub.parking.staff),
under the site's lock, so that it never races a plate read of the same site."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hub.domain.commands import Command
from hub.domain.errors import Conflict, PermissionDenied
from hub.domain.parking.sessions import GateDecision, ParkingCharge, ParkingSession
from hub.parking.flow import GateFlow
from hub.ports import Clock, UnitOfWork


@dataclass(frozen=True)
class CloseParkingSession(Command):
    session_id: int
    reason: str


@dataclass(frozen=True)
class OpenParkingLane(Command):
    lane_id: int
    reason: str


@dataclass(frozen=True)
class RecordParkingCash(Command):
    session_id: int
    amount: Decimal


def _flow(actor_is_resident: bool, parking_gate: GateFlow | None) -> GateFlow:
    if actor_is_resident:
        raise PermissionDenied("residents do not operate gates")
    if parking_gate is None:
        raise Conflict("this hub process runs no gate flow")
    return parking_gate


async def close_parking_session(cmd: CloseParkingSession, uow: UnitOfWork, clock: Clock,
                                parking_gate: GateFlow | None = None) -> ParkingSession:
    flow = _flow(cmd.actor.is_resident, parking_gate)
    return await flow.staff.close_session(cmd.actor, cmd.session_id, cmd.reason, clock())


async def open_parking_lane(cmd: OpenParkingLane, uow: UnitOfWork, clock: Clock,
                            parking_gate: GateFlow | None = None) -> GateDecision:
    flow = _flow(cmd.actor.is_resident, parking_gate)
    return await flow.staff.open_lane(cmd.actor, cmd.lane_id, cmd.reason, clock())


async def record_parking_cash(cmd: RecordParkingCash, uow: UnitOfWork, clock: Clock,
                              parking_gate: GateFlow | None = None) -> ParkingCharge:
    flow = _flow(cmd.actor.is_resident, parking_gate)
    return await flow.staff.record_cash(cmd.actor, cmd.session_id, cmd.amount, clock())


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    CloseParkingSession: close_parking_session,
    OpenParkingLane: open_parking_lane,
    RecordParkingCash: record_parking_cash,
}
