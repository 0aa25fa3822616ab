"""Paying for parking over HTTP: a resident pays their session with a key (the amount is the
hub's, never the body's), another household gets 404 (and no key is spent), the callback is
public but signed, and the gate's own rule (hub.domain.parking.decisions.decide_exit) opens
within the grace and asks the rest after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from hub.api.app import create_app
from hub.bootstrap import Hub
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.parking.decisions import Fee, decide_exit
from hub.domain.parking.sessions import ParkingSession, Verdict
from hub.payments.sandbox import SIGNATURE_HEADER, SandboxProvider, sandbox_secret
from tests.integration.billing.community import Clock
from tests.integration.parking_payments import willow
from tests.integration.parking_payments.conftest import SQLITE_ONLY
from tests.integration.parking_payments.willow import Willow, at

PASSWORD = "correct horse 42"


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(hub.settings, hub)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://hub.test") as client:
        yield client


async def _login(hub: Hub, clock: Clock, client: httpx.AsyncClient, username: str,
                 resident: int) -> dict[str, str]:
    """A token valid now (tokens expire by the wall clock, not the test's)."""
    clock.now = datetime.now(UTC)
    await hub.bus.handle(c.CreateAccount(SYSTEM, username=username, password=PASSWORD,
                                         role=Role.RESIDENT, resident_id=resident))
    response = await client.post("/api/v1/auth/login",
                                 data={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@SQLITE_ONLY
async def test_pay_over_http_then_the_gate_opens_within_grace_only(
        hub: Hub, clock: Clock, client: httpx.AsyncClient) -> None:
    w: Willow = await willow.build(hub)
    assert w.alice.resident_id is not None and w.bob.resident_id is not None
    alice = await _login(hub, clock, client, "alice", w.alice.resident_id)
    bob = await _login(hub, clock, client, "bob", w.bob.resident_id)
    clock.now = at(10)
    path = f"/api/v1/me/parking/sessions/{w.session}/pay"

    no_key = await client.post(path, headers=alice)
    foreign = await client.post(path, headers={**bob, "Idempotency-Key": "k1"})
    foreign_due = await client.get(f"/api/v1/me/parking/sessions/{w.session}/due",
                                   headers=bob)
    cheaper = await client.post(path, headers={**alice, "Idempotency-Key": "k0"},
                                json={"provider": "sandbox", "amount": "0.01"})
    paid = await client.post(path, headers={**alice, "Idempotency-Key": "k1"})
    replay = await client.post(path, headers={**alice, "Idempotency-Key": "k1"})

    assert no_key.status_code == 422
    assert no_key.json()["error"]["field"] == "header.Idempotency-Key"
    assert (foreign.status_code, foreign_due.status_code) == (404, 404)
    # The hub says how much; a body naming an amount is refused by name (mass assignment).
    assert (cheaper.status_code, cheaper.json()["error"]["field"]) == (422, "body.amount")
    assert paid.status_code == 201 and paid.json()["amount"] == "5.00"
    assert (replay.json(), replay.headers.get("Idempotent-Replayed")) == (paid.json(), "true")

    provider = SandboxProvider(sandbox_secret(
        hub.settings.security.jwt_secret.get_secret_value().encode()))
    body, signature = provider.callback(paid.json()["provider_ref"], Decimal("5.00"))
    callback = "/api/v1/parking/payments/callbacks/sandbox"
    unsigned = await client.post(callback, content=body)
    applied = await client.post(callback, content=body, headers={SIGNATURE_HEADER: signature})
    again = await client.post(callback, content=body, headers={SIGNATURE_HEADER: signature})
    assert unsigned.status_code == 422
    assert (applied.json()["result"], again.json()["result"]) == ("applied", "already_applied")

    async with hub.uow() as uow:
        session = await uow.get(ParkingSession, w.session)
    assert session is not None
    # The gate's fee for the whole stay: ¥5 to 10:15, ¥7 to 10:45 (docs/parking.md).
    within = decide_exit(Fee(Decimal("5.00"), None), session, at(10, 10))
    after = decide_exit(Fee(Decimal("7.00"), None), session, at(10, 20))
    assert within.verdict is Verdict.OPEN
    assert (after.verdict, after.due) == (Verdict.AWAIT_PAYMENT, Decimal("2.00"))
