"""Payments: by cash, transfer or online (the provider's callback applied once); refunds and
write-offs. Each payment request's handler stores its answer under the Idempotency-Key the
caller claimed first (hub.handlers.payment_keys), in the same transaction as the payment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from hub.domain.accounts import Actor, Role
from hub.domain.audit import AuditAction, entry_by
from hub.domain.billing.ledger import (
    Allocation,
    AllocationKind,
    BalanceEntry,
    BalanceKind,
    Bill,
    BillLine,
    Channel,
    Payment,
    PaymentStatus,
    ProviderEvent,
    Refund,
    WriteOff,
    settle,
    take_back,
)
from hub.domain.billing.money import ZERO, positive_money
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid, NotFound, PermissionDenied
from hub.domain.property import Unit
from hub.handlers.billing_runs import unit_balance
from hub.handlers.payment_keys import ClaimKey, SettleKey, answer, claim_key, jsonable, settle_key
from hub.handlers.scope import visible_unit
from hub.payments.provider import PaymentProvider
from hub.ports import Clock, UnitOfWork

# Money goes back out only through these roles (DESIGN.md §7: refunds are audited).
MONEY_BACK_ROLES = frozenset({Role.ADMIN, Role.FINANCE})


@dataclass(frozen=True)
class RecordPayment(Command):
    key: str
    unit_id: int
    amount: Decimal
    channel: Channel
    bill_id: int | None = None
    reference: str = ""


@dataclass(frozen=True)
class StartOnlinePayment(Command):
    key: str
    bill_id: int
    provider: str = "sandbox"


@dataclass(frozen=True)
class ApplyCallback:
    provider: str
    body: bytes
    signature: str | None


@dataclass(frozen=True)
class RefundPayment(Command):
    key: str
    payment_id: int
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class WriteOffBill(Command):
    bill_id: int
    reason: str
    amount: Decimal | None = None  # None: everything outstanding


async def visible_bill(uow: UnitOfWork, actor: Actor, bill_id: int) -> Bill:
    bill = await uow.get(Bill, bill_id)
    if bill is None or not actor.sees_unit(bill.site_id, bill.building_id, bill.unit_id):
        raise NotFound("bill", bill_id)
    return bill


async def visible_payment(uow: UnitOfWork, actor: Actor, payment_id: int) -> Payment:
    payment = await uow.get(Payment, payment_id)
    unit = await uow.get(Unit, payment.unit_id) if payment is not None else None
    if payment is None or unit is None or unit.id is None \
            or not actor.sees_unit(unit.site_id, unit.building_id, unit.id):
        raise NotFound("payment", payment_id)
    return payment


def payment_out(payment: Payment, applied: Decimal = ZERO, to_balance: Decimal = ZERO,
                pay_url: str | None = None) -> dict[str, Any]:
    return jsonable({
        "id": payment.id, "unit_id": payment.unit_id, "bill_id": payment.bill_id,
        "amount": payment.amount, "channel": payment.channel.value,
        "status": payment.status.value, "created_at": payment.created_at,
        "paid_at": payment.paid_at, "provider": payment.provider,
        "provider_ref": payment.provider_ref, "reference": payment.reference,
        "refunded": payment.refunded, "applied": applied, "to_balance": to_balance,
        "pay_url": pay_url})


async def apply_payment(uow: UnitOfWork, payment: Payment,
                        now: datetime) -> tuple[Decimal, Decimal]:
    """Settle bills with the payment (its bill, or the unit's oldest first); the rest becomes
    prepaid balance. Returns (applied to bills, put on the balance)."""
    assert payment.id is not None
    if payment.bill_id is not None:
        bills = [b for b in [await uow.get(Bill, payment.bill_id)] if b is not None]
    else:
        bills = sorted((b for b in await uow.find(Bill, unit_id=payment.unit_id)
                        if b.outstanding > 0), key=lambda b: (b.due_date, b.id or 0))
    left = payment.amount
    for bill in bills:
        if left <= 0:
            break
        lines = await uow.find(BillLine, bill_id=bill.id)
        for allocation in settle(bill, lines, left, AllocationKind.PAYMENT, now, payment.id):
            uow.add(allocation)
            left -= allocation.amount
    if left > 0:
        uow.add(BalanceEntry(site_id=payment.site_id, unit_id=payment.unit_id, amount=left,
                             kind=BalanceKind.EXCESS, at=now, payment_id=payment.id))
    return payment.amount - left, left


async def record_payment(cmd: RecordPayment, uow: UnitOfWork, clock: Clock) -> dict[str, Any]:
    if cmd.channel == Channel.ONLINE:
        raise Invalid("online payments start from the resident's bill and finish by the "
                      "provider's callback", field="channel")
    unit = await visible_unit(uow, cmd.actor, cmd.unit_id)
    if cmd.bill_id is not None:
        bill = await visible_bill(uow, cmd.actor, cmd.bill_id)
        if bill.unit_id != unit.id:
            raise Invalid("the bill is of another unit", field="bill_id")
    now = clock()
    assert unit.id is not None
    payment = Payment(site_id=unit.site_id, unit_id=unit.id, amount=positive_money(cmd.amount),
                      channel=cmd.channel, status=PaymentStatus.SUCCEEDED, created_at=now,
                      created_by=cmd.actor.account_id, bill_id=cmd.bill_id, paid_at=now,
                      reference=cmd.reference)
    uow.add(payment)
    await uow.flush()
    applied, to_balance = await apply_payment(uow, payment, now)
    response = await answer(uow, cmd.actor, cmd.key, 201,
                             payment_out(payment, applied, to_balance))
    await uow.commit()
    return response


async def start_online_payment(cmd: StartOnlinePayment, uow: UnitOfWork, clock: Clock,
                               payment_providers: dict[str, PaymentProvider]) -> dict[str, Any]:
    bill = await visible_bill(uow, cmd.actor, cmd.bill_id)
    provider = payment_providers.get(cmd.provider)
    if provider is None:
        raise Invalid(f"no payment provider {cmd.provider!r}", field="provider")
    if bill.outstanding <= 0:
        raise Conflict("this bill is paid", field="bill_id")
    now = clock()
    payment = Payment(site_id=bill.site_id, unit_id=bill.unit_id, amount=bill.outstanding,
                      channel=Channel.ONLINE, status=PaymentStatus.PENDING, created_at=now,
                      created_by=cmd.actor.account_id, bill_id=bill.id, provider=provider.name)
    uow.add(payment)
    await uow.flush()
    assert payment.id is not None
    checkout = provider.checkout(payment.id, payment.amount)
    payment.provider_ref = checkout.provider_ref
    response = await answer(uow, cmd.actor, cmd.key, 201,
                             payment_out(payment, pay_url=checkout.pay_url))
    await uow.commit()
    return response


async def apply_callback(cmd: ApplyCallback, uow: UnitOfWork, clock: Clock,
                         payment_providers: dict[str, PaymentProvider]) -> dict[str, Any]:
    """Verify, then apply once: a replayed event (same id) or a settled payment changes
    nothing and answers as the first time did."""
    provider = payment_providers.get(cmd.provider)
    if provider is None:
        raise NotFound("payment provider", cmd.provider)
    event = provider.verify(cmd.body, cmd.signature)
    payment = await uow.find_one(Payment, provider=provider.name,
                                 provider_ref=event.provider_ref)
    if payment is None:
        raise Invalid("the callback names no payment of this hub", field="body.provider_ref")
    if await uow.find_one(ProviderEvent, provider=provider.name, event_id=event.event_id) \
            or payment.status != PaymentStatus.PENDING:
        return {"result": "already_applied", "payment_id": payment.id,
                "status": payment.status.value}
    if event.amount != payment.amount:
        raise Invalid(f"the callback says {event.amount}, the payment is {payment.amount}",
                      field="body.amount")
    now = clock()
    assert payment.id is not None
    uow.add(ProviderEvent(provider.name, event.event_id, payment.id, now))
    if event.succeeded:
        payment.status, payment.paid_at = PaymentStatus.SUCCEEDED, now
        await apply_payment(uow, payment, now)
    else:
        payment.status = PaymentStatus.FAILED
    await uow.commit()
    return {"result": "applied", "payment_id": payment.id, "status": payment.status.value}


def _may_give_money_back(actor: Actor) -> None:
    if actor.role not in MONEY_BACK_ROLES:
        raise PermissionDenied("refunds and write-offs need the finance or admin role")


async def refund_payment(cmd: RefundPayment, uow: UnitOfWork, clock: Clock) -> dict[str, Any]:
    """Money back, from the prepaid balance this payment made first, then off its bills'
    lines, latest first. A refund of everything leaves bills and balance as before it."""
    _may_give_money_back(cmd.actor)
    payment = await visible_payment(uow, cmd.actor, cmd.payment_id)
    amount = positive_money(cmd.amount)
    if amount > payment.refundable:
        raise Invalid(f"at most {payment.refundable} of this payment can be refunded",
                      field="amount")
    now = clock()
    assert payment.id is not None
    credited = sum((e.amount for e in await uow.find(BalanceEntry, payment_id=payment.id)
                    if e.kind in (BalanceKind.EXCESS, BalanceKind.REFUND)), ZERO)
    from_balance = max(ZERO, min(amount, credited, await unit_balance(uow, payment.unit_id)))
    given = list(await uow.find(Allocation, payment_id=payment.id))
    lines = {ln.id or 0: ln for a in given if (ln := await uow.get(BillLine, a.line_id))}
    bills = {b.id or 0: b for a in given if (b := await uow.get(Bill, a.bill_id))}
    reversals, left = take_back(lines, bills, given, amount - from_balance, now, payment.id)
    if left > 0:
        raise Invalid(f"only {amount - left} of this payment can be refunded now: the rest "
                      "paid bills through the prepaid balance", field="amount")
    for reversal in reversals:
        uow.add(reversal)
    if from_balance:
        uow.add(BalanceEntry(site_id=payment.site_id, unit_id=payment.unit_id,
                             amount=-from_balance, kind=BalanceKind.REFUND, at=now,
                             payment_id=payment.id))
    payment.refunded += amount
    refund = Refund(payment_id=payment.id, amount=amount, reason=cmd.reason, at=now,
                    by=cmd.actor.account_id)
    uow.add(refund)
    await uow.flush()
    uow.audit(entry_by(cmd.actor, now, AuditAction.REFUND, f"payment:{payment.id}",
                       {"refund": str(refund.id), "amount": str(amount)}))
    response = await answer(uow, cmd.actor, cmd.key, 201, jsonable({
        "id": refund.id, "payment_id": payment.id, "amount": amount, "at": now,
        "from_balance": from_balance, "from_bills": amount - from_balance,
        "payment_refunded": payment.refunded}))
    await uow.commit()
    return response


async def write_off_bill(cmd: WriteOffBill, uow: UnitOfWork, clock: Clock) -> dict[str, Any]:
    _may_give_money_back(cmd.actor)
    bill = await visible_bill(uow, cmd.actor, cmd.bill_id)
    amount = bill.outstanding if cmd.amount is None else positive_money(cmd.amount)
    if amount <= 0 or amount > bill.outstanding:
        raise Invalid(f"a write-off is more than zero and at most the {bill.outstanding} "
                      "outstanding", field="amount")
    now = clock()
    assert bill.id is not None
    for allocation in settle(bill, await uow.find(BillLine, bill_id=bill.id), amount,
                             AllocationKind.WRITE_OFF, now):
        uow.add(allocation)
    record = WriteOff(bill_id=bill.id, amount=amount, reason=cmd.reason, at=now,
                      by=cmd.actor.account_id)
    uow.add(record)
    await uow.flush()
    uow.audit(entry_by(cmd.actor, now, AuditAction.WRITE_OFF, f"bill:{bill.id}",
                       {"write_off": str(record.id), "amount": str(amount)}))
    await uow.commit()
    return jsonable({"id": record.id, "bill_id": bill.id, "amount": amount,
                     "outstanding": bill.outstanding})


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    ClaimKey: claim_key,  # registered here: only payments use keys
    SettleKey: settle_key,
    RecordPayment: record_payment,
    StartOnlinePayment: start_online_payment,
    ApplyCallback: apply_callback,
    RefundPayment: refund_payment,
    WriteOffBill: write_off_bill,
}
