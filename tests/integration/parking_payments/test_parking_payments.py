"""Paying for parking on every backend: paid in the app and gone within the grace owes
nothing, after it the rest; the provider's callback applied once whatever the replays; one
payment per Idempotency-Key; another household's session is not there."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.api.routers.parking_payments import deliver_parking
from hub.api.routers.payments import once
from hub.bootstrap import Hub
from hub.domain.accounts import Actor
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.parking.events import ParkingChargePaid
from hub.domain.parking.sessions import ChargeStatus, ParkingCharge, ParkingSession
from hub.handlers.parking_payments import PaySession, SessionDue, ShowExitQr
from hub.payments.sandbox import SandboxProvider, sandbox_secret
from hub.store.parking_payment_tables import parking_payment_events, parking_payments
from tests.integration.billing.community import Clock
from tests.integration.parking_payments import willow
from tests.integration.parking_payments.conftest import SQLITE_ONLY
from tests.integration.parking_payments.willow import at, car_at_exit

D = Decimal


def _sandbox(hub: Hub) -> SandboxProvider:
    return SandboxProvider(sandbox_secret(hub.settings.security.jwt_secret
                                          .get_secret_value().encode()))


async def _count(hub: Hub, table: Any) -> int:
    async with hub.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def _pay(hub: Hub, actor: Actor, session: int, key: str) -> tuple[int, dict[str, Any]]:
    response = await once(hub.bus, actor, key, f"POST /me/parking/sessions/{session}/pay",
                          {"provider": "sandbox"},
                          lambda k: PaySession(actor, k, session))
    return response.status_code, json.loads(bytes(response.body))


async def _paid_by_provider(hub: Hub, payment: dict[str, Any],
                            event_id: str | None = None) -> dict[str, Any]:
    body, signature = _sandbox(hub).callback(payment["provider_ref"], D(payment["amount"]),
                                             event_id=event_id)
    return await deliver_parking(hub.bus, "sandbox", body, signature)


async def _session(hub: Hub, session_id: int) -> ParkingSession:
    async with hub.uow() as uow:
        found = await uow.get(ParkingSession, session_id)
        assert found is not None
        return found


@SQLITE_ONLY
async def test_paid_in_the_app_leaving_within_grace_owes_nothing_after_it_the_rest(
        hub: Hub, clock: Clock, paid_events: list[ParkingChargePaid]) -> None:
    w = await willow.build(hub)
    clock.now = at(10)
    status, payment = await _pay(hub, w.alice, w.session, "pay-1")
    # 09:00–09:15 free, 09:15–10:15 the first hour: ¥5.
    assert (status, payment["amount"], payment["status"]) == (201, "5.00", "pending")
    assert payment["pay_url"].startswith("sandbox://pay/")
    assert (await _paid_by_provider(hub, payment))["result"] == "applied"

    session = await _session(hub, w.session)
    assert (session.paid_amount, session.paid_until) == (D("5.00"), at(10, 15))
    assert [(e.session_id, e.amount) for e in paid_events] == [(w.session, D("5.00"))]
    clock.now = at(10, 10)
    within = await hub.bus.handle(SessionDue(w.alice, w.session))
    assert (within["due_if_leaving_now"], within["to_pay"]) == ("0.00", "0.00")
    # 10:20, the grace over: ¥5 + ¥2 (10:15–10:45) for the whole stay, less the ¥5 paid.
    clock.now = at(10, 20)
    after = await hub.bus.handle(SessionDue(w.alice, w.session))
    assert (after["due_if_leaving_now"], after["to_pay"]) == ("2.00", "2.00")
    assert [line["kind"] for line in after["lines"]][-1] == "paid"


@SQLITE_ONLY
async def test_paying_the_rest_after_the_grace_opens_a_new_grace(hub: Hub,
                                                                 clock: Clock) -> None:
    w = await willow.build(hub)
    clock.now = at(10)
    _, first = await _pay(hub, w.alice, w.session, "pay-1")
    await _paid_by_provider(hub, first)
    clock.now = at(10, 40)
    _, second = await _pay(hub, w.alice, w.session, "pay-2")
    assert second["amount"] == "2.00"
    await _paid_by_provider(hub, second)
    clock.now = at(10, 50)
    assert (await hub.bus.handle(SessionDue(w.alice, w.session)))["due_if_leaving_now"] \
        == "0.00"
    assert (await _session(hub, w.session)).paid_amount == D("7.00")


async def test_a_replayed_or_concurrent_callback_is_applied_once(
        hub: Hub, clock: Clock, paid_events: list[ParkingChargePaid]) -> None:
    w = await willow.build(hub)
    clock.now = at(10)
    _, payment = await _pay(hub, w.alice, w.session, "pay-1")
    answers = await asyncio.gather(*(_paid_by_provider(hub, payment, event_id="evt-1")
                                     for _ in range(5)))
    again = await _paid_by_provider(hub, payment, event_id="evt-2")  # a second event, too

    results = sorted(a["result"] for a in [*answers, again])
    assert results == ["already_applied"] * 5 + ["applied"]
    assert await _count(hub, parking_payment_events) == 1
    assert (await _session(hub, w.session)).paid_amount == D("5.00")
    assert len(paid_events) == 1


@SQLITE_ONLY
async def test_a_callback_that_does_not_verify_or_match_changes_nothing(hub: Hub,
                                                                       clock: Clock) -> None:
    w = await willow.build(hub)
    clock.now = at(10)
    _, payment = await _pay(hub, w.alice, w.session, "pay-1")
    body, _ = _sandbox(hub).callback(payment["provider_ref"], D("5.00"))
    with pytest.raises(Invalid) as bad_signature:
        await deliver_parking(hub.bus, "sandbox", body, "0" * 64)
    body, signature = _sandbox(hub).callback(payment["provider_ref"], D("0.01"))
    with pytest.raises(Invalid) as other_amount:
        await deliver_parking(hub.bus, "sandbox", body, signature)
    body, signature = _sandbox(hub).callback("sbx-no-such", D("5.00"))
    with pytest.raises(Invalid) as unknown:
        await deliver_parking(hub.bus, "sandbox", body, signature)

    assert bad_signature.value.field == "header.X-Sandbox-Signature"
    assert (other_amount.value.field, unknown.value.field) == ("body.amount",
                                                               "body.provider_ref")
    assert (await _session(hub, w.session)).paid_amount == D("0.00")


async def test_one_payment_per_key_replays_mismatches_and_races(hub: Hub,
                                                                clock: Clock) -> None:
    w = await willow.build(hub)
    clock.now = at(10)
    first = await _pay(hub, w.alice, w.session, "pay-1")
    replay = await _pay(hub, w.alice, w.session, "pay-1")
    assert replay == first
    with pytest.raises(Invalid) as mismatch:  # the same key for another request
        await once(hub.bus, w.alice, "pay-1", "POST /me/parking/sessions/999/pay",
                   {"provider": "sandbox"}, lambda k: PaySession(w.alice, k, 999))
    assert mismatch.value.field == "header.Idempotency-Key"

    async def attempt() -> int:
        try:
            return (await _pay(hub, w.alice, w.session, "pay-race"))[0]
        except Conflict:
            return 409

    statuses = await asyncio.gather(*(attempt() for _ in range(10)))
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert await _count(hub, parking_payments) == 2  # pay-1 and pay-race


@SQLITE_ONLY
async def test_another_household_or_site_does_not_see_the_session(hub: Hub,
                                                                  clock: Clock) -> None:
    w = await willow.build(hub)
    clock.now = at(10)
    with pytest.raises(NotFound):
        await _pay(hub, w.bob, w.session, "bob-1")
    with pytest.raises(NotFound):
        await hub.bus.handle(SessionDue(w.bob, w.session))
    with pytest.raises(NotFound):
        await hub.bus.handle(SessionDue(w.other_guard, w.session))
    with pytest.raises(NotFound):
        await hub.bus.handle(ShowExitQr(w.alice, "k", w.session))
    assert await _count(hub, parking_payments) == 0


@SQLITE_ONLY
async def test_the_exit_qr_pays_the_fee_shown_and_marks_the_charge_paid(
        hub: Hub, clock: Clock, paid_events: list[ParkingChargePaid]) -> None:
    w = await willow.build(hub)
    clock.now = at(10, 20)
    with pytest.raises(Conflict):  # not at an exit yet
        await once(hub.bus, w.guard, "qr-0", f"POST /parking/sessions/{w.session}/qr", {},
                   lambda k: ShowExitQr(w.guard, k, w.session))
    await car_at_exit(hub, w.session, at(10, 20), "7.00")
    async with hub.uow() as uow:
        uow.add(ParkingCharge(session_id=w.session, site_id=w.site, plate=willow.PLATE,
                              amount=D("7.00"), lines=[], status=ChargeStatus.DUE,
                              at=at(10, 20)))
        await uow.commit()
    response = await once(hub.bus, w.guard, "qr-1", f"POST /parking/sessions/{w.session}/qr",
                          {}, lambda k: ShowExitQr(w.guard, k, w.session))
    payment = json.loads(bytes(response.body))
    assert (payment["amount"], payment["source"]) == ("7.00", "exit")
    await _paid_by_provider(hub, payment)

    async with hub.uow() as uow:
        charge = await uow.find_one(ParkingCharge, session_id=w.session)
        assert charge is not None
        assert (charge.status, charge.paid_by) == (ChargeStatus.PAID, "online")
    assert [e.amount for e in paid_events] == [D("7.00")]


@SQLITE_ONLY
async def test_nothing_to_pay_within_the_free_minutes(hub: Hub, clock: Clock) -> None:
    w = await willow.build(hub)
    clock.now = at(9, 10)
    with pytest.raises(Conflict):
        await _pay(hub, w.alice, w.session, "free")
    assert await _count(hub, parking_payments) == 0
