"""Paying for parking: a resident pays a session in the app before the exit, staff (or the
exit display) show the QR for the fee at the exit, the provider calls back. Every payment POST
needs an Idempotency-Key (the billing issue's rules: a replay gets the first answer)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.orm.exc import StaleDataError

from hub.api.deps import ActorDep, BusDep
from hub.api.routers.payments import KEYED, KeyHeader, once
from hub.api.schemas.billing import CallbackOut, PayIn
from hub.api.schemas.common import Id, In, Out
from hub.bus import MessageBus
from hub.domain.accounts import Actor
from hub.domain.commands import Command
from hub.domain.errors import Conflict
from hub.handlers import parking_payments as h
from hub.payments.sandbox import SIGNATURE_HEADER

router = APIRouter(prefix="/api/v1", tags=["parking payments"])


class ParkingPaymentOut(Out):
    id: int
    session_id: int
    plate: str
    amount: Decimal = Field(description="what this payment is for, set by the hub")
    source: str = Field(description="app, or exit (the QR on the exit display)")
    status: str
    provider: str
    provider_ref: str | None
    pay_url: str | None = Field(description="the provider's checkout: open it, or show it "
                                            "as a QR code")
    created_at: datetime
    paid_at: datetime | None
    paid_until: datetime | None
    grace_minutes: int = Field(description="after paying, minutes to leave without paying "
                                           "more")


class DueLineOut(Out):
    kind: str
    rule: str
    amount: Decimal
    explain_zh: str
    explain_en: str
    start: datetime | None
    end: datetime | None


class SessionDueOut(Out):
    session_id: int
    plate: str
    state: str
    at: datetime
    entry_at: datetime | None
    paid: Decimal
    paid_until: datetime | None
    due_if_leaving_now: Decimal
    to_pay: Decimal = Field(description="what a payment now is for (pay makes it)")
    billed_to: datetime | None
    lines: list[DueLineOut]


class QrIn(In):
    provider: str = Field(default="sandbox", pattern="^sandbox$")


async def _pay(bus: MessageBus, actor: Actor, key: str | None, route: str, provider: str,
               command: Callable[[str], Command]) -> JSONResponse:
    return await once(bus, actor, key, route, {"provider": provider}, command)


@router.post("/me/parking/sessions/{session_id}/pay", status_code=201,
             response_model=ParkingPaymentOut, responses=KEYED)
async def pay_my_session(session_id: Id, actor: ActorDep, bus: BusDep,
                         body: PayIn | None = None,
                         idempotency_key: KeyHeader = None) -> JSONResponse:
    """Pay a parking session of my household's car (or my visitor's) before the exit: the
    stay so far less what was paid. Then leave within the grace owing nothing."""
    await bus.handle(h.SessionDue(actor, session_id))  # another household's: 404, no key
    provider = (body or PayIn()).provider
    return await _pay(bus, actor, idempotency_key,
                      f"POST /me/parking/sessions/{session_id}/pay", provider,
                      lambda key: h.PaySession(actor, key, session_id, provider))


@router.get("/me/parking/sessions/{session_id}/due")
async def my_session_due(session_id: Id, actor: ActorDep, bus: BusDep) -> SessionDueOut:
    """What my session owes now, itemised, and what paying now would take."""
    return SessionDueOut.model_validate(await bus.handle(h.SessionDue(actor, session_id)))


@router.get("/parking/sessions/{session_id}/due")
async def session_due(session_id: Id, actor: ActorDep, bus: BusDep) -> SessionDueOut:
    return SessionDueOut.model_validate(await bus.handle(h.SessionDue(actor, session_id)))


@router.post("/parking/sessions/{session_id}/qr", status_code=201,
             response_model=ParkingPaymentOut, responses=KEYED)
async def exit_qr(session_id: Id, actor: ActorDep, bus: BusDep, body: QrIn | None = None,
                  idempotency_key: KeyHeader = None) -> JSONResponse:
    """The QR for the fee on the exit display (the car waits at the barrier): its pay_url.
    Paid, the barrier opens."""
    await bus.handle(h.SessionDue(actor, session_id))  # not of my sites: 404, no key
    provider = (body or QrIn()).provider
    return await _pay(bus, actor, idempotency_key, f"POST /parking/sessions/{session_id}/qr",
                      provider, lambda key: h.ShowExitQr(actor, key, session_id, provider))


@router.post("/parking/payments/callbacks/sandbox")
async def sandbox_callback(request: Request, bus: BusDep, signature: Annotated[
        str | None, Header(alias=SIGNATURE_HEADER, max_length=200)] = None) -> CallbackOut:
    """The sandbox provider's signed notification of a parking payment. Verified, then
    applied once: replays answer "already_applied" and change nothing."""
    result = await deliver_parking(bus, "sandbox", await request.body(), signature)
    return CallbackOut.model_validate(result)


async def deliver_parking(bus: MessageBus, provider: str, body: bytes,
                          signature: str | None) -> dict[str, Any]:
    """As billing's `deliver`: a concurrent delivery of the same event that won the race
    (unique event id, or the payment's version moved) leaves the retry finding it applied."""
    command = h.ApplyParkingCallback(provider, body, signature)
    try:
        result: dict[str, Any] = await bus.handle(command)
    except (Conflict, StaleDataError):
        result = await bus.handle(command)
    return result
