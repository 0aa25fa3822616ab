"""What guards and payments do at a gate: open a lane by hand, close a session, take cash,
and open an exit once a session is paid. Each is one transaction with its decision record
(and audit entry, for staff), under the site's lock like the plate reads."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.accounts import Actor
from hub.domain.audit import AuditAction, entry_by
from hub.domain.device_commands import DeviceCommand
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.parking.explain import yuan
from hub.domain.parking.sessions import (
    ChargeStatus,
    GateDecision,
    PaidBy,
    ParkingCharge,
    ParkingSession,
    SessionState,
    Verdict,
)
from hub.domain.parking.standing import LaneInfo
from hub.parking import queries
from hub.parking.charges import upsert_charge
from hub.parking.gate import Gate
from hub.store.parking_session_tables import parking_sessions

MAX_REASON = 500


def _reason(text: str) -> str:
    text = text.strip()
    if not text:
        raise Invalid("a reason is required", field="reason")
    if len(text) > MAX_REASON:
        raise Invalid(f"reason has at most {MAX_REASON} characters", field="reason")
    return text


class StaffDesk:
    def __init__(self, gate: Gate, locks: dict[int, asyncio.Lock]) -> None:
        self.gate = gate
        self._locks = locks

    def _lock(self, site_id: int) -> asyncio.Lock:
        return self._locks.setdefault(site_id, asyncio.Lock())

    async def _session(self, db: AsyncSession, actor: Actor, session_id: int
                       ) -> ParkingSession:
        session = await db.get(ParkingSession, session_id)
        if session is None or actor.is_resident or not actor.sees_site(session.site_id):
            raise NotFound("parking session", session_id)
        return session

    async def _site_of(self, session_id: int) -> int:
        async with self.gate.sessions() as db:
            site = (await db.execute(select(parking_sessions.c.site_id).where(
                parking_sessions.c.id == session_id))).scalar()
        if site is None:
            raise NotFound("parking session", session_id)
        return int(site)

    async def close_session(self, actor: Actor, session_id: int, reason: str,
                            at: datetime) -> ParkingSession:
        """A guard ends a session (a car that left unseen, a wrong read): it stops counting
        and the plate may enter again. Its charge, if any, stays as it is."""
        why = _reason(reason)
        async with self._lock(await self._site_of(session_id)):
            async with self.gate.sessions() as db, db.begin():
                session = await self._session(db, actor, session_id)
                if not session.present:
                    raise Conflict(f"session {session_id} is {session.state.value}, not inside",
                                   field="session_id")
                session.end(SessionState.CLOSED_BY_STAFF, at)
                session.closed_by, session.close_reason = actor.account_id, why
                db.add(entry_by(actor, at, AuditAction.PARKING_OVERRIDE,
                                f"parking_session:{session_id}", {"change": "closed"}))
            return session

    async def open_lane(self, actor: Actor, lane_id: int, reason: str, at: datetime
                        ) -> GateDecision:
        """A guard opens a barrier by hand. A car waiting to pay at that exit is let out:
        its session ends, flagged, and its charge stays due."""
        why = _reason(reason)
        lane = await self.gate.lookups.lane_by_id(lane_id)
        if lane is None or actor.is_resident or not actor.sees_site(lane.site_id):
            raise NotFound("lane", lane_id)
        async with self._lock(lane.site_id):
            async with self.gate.sessions() as db, db.begin():
                waiting = await self._waiting_at(db, lane)
                reasons = [f"opened by hand by account {actor.account_id}: {why}"]
                if waiting is not None:
                    waiting.end(SessionState.LEFT, at)
                    if waiting.owed():
                        waiting.flag(f"let out by a guard with {yuan(waiting.owed())} unpaid")
                    reasons.append(f"session {waiting.id} let out")
                record, commands = await self._opening(db, lane, waiting, reasons, at,
                                                       actor.account_id)
                db.add(entry_by(actor, at, AuditAction.PARKING_OVERRIDE, f"lane:{lane_id}",
                                {"change": "opened", "decision": str(record.id)}))
            self._send(commands)
            return record

    async def record_cash(self, actor: Actor, session_id: int, amount: Decimal,
                          at: datetime) -> ParkingCharge:
        """A guard took the fee in cash: the charge is paid, and a car waiting at the exit
        is let out."""
        async with self._lock(await self._site_of(session_id)):
            commands: tuple[DeviceCommand, ...] = ()
            async with self.gate.sessions() as db, db.begin():
                session = await self._session(db, actor, session_id)
                charge = await queries.charge_of(db, session_id)
                owed = session.owed()
                if charge is None or charge.status is not ChargeStatus.DUE or owed == 0:
                    raise Conflict(f"session {session_id} has nothing to pay",
                                   field="session_id")
                if amount != owed:
                    raise Invalid(f"amount must be the amount due, {owed:.2f}", field="amount")
                session.paid_amount += amount
                session.updated_at = at
                await upsert_charge(db, session, charge.amount, charge.lines, at,
                                    ChargeStatus.PAID)
                charge.paid_by, charge.paid_at, charge.recorded_by = \
                    PaidBy.CASH, at, actor.account_id
                db.add(entry_by(actor, at, AuditAction.PARKING_OVERRIDE,
                                f"parking_session:{session_id}",
                                {"change": "cash", "amount": f"{amount:.2f}"}))
                if session.waiting_at_exit:
                    commands = await self._let_out(db, session, at, actor.account_id,
                                                   f"paid {yuan(amount)} in cash")
            self._send(commands)
            return charge

    async def open_if_paid(self, session_id: int, at: datetime) -> bool:
        """Open the exit for a paid session whose car waits there (hub payments)."""
        async with self._lock(await self._site_of(session_id)):
            commands: tuple[DeviceCommand, ...] = ()
            async with self.gate.sessions() as db, db.begin():
                session = await db.get(ParkingSession, session_id)
                if session is None or not session.waiting_at_exit or session.owed() > 0:
                    return False
                commands = await self._let_out(db, session, at, None,
                                               f"paid {yuan(session.paid_amount)} online")
            self._send(commands)
            return bool(commands) or True

    async def _let_out(self, db: AsyncSession, session: ParkingSession, at: datetime,
                       by: int | None, why: str) -> tuple[DeviceCommand, ...]:
        assert session.exit_lane_id is not None
        lane = await self.gate.lookups.lane_by_id(session.exit_lane_id)
        session.end(SessionState.LEFT, at)
        if lane is None:
            session.flag("paid at an exit lane the hub no longer knows: not opened")
            return ()
        record, commands = await self._opening(db, lane, session, [f"{why}: open"], at, by)
        session.exit_decision_id = record.id
        return commands

    async def _waiting_at(self, db: AsyncSession, lane: LaneInfo) -> ParkingSession | None:
        found = await db.scalars(select(ParkingSession).where(
            parking_sessions.c.exit_lane_id == lane.lane_id,
            parking_sessions.c.state == SessionState.INSIDE.value,
        ).order_by(parking_sessions.c.exit_at.desc()).limit(1))
        return found.first()

    async def _opening(self, db: AsyncSession, lane: LaneInfo, session: ParkingSession | None,
                       reasons: list[str], at: datetime, by: int | None
                       ) -> tuple[GateDecision, tuple[DeviceCommand, ...]]:
        record = GateDecision(
            site_id=lane.site_id, lot_id=lane.lot_id, lane_id=lane.lane_id,
            direction=lane.direction, verdict=Verdict.OPEN, reasons=reasons, at=at,
            received_at=at, plate=session.plate if session else None,
            session_id=session.id if session else None, by_account=by, boot="")
        db.add(record)
        await db.flush()
        command = await self.gate.commands.stage(
            db, lane.barrier_device_id, "open",
            {"decision_id": record.id, "session_id": record.session_id},
            f"parking:decision:{record.id}", by)
        return record, (() if command is None else (command,))

    def _send(self, commands: tuple[DeviceCommand, ...]) -> None:
        for command in commands:
            self.gate.commands.send(command)
