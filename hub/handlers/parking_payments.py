"""Paying a parking session online: from the app before the exit, or by the QR the exit's
display shows for the fee there; the provider's signed callback applied once.

The payments are the billing issue's: the same providers (hub.payments), the same
Idempotency-Key rules (hub.handlers.payment_keys: the answer is stored with the payment), a
provider event kept under a unique key so that a replayed callback changes nothing. What a
session owes is hub.domain.parking.prepaid's reckoning. A succeeded payment adds to the
session's `paid_amount` and sets `paid_until` (paid_at + the grace); the gate flow, told by
`ParkingChargePaid` after the commit, opens the barrier if the car waits at an exit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hub.domain.accounts import Actor
from hub.domain.billing.ledger import PaymentStatus
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.parking.events import ParkingChargePaid
from hub.domain.parking.prepaid import (
    ParkingPayment,
    ParkingPaymentEvent,
    PaySource,
    PrepaidPayment,
    Reckoning,
    reckon,
)
from hub.domain.parking.quote import Coupon, CouponKind, PriorCharge, Stay
from hub.domain.parking.sessions import (
    ZERO,
    ChargeStatus,
    PaidBy,
    ParkingCharge,
    ParkingSession,
    SessionState,
    SessionViewer,
)
from hub.domain.parking.standing import FREE_STANDINGS, Standing
from hub.domain.parking.tariff import (
    PlateColor,
    Tariff,
    TariffVersion,
    VehicleClass,
    version_at,
)
from hub.domain.property import Site
from hub.handlers.payment_keys import answer, jsonable
from hub.payments.provider import PaymentProvider
from hub.ports import Clock, UnitOfWork

DEFAULT_GRACE_MINUTES = 15  # settings parking.pay_grace_minutes, injected by bootstrap
CAP_LOOKBACK = timedelta(hours=48)  # earlier stays that may share a cap window with this one


@dataclass(frozen=True)
class PaySession(Command):
    """A resident pays a session of their household's car (or their visitor's) in the app."""

    key: str
    session_id: int
    provider: str = "sandbox"


@dataclass(frozen=True)
class ShowExitQr(Command):
    """Staff (or the exit display's account): the QR for the fee shown at the exit."""

    key: str
    session_id: int
    provider: str = "sandbox"


@dataclass(frozen=True)
class SessionDue(Command):
    """What a session owes now, itemised, without paying."""

    session_id: int


@dataclass(frozen=True)
class ApplyParkingCallback:
    provider: str
    body: bytes
    signature: str | None


async def visible_session(uow: UnitOfWork, actor: Actor, session_id: int) -> ParkingSession:
    """A resident sees the sessions they are a viewer of; staff those of their sites."""
    session = await uow.get(ParkingSession, session_id)
    if session is None:
        raise NotFound("parking session", session_id)
    if actor.is_resident:
        viewer = None if actor.resident_id is None else await uow.find_one(
            SessionViewer, session_id=session_id, resident_id=actor.resident_id)
        if viewer is None:
            raise NotFound("parking session", session_id)
    elif not actor.sees_site(session.site_id):
        raise NotFound("parking session", session_id)
    return session


async def _tariff(uow: UnitOfWork, session: ParkingSession) -> Tariff | None:
    if session.tariff_id is None or session.entry_at is None:
        return None
    versions = await uow.find(TariffVersion, tariff_id=session.tariff_id)
    exact = [v for v in versions if v.number == session.tariff_version]
    return (exact[0] if exact else version_at(versions, session.entry_at)).tariff()


def _stay(session: ParkingSession, entry: datetime, until: datetime, zone: ZoneInfo) -> Stay:
    """The stay as the gate quotes it: the car's class and plate colour, a visitor's free
    minutes as a minutes coupon."""
    vehicles, colors = {v.value: v for v in VehicleClass}, {c.value: c for c in PlateColor}
    coupons: tuple[Coupon, ...] = ()
    if session.standing is Standing.VISITOR and session.visitor_free_minutes:
        coupons = (Coupon(CouponKind.MINUTES, Decimal(session.visitor_free_minutes),
                          "visitor"),)
    return Stay(entry.astimezone(zone), max(entry, until).astimezone(zone),
                vehicles.get(session.vehicle_class or "", VehicleClass.SMALL),
                colors.get(session.plate_color or "", PlateColor.BLUE), coupons)


async def _history(uow: UnitOfWork, session: ParkingSession) -> list[PriorCharge]:
    """The plate's earlier charged stays that may share a cap window with this one."""
    assert session.entry_at is not None
    found = []
    for other in await uow.find(ParkingSession, site_id=session.site_id, plate=session.plate):
        if other.id == session.id or other.entry_at is None or other.exit_at is None \
                or not session.entry_at - CAP_LOOKBACK <= other.entry_at < session.entry_at:
            continue
        charge = await uow.find_one(ParkingCharge, session_id=other.id)
        if charge is not None:
            found.append(PriorCharge(other.entry_at, max(other.entry_at, other.exit_at),
                                     charge.amount))
    return found


async def _paid(uow: UnitOfWork, session_id: int) -> list[PrepaidPayment]:
    return [PrepaidPayment(p.amount, p.paid_at)
            for p in await uow.find(ParkingPayment, session_id=session_id,
                                    status=PaymentStatus.SUCCEEDED) if p.paid_at is not None]


async def reckoning(uow: UnitOfWork, session: ParkingSession, now: datetime,
                    grace_minutes: int) -> Reckoning | None:
    """What the session owes now (None: nothing to reckon, no tariff or no entry)."""
    tariff = await _tariff(uow, session)
    if tariff is None or session.entry_at is None or session.standing in FREE_STANDINGS:
        return None
    site = await uow.get(Site, session.site_id)
    zone = ZoneInfo(site.timezone if site is not None else "UTC")
    return reckon(tariff, _stay(session, session.entry_at, now, zone),
                  await _paid(uow, session.id or 0), grace_minutes,
                  await _history(uow, session))


async def amount_to_pay(uow: UnitOfWork, session: ParkingSession, now: datetime,
                        grace_minutes: int) -> Decimal:
    """At an exit barrier: the fee on its display less what was paid. Inside: the stay so
    far less what was paid, so that the car may then leave within the grace owing nothing."""
    if not session.present or session.state is SessionState.HELD:
        raise Conflict("this car is no longer in the lot: nothing to pay here",
                       field="session_id")
    if session.waiting_at_exit and session.fee is not None:
        return session.owed()
    found = await reckoning(uow, session, now, grace_minutes)
    return ZERO if found is None else found.to_settle


async def _start(uow: UnitOfWork, actor: Actor, key: str, session: ParkingSession,
                 amount: Decimal, source: PaySource, provider_name: str, now: datetime,
                 providers: dict[str, PaymentProvider], grace_minutes: int) -> dict[str, Any]:
    provider = providers.get(provider_name)
    if provider is None:
        raise Invalid(f"no payment provider {provider_name!r}", field="provider")
    if amount <= 0:
        raise Conflict("nothing to pay for this session now", field="session_id")
    assert session.id is not None
    payment = ParkingPayment(session_id=session.id, site_id=session.site_id, amount=amount,
                             source=source, status=PaymentStatus.PENDING, created_at=now,
                             provider=provider.name, created_by=actor.account_id)
    uow.add(payment)
    await uow.flush()
    assert payment.id is not None
    checkout = provider.checkout(payment.id, amount)
    payment.provider_ref = checkout.provider_ref
    response = await answer(uow, actor, key, 201, payment_out(
        payment, session, checkout.pay_url, grace_minutes))
    await uow.commit()
    return response


def payment_out(payment: ParkingPayment, session: ParkingSession, pay_url: str | None,
                grace_minutes: int) -> dict[str, Any]:
    return jsonable({
        "id": payment.id, "session_id": payment.session_id, "plate": session.plate,
        "amount": payment.amount, "source": payment.source.value,
        "status": payment.status.value, "provider": payment.provider,
        "provider_ref": payment.provider_ref, "pay_url": pay_url,
        "created_at": payment.created_at, "paid_at": payment.paid_at,
        "paid_until": payment.paid_until, "grace_minutes": grace_minutes})


async def pay_session(cmd: PaySession, uow: UnitOfWork, clock: Clock,
                      payment_providers: dict[str, PaymentProvider],
                      pay_grace_minutes: int = DEFAULT_GRACE_MINUTES) -> dict[str, Any]:
    session = await visible_session(uow, cmd.actor, cmd.session_id)
    now = clock()
    amount = await amount_to_pay(uow, session, now, pay_grace_minutes)
    return await _start(uow, cmd.actor, cmd.key, session, amount, PaySource.APP, cmd.provider,
                        now, payment_providers, pay_grace_minutes)


async def show_exit_qr(cmd: ShowExitQr, uow: UnitOfWork, clock: Clock,
                       payment_providers: dict[str, PaymentProvider],
                       pay_grace_minutes: int = DEFAULT_GRACE_MINUTES) -> dict[str, Any]:
    session = await visible_session(uow, cmd.actor, cmd.session_id)
    if cmd.actor.is_resident:
        raise NotFound("parking session", cmd.session_id)
    if not session.waiting_at_exit or session.fee is None:
        raise Conflict("this car is not waiting at an exit with a fee shown",
                       field="session_id")
    now = clock()
    return await _start(uow, cmd.actor, cmd.key, session, session.owed(), PaySource.EXIT,
                        cmd.provider, now, payment_providers, pay_grace_minutes)


def _lines(found: Reckoning) -> list[dict[str, Any]]:
    tariff = [jsonable({"kind": line.kind.value, "rule": line.rule, "amount": line.amount,
                        "explain_zh": line.explain_zh, "explain_en": line.explain_en,
                        "start": line.start, "end": line.end}) for line in found.quote.lines]
    return tariff + [jsonable({"kind": line.kind, "rule": line.kind, "amount": line.amount,
                               "explain_zh": line.explain_zh, "explain_en": line.explain_en,
                               "start": line.at, "end": None}) for line in found.lines]


async def session_due(cmd: SessionDue, uow: UnitOfWork, clock: Clock,
                      pay_grace_minutes: int = DEFAULT_GRACE_MINUTES) -> dict[str, Any]:
    session = await visible_session(uow, cmd.actor, cmd.session_id)
    now = clock()
    found = await reckoning(uow, session, now, pay_grace_minutes) if session.present else None
    to_pay = ZERO
    if session.present and session.state is not SessionState.HELD:
        to_pay = await amount_to_pay(uow, session, now, pay_grace_minutes)
    return jsonable({
        "session_id": session.id, "plate": session.plate, "state": session.state.value,
        "at": now, "entry_at": session.entry_at, "paid": session.paid_amount,
        "paid_until": session.paid_until,
        "due_if_leaving_now": found.due if found is not None else session.owed(),
        "to_pay": to_pay, "billed_to": found.billed_to if found is not None else None,
        "lines": _lines(found) if found is not None else []})


async def apply_parking_callback(cmd: ApplyParkingCallback, uow: UnitOfWork, clock: Clock,
                                 payment_providers: dict[str, PaymentProvider],
                                 pay_grace_minutes: int = DEFAULT_GRACE_MINUTES
                                 ) -> dict[str, Any]:
    """Verify, then apply once: a replayed event or a settled payment changes nothing and
    answers "already_applied"."""
    provider = payment_providers.get(cmd.provider)
    if provider is None:
        raise NotFound("payment provider", cmd.provider)
    event = provider.verify(cmd.body, cmd.signature)
    payment = await uow.find_one(ParkingPayment, provider=provider.name,
                                 provider_ref=event.provider_ref)
    if payment is None:
        raise Invalid("the callback names no parking payment of this hub",
                      field="body.provider_ref")
    if await uow.find_one(ParkingPaymentEvent, provider=provider.name,
                          event_id=event.event_id) or payment.status != PaymentStatus.PENDING:
        return {"result": "already_applied", "payment_id": payment.id,
                "status": payment.status.value}
    if event.amount != payment.amount:
        raise Invalid(f"the callback says {event.amount}, the payment is {payment.amount}",
                      field="body.amount")
    now = clock()
    assert payment.id is not None
    uow.add(ParkingPaymentEvent(provider.name, event.event_id, payment.id, now))
    if not event.succeeded:
        payment.status = PaymentStatus.FAILED
        await uow.commit()
        return {"result": "applied", "payment_id": payment.id, "status": payment.status.value}
    payment.status, payment.paid_at = PaymentStatus.SUCCEEDED, now
    payment.paid_until = now + timedelta(minutes=pay_grace_minutes)
    session = await uow.get(ParkingSession, payment.session_id)
    assert session is not None
    await _mark_paid(uow, session, payment, now)
    uow.emit(ParkingChargePaid(session_id=payment.session_id, amount=payment.amount, at=now))
    await uow.commit()
    return {"result": "applied", "payment_id": payment.id, "status": payment.status.value}


async def _mark_paid(uow: UnitOfWork, session: ParkingSession, payment: ParkingPayment,
                     now: datetime) -> None:
    """Add the payment to what the session paid (cash a guard took is in it too), extend
    its grace, and mark its charge paid once the exit made one and it is covered."""
    if not session.present:
        session.flag(f"paid {payment.amount} online after it left: refund or keep as paid")
    elif session.fee is not None and session.owed() == 0:
        session.flag(f"paid {payment.amount} online though nothing was owed: refund")
    session.paid_amount += payment.amount
    session.paid_until = max(filter(None, (session.paid_until, payment.paid_until)))
    session.updated_at = now
    charge = await uow.find_one(ParkingCharge, session_id=session.id)
    if charge is not None and charge.status is ChargeStatus.DUE \
            and session.paid_amount >= charge.amount:
        charge.status, charge.paid_by, charge.paid_at = ChargeStatus.PAID, PaidBy.ONLINE, now


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    PaySession: pay_session,
    ShowExitQr: show_exit_qr,
    SessionDue: session_due,
    ApplyParkingCallback: apply_parking_callback,
}
