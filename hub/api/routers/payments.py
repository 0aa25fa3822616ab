"""Payments: staff record cash and transfers, residents pay online, the provider calls back;
refunds (finance and admin) and receipts. Every payment POST needs an Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm.exc import StaleDataError

from hub.api.deps import ActorDep, BusDep, PagingDep, SessionDep, page_of
from hub.api.errors import STATUS
from hub.api.schemas.billing import (
    CallbackOut,
    PayIn,
    PaymentIn,
    PaymentOut,
    RefundIn,
    RefundOut,
)
from hub.api.schemas.common import ErrorBody, Id, Page
from hub.bus import MessageBus
from hub.domain.accounts import Actor
from hub.domain.billing.idempotency import check_key, request_hash
from hub.domain.billing.ledger import Channel, PaymentStatus
from hub.domain.commands import Command
from hub.domain.errors import Conflict, DomainError
from hub.handlers import payments as h
from hub.handlers.payment_keys import ClaimKey, SettleKey
from hub.payments.sandbox import SIGNATURE_HEADER
from hub.views import billing as views
from hub.views.property import page

router = APIRouter(prefix="/api/v1", tags=["payments"])
KeyHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", description="required: one key per payment you mean to make; "
    "a retry with the same key gets the first answer back", max_length=200)]
REPLAYED = {"Idempotent-Replayed": "true"}
KEYED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "a request with this key is in progress"},
    422: {"model": ErrorBody, "description": "no key, or the key was used for another request"},
}


async def once(bus: MessageBus, actor: Actor, key_header: str | None, route: str,
               parameters: dict[str, Any], command: Callable[[str], Command]) -> JSONResponse:
    """Run `command` once per (caller, key): the first request does the work, a replay gets
    the first answer, a concurrent one 409, the same key with other parameters 422."""
    key = check_key(key_header)
    claim = await bus.handle(ClaimKey(actor, key, request_hash(route, parameters)))
    if not claim.fresh:
        return JSONResponse(claim.response, status_code=claim.status_code or 200,
                            headers=REPLAYED)
    try:
        answer = await bus.handle(command(key))
    except (Conflict, StaleDataError) as err:
        await bus.handle(SettleKey(actor, key, None, None))  # a race: the key may retry
        if isinstance(err, StaleDataError):
            raise Conflict("the bill changed meanwhile; retry with the same key") from None
        raise
    except DomainError as err:  # the answer for this key, replayed as it was
        status = next((code for kind, code in STATUS.items() if isinstance(err, kind)), 400)
        await bus.handle(SettleKey(actor, key, status, {"error": {
            "code": err.code, "message": err.message, "field": err.field, "details": []}}))
        raise
    except BaseException:
        await bus.handle(SettleKey(actor, key, None, None))
        raise
    return JSONResponse(answer, status_code=201)


@router.post("/payments", status_code=201, response_model=PaymentOut, responses=KEYED)
async def record_payment(body: PaymentIn, actor: ActorDep, bus: BusDep,
                         idempotency_key: KeyHeader = None) -> JSONResponse:
    """A payment received by cash or bank transfer."""
    return await once(bus, actor, idempotency_key, "POST /payments", body.model_dump(),
                      lambda key: h.RecordPayment(
                          actor, key, body.unit_id, body.amount, Channel(body.channel),
                          body.bill_id, body.reference))


@router.get("/payments")
async def list_payments(actor: ActorDep, db: SessionDep, paging: PagingDep,
                        site_id: Id | None = None, unit_id: Id | None = None,
                        bill_id: Id | None = None,
                        status: PaymentStatus | None = None) -> Page[PaymentOut]:
    query = views.payment_query(actor, site_id=site_id, unit_id=unit_id, bill_id=bill_id,
                                status=status)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[PaymentOut].model_validate(page_of(items, total, paging))


@router.get("/payments/{payment_id}")
async def get_payment(payment_id: Id, actor: ActorDep, db: SessionDep) -> PaymentOut:
    return PaymentOut.model_validate(await views.one_payment(db, actor, payment_id))


@router.post("/payments/{payment_id}/refund", status_code=201, response_model=RefundOut,
             responses=KEYED)
async def refund(payment_id: Id, body: RefundIn, actor: ActorDep, bus: BusDep,
                 idempotency_key: KeyHeader = None) -> JSONResponse:
    """Money back on a payment (finance or admin), with a reason; audited."""
    return await once(bus, actor, idempotency_key, f"POST /payments/{payment_id}/refund",
                      body.model_dump(), lambda key: h.RefundPayment(
                          actor, key, payment_id, body.amount, body.reason))


@router.get("/payments/{payment_id}/receipt", response_class=HTMLResponse)
async def receipt(payment_id: Id, actor: ActorDep, db: SessionDep) -> HTMLResponse:
    return HTMLResponse(await views.receipt_html(db, actor, payment_id))


@router.post("/payments/callbacks/sandbox")
async def sandbox_callback(request: Request, bus: BusDep, signature: Annotated[
        str | None, Header(alias=SIGNATURE_HEADER, max_length=200)] = None) -> CallbackOut:
    """The sandbox provider's signed notification. Verified, then applied once: replays
    answer "already_applied" and change nothing."""
    return CallbackOut.model_validate(await deliver(bus, "sandbox", await request.body(),
                                                    signature))


async def deliver(bus: MessageBus, provider: str, body: bytes,
                  signature: str | None) -> dict[str, Any]:
    """Apply a callback; when a concurrent delivery of the same event won the race (unique
    event id, or the payment's version moved), the retry finds it applied."""
    try:
        result: dict[str, Any] = await bus.handle(h.ApplyCallback(provider, body, signature))
    except (Conflict, StaleDataError):
        result = await bus.handle(h.ApplyCallback(provider, body, signature))
    return result


@router.post("/me/bills/{bill_id}/pay", status_code=201, response_model=PaymentOut,
             responses=KEYED)
async def pay_my_bill(bill_id: Id, actor: ActorDep, bus: BusDep, db: SessionDep,
                      body: PayIn | None = None,
                      idempotency_key: KeyHeader = None) -> JSONResponse:
    """Pay a bill of my household online: the answer holds the provider's checkout."""
    await views.bill_detail(db, actor, bill_id)  # another household's bill does not exist
    provider = (body or PayIn()).provider
    return await once(bus, actor, idempotency_key, f"POST /me/bills/{bill_id}/pay",
                      {"provider": provider},
                      lambda key: h.StartOnlinePayment(actor, key, bill_id, provider))


@router.get("/me/payments")
async def my_payments(actor: ActorDep, db: SessionDep, paging: PagingDep) -> Page[PaymentOut]:
    items, total = await page(db, views.payment_query(actor), paging.limit, paging.offset)
    return Page[PaymentOut].model_validate(page_of(items, total, paging))


@router.get("/me/payments/{payment_id}/receipt", response_class=HTMLResponse)
async def my_receipt(payment_id: Id, actor: ActorDep, db: SessionDep) -> HTMLResponse:
    return HTMLResponse(await views.receipt_html(db, actor, payment_id))
