"""The one charge of a session: created or updated at the exit, paid by cash or online.

`amount` is the whole stay's fee as charged; `parking_sessions.paid_amount` what was paid
for it. A car that paid in advance and overstayed its grace has its charge raised to the
whole stay's fee and set due again; there is never a second charge (unique by session).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.domain.parking import decisions as d
from hub.domain.parking.quote import QuoteLine
from hub.domain.parking.sessions import (
    ZERO,
    ChargeStatus,
    PaidBy,
    ParkingCharge,
    ParkingSession,
    SessionState,
    Verdict,
)
from hub.parking import queries


def line_json(line: QuoteLine) -> dict[str, Any]:
    return {"kind": line.kind.value, "rule": line.rule, "amount": str(line.amount),
            "explain_zh": line.explain_zh, "explain_en": line.explain_en,
            "start": line.start.isoformat() if line.start else None,
            "end": line.end.isoformat() if line.end else None,
            "unit_price": None if line.unit_price is None else str(line.unit_price),
            "units": line.units}


async def settle_exit(db: AsyncSession, session: ParkingSession, fee: d.Fee,
                      decision: d.Decision, at: datetime) -> ParkingCharge | None:
    """The session and its charge after an exit decision."""
    lines = [] if fee.quote is None else [line_json(x) for x in fee.quote.lines]
    if decision.verdict is Verdict.OPEN:
        # Within a grace the stay is billed up to the payment: what was paid is the charge.
        charged = min(fee.total, session.paid_amount) if fee.total else ZERO
        session.fee = charged
        session.end(SessionState.LEFT, at)
        if charged == 0:
            return None
        return await upsert_charge(db, session, charged, lines, at, ChargeStatus.PAID)
    if decision.verdict is Verdict.AWAIT_PAYMENT:
        session.fee = fee.total
        return await upsert_charge(db, session, fee.total, lines, at, ChargeStatus.DUE)
    return None


async def upsert_charge(db: AsyncSession, session: ParkingSession, amount: Decimal,
                        lines: list[dict[str, Any]], at: datetime,
                        status: ChargeStatus) -> ParkingCharge:
    assert session.id is not None
    charge = await queries.charge_of(db, session.id)
    if charge is None:
        charge = ParkingCharge(session_id=session.id, site_id=session.site_id,
                               plate=session.plate, amount=amount, lines=lines, status=status,
                               at=at, tariff_id=session.tariff_id,
                               tariff_version=session.tariff_version)
        if status is ChargeStatus.PAID:
            charge.paid_by, charge.paid_at = PaidBy.ONLINE, at
        db.add(charge)
        await db.flush()
        return charge
    if charge.status is ChargeStatus.WAIVED:
        return charge
    charge.amount, charge.lines, charge.at = amount, lines, at
    if status is ChargeStatus.DUE:
        charge.status = ChargeStatus.DUE
    elif charge.status is not ChargeStatus.PAID:
        charge.status, charge.paid_at = ChargeStatus.PAID, at
        charge.paid_by = charge.paid_by or PaidBy.ONLINE
    return charge
