"""Parking sessions of the API tests' world: A's car inside lakeside's lot, B's car at the
exit with ¥7.00 to pay, riverside's car inside its lot; each with its entry decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.bootstrap import Hub
from hub.domain.parking.sessions import (
    ChargeStatus,
    GateDecision,
    ParkingCharge,
    ParkingSession,
    SessionState,
    SessionViewer,
    Verdict,
    present_key,
)
from hub.domain.parking.standing import Direction, Standing

# The plates of the registry's seed (tests/integration/parking_registry/seed.py).
PLATE_A, PLATE_B, PLATE_RIVER = "沪A11111", "沪B22222", "苏E33333"
ENTRY = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


async def seed_gate_sessions(hub: Hub, w: Any) -> None:
    """After the registry's seed when there is one (its lots, lanes and vehicles); lots and
    lanes are ids only to the gate's tables."""
    def ident(name: str) -> int:
        return int(getattr(w, name, 0) or 0)

    async with hub.sessions() as db, db.begin():
        for name, site, lot, lane, plate, vehicle, resident, standing in (
                ("session_a", w.lakeside, ident("lot_lakeside"), ident("lane_lakeside"),
                 PLATE_A, ident("vehicle_a"), w.alice, Standing.REGISTERED),
                ("session_b", w.lakeside, ident("lot_lakeside"), ident("lane_lakeside"),
                 PLATE_B, ident("vehicle_b"), w.bob, Standing.TEMPORARY),
                ("session_river", w.riverside, ident("lot_river"), ident("lane_river"),
                 PLATE_RIVER, ident("vehicle_river"), w.river_resident, Standing.REGISTERED)):
            session = ParkingSession(
                site_id=site, lot_id=lot, plate=plate, standing=standing,
                state=SessionState.INSIDE, updated_at=ENTRY, entry_at=ENTRY,
                entry_lane_id=lane, vehicle_id=vehicle or None, plate_color="blue",
                present_key=present_key(lot, plate))
            db.add(session)
            await db.flush()
            assert session.id is not None
            decision = GateDecision(
                site_id=site, lot_id=lot, lane_id=lane, direction=Direction.IN,
                verdict=Verdict.OPEN, reasons=[f"{standing.value}: open"], at=ENTRY,
                received_at=ENTRY, plate_read=plate, plate=plate, confidence=0.97,
                session_id=session.id, boot="")
            db.add(decision)
            db.add(SessionViewer(session_id=session.id, resident_id=resident))
            await db.flush()
            session.entry_decision_id = decision.id
            setattr(w, name, session.id)
            if name == "session_b":  # at the exit with the fee on the display
                session.exit_at = ENTRY + timedelta(minutes=90)
                session.exit_lane_id = lane
                session.fee = Decimal("7.00")
                session.tariff_id = w.tariff_lakeside
                db.add(ParkingCharge(
                    session_id=session.id, site_id=site, plate=plate, amount=Decimal("7.00"),
                    lines=[], status=ChargeStatus.DUE, at=session.exit_at,
                    tariff_id=w.tariff_lakeside))
