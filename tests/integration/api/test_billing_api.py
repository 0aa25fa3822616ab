"""Billing and payments through the API: runs, staff and resident payments with
Idempotency-Key, the signed callback, refunds and write-offs by permission, receipts,
statements and reports; residents see only their household's bills."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select

from hub.payments.sandbox import SIGNATURE_HEADER, SandboxProvider, sandbox_secret
from hub.store.billing_tables import payments
from tests.integration.api.conftest import Api
from tests.integration.api.probing import audit_rows, snapshot

D = Decimal
# Seeded October bills: 89.75 m² × 2.35 = 210.9125 → 210.91; 50.00 paid on A's, B's and
# riverside's.
OCTOBER = D("210.91")


def keyed(api: Api, username: str, key: str) -> dict[str, str]:
    return {**api.world.auth(username), "Idempotency-Key": key}


async def _payments(api: Api) -> int:
    async with api.hub.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(payments)) or 0)


async def _bill(api: Api, bill_id: int, username: str = "finance") -> dict[str, Any]:
    response = await api.client.get(f"/api/v1/bills/{bill_id}", headers=api.world.auth(username))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_fee_item_with_a_new_price_bills_the_new_price_from_its_date(api: Api) -> None:
    w = api.world
    auth = w.auth("finance")
    created = await api.client.post("/api/v1/fee-items", headers=auth, json={
        "site_id": w.lakeside, "code": "water", "name": "水费", "kind": "metered",
        "meter": "water", "unit_price": "0", "effective_from": "2026-01-01",
        "tiers": [{"up_to": "10", "price": "3.00"}, {"up_to": None, "price": "4.50"}]})
    assert created.status_code == 201, created.text
    fee = created.json()["id"]
    too_early = await api.client.post(f"/api/v1/fee-items/{w.fee_lakeside}/prices", headers=auth,
                                      json={"effective_from": "2026-10-01", "unit_price": "9"})
    later = await api.client.post(f"/api/v1/fee-items/{w.fee_lakeside}/prices", headers=auth,
                                  json={"effective_from": "2026-11-01", "unit_price": "2.80"})
    assert too_early.status_code == 409  # October is billed at 2.35 and stays so
    assert "billed already" in too_early.json()["error"]["message"]
    assert later.status_code == 201
    for value, day in (("100.0", "2026-10-31"), ("112.5", "2026-12-02")):
        reading = await api.client.post("/api/v1/meter-readings", headers=auth, json={
            "unit_id": w.unit_a, "meter": "water", "value": value, "read_on": day})
        assert reading.status_code == 201, reading.text
    readings = (await api.client.get("/api/v1/meter-readings", headers=auth,
                                     params={"unit_id": w.unit_a})).json()["items"]
    assert [(r["period"], r["value"]) for r in readings] == [("2026-10", "100.000"),
                                                            ("2026-11", "112.500")]

    run = {"site_id": w.lakeside, "period": "2026-11", "fee_item_ids": [w.fee_lakeside, fee]}
    preview = await api.client.post("/api/v1/billing/preview", headers=auth, json=run)
    first = await api.client.post("/api/v1/billing/runs", headers=auth, json=run)
    second = await api.client.post("/api/v1/billing/runs", headers=auth, json=run)

    assert preview.status_code == 200, preview.text
    unit_a = next(u for u in preview.json()["units"] if u["unit_id"] == w.unit_a)
    # property 89.75 × 2.80 = 251.30; water 12.5 m³: 10 × 3.00 + 2.5 × 4.50 = 41.25
    assert [(ln["description"], ln["amount"]) for ln in unit_a["lines"]] == [
        ("物业费", "251.30"), ("水费", "41.25")]
    assert unit_a["total"] == "292.55"
    assert (first.json()["lines_created"], second.json()["lines_created"]) == (4, 0)
    assert second.json()["lines_already_billed"] == 4  # 3 property lines, 1 water
    bills = (await api.client.get("/api/v1/bills", headers=auth, params={
        "period": "2026-11", "unit_id": w.unit_a})).json()["items"]
    assert [(b["total"], b["status"]) for b in bills] == [("292.55", "open")]


async def test_a_staff_payment_replays_and_refuses_another_amount_on_its_key(api: Api) -> None:
    w = api.world
    body = {"unit_id": w.unit_a, "bill_id": w.bill_a, "amount": "60.00", "channel": "cash"}
    before = await _payments(api)
    none = await api.client.post("/api/v1/payments", headers=w.auth("finance"), json=body)
    first = await api.client.post("/api/v1/payments", headers=keyed(api, "finance", "k-1"),
                                  json=body)
    replay = await api.client.post("/api/v1/payments", headers=keyed(api, "finance", "k-1"),
                                   json=body)
    other = await api.client.post("/api/v1/payments", headers=keyed(api, "finance", "k-1"),
                                  json={**body, "amount": "61.00"})

    assert none.status_code == 422
    assert none.json()["error"]["field"] == "header.Idempotency-Key"
    assert first.status_code == 201, first.text
    assert (replay.status_code, replay.json()) == (201, first.json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert "other parameters" in other.json()["error"]["message"]
    assert await _payments(api) == before + 1
    bill = await _bill(api, w.bill_a)
    assert (bill["paid"], bill["outstanding"], bill["status"]) == ("110.00", "100.91", "partial")


async def test_twenty_concurrent_requests_with_one_key_make_one_payment(api: Api) -> None:
    w = api.world
    body = {"unit_id": w.unit_a, "amount": "10.00", "channel": "bank_transfer",
            "reference": "ICBC 4410"}
    before = await _payments(api)

    answers = await asyncio.gather(*(api.client.post(
        "/api/v1/payments", headers=keyed(api, "finance", "same-key"), json=body)
        for _ in range(20)))

    codes = sorted(r.status_code for r in answers)
    print(f"S7 API: 20 requests → {codes.count(201)} × 201, {codes.count(409)} × 409; "
          f"payments created {await _payments(api) - before} (1 expected)")
    assert await _payments(api) == before + 1
    assert set(codes) <= {201, 409}
    assert len({r.json()["id"] for r in answers if r.status_code == 201}) == 1


async def test_a_resident_pays_online_and_the_callback_applies_once(api: Api) -> None:
    w = api.world
    started = await api.client.post(f"/api/v1/me/bills/{w.bill_a}/pay",
                                    headers=keyed(api, "alice", "pay-oct"), json={})
    again = await api.client.post(f"/api/v1/me/bills/{w.bill_a}/pay",
                                  headers=keyed(api, "alice", "pay-oct"), json={})
    assert started.status_code == 201, started.text
    assert again.json() == started.json()
    payment = started.json()
    assert (payment["amount"], payment["status"]) == ("160.91", "pending")
    provider = SandboxProvider(sandbox_secret(
        api.settings.security.jwt_secret.get_secret_value().encode()))
    body, signature = provider.callback(payment["provider_ref"], D(payment["amount"]))
    forged = await api.client.post("/api/v1/payments/callbacks/sandbox", content=body,
                                   headers={SIGNATURE_HEADER: "0" * 64})
    assert forged.status_code == 422

    deliveries = [await api.client.post("/api/v1/payments/callbacks/sandbox", content=body,
                                        headers={SIGNATURE_HEADER: signature})
                  for _ in range(5)]

    assert [d.json()["result"] for d in deliveries] == ["applied"] + ["already_applied"] * 4
    mine = (await api.client.get(f"/api/v1/me/bills/{w.bill_a}", headers=w.auth("alice"))).json()
    assert (mine["paid"], mine["status"]) == ("210.91", "paid")
    receipt = await api.client.get(f"/api/v1/me/payments/{payment['id']}/receipt",
                                   headers=w.auth("alice"))
    assert receipt.status_code == 200
    assert "160.91" in receipt.text and "<table>" in receipt.text
    paid = await api.client.post(f"/api/v1/me/bills/{w.bill_a}/pay",
                                 headers=keyed(api, "alice", "pay-again"), json={})
    assert paid.status_code == 409


async def test_residents_see_only_their_households_bills(api: Api) -> None:
    w = api.world
    alice = (await api.client.get("/api/v1/me/bills", headers=w.auth("alice"))).json()
    bob = (await api.client.get("/api/v1/me/bills", headers=w.auth("bob"))).json()
    assert [b["id"] for b in alice["items"]] == [w.bill_a]
    assert [b["id"] for b in bob["items"]] == [w.bill_b]
    for bill in (w.bill_b, w.bill_c, w.bill_river):
        response = await api.client.get(f"/api/v1/me/bills/{bill}", headers=w.auth("alice"))
        pay = await api.client.post(f"/api/v1/me/bills/{bill}/pay",
                                    headers=keyed(api, "alice", f"x-{bill}"), json={})
        assert (response.status_code, pay.status_code) == (404, 404)
    mine = (await api.client.get("/api/v1/me/payments", headers=w.auth("alice"))).json()
    assert [p["id"] for p in mine["items"]] == [w.payment_a]
    staff = await api.client.get("/api/v1/bills", headers=w.auth("alice"))
    assert staff.status_code == 403


async def test_money_fields_in_payment_bodies_are_refused_and_change_nothing(api: Api) -> None:
    w = api.world
    before = await snapshot(api)
    attempts = [
        (f"/api/v1/me/bills/{w.bill_a}/pay", "alice", {"amount": "0.01"}, "body.amount"),
        (f"/api/v1/me/bills/{w.bill_a}/pay", "alice", {"status": "succeeded"}, "body.status"),
        (f"/api/v1/me/bills/{w.bill_a}/pay", "alice", {"paid_at": "2026-01-01T00:00:00Z"},
         "body.paid_at"),
        ("/api/v1/payments", "finance", {"unit_id": w.unit_a, "amount": "1.00",
                                         "channel": "cash", "status": "refunded"},
         "body.status"),
        ("/api/v1/payments", "finance", {"unit_id": w.unit_a, "amount": "1.00",
                                         "channel": "cash", "paid_at": "2020-01-01T00:00:00Z"},
         "body.paid_at"),
        ("/api/v1/payments", "finance", {"unit_id": w.unit_a, "amount": "1.001",
                                         "channel": "cash"}, "body.amount"),
        (f"/api/v1/payments/{w.payment_a}/refund", "finance",
         {"amount": "1.00", "reason": "duplicate", "status": "done"}, "body.status"),
    ]
    for index, (url, username, body, field) in enumerate(attempts):
        response = await api.client.post(url, json=body,
                                         headers=keyed(api, username, f"mass-{index}"))
        assert response.status_code == 422, (url, body, response.text)
        assert response.json()["error"]["field"] == field
    assert await snapshot(api) == before


async def test_refunds_need_finance_or_admin_and_are_audited_once(api: Api) -> None:
    w = api.world
    before = await _bill(api, w.bill_a)
    refused = await api.client.post(f"/api/v1/payments/{w.payment_a}/refund",
                                    headers=keyed(api, "manager", "r-1"),
                                    json={"amount": "50.00", "reason": "paid twice"})
    done = await api.client.post(f"/api/v1/payments/{w.payment_a}/refund",
                                 headers=keyed(api, "finance", "r-1"),
                                 json={"amount": "50.00", "reason": "paid twice"})
    replay = await api.client.post(f"/api/v1/payments/{w.payment_a}/refund",
                                   headers=keyed(api, "finance", "r-1"),
                                   json={"amount": "50.00", "reason": "paid twice"})
    assert refused.status_code == 403
    assert done.status_code == 201, done.text
    assert replay.json() == done.json()
    after = await _bill(api, w.bill_a)
    assert (before["paid"], after["paid"]) == ("50.00", "0.00")
    assert after["outstanding"] == str(OCTOBER)
    rows = await audit_rows(api, "refund")
    assert len(rows) == 1
    assert rows[0]["target"] == f"payment:{w.payment_a}"
    assert set(rows[0]["detail"]) == {"refund", "amount"}  # the reason stays in refunds


async def test_write_offs_need_finance_or_admin_with_a_reason(api: Api) -> None:
    w = api.world
    manager = await api.client.post(f"/api/v1/bills/{w.bill_b}/write-off",
                                    headers=w.auth("manager"), json={"reason": "hardship"})
    finance = await api.client.post(f"/api/v1/bills/{w.bill_b}/write-off",
                                    headers=w.auth("finance"), json={"reason": "hardship"})
    too_much = await api.client.post(f"/api/v1/bills/{w.bill_b}/write-off",
                                     headers=w.auth("finance"),
                                     json={"reason": "hardship", "amount": "0.01"})
    assert manager.status_code == 403
    assert finance.status_code == 201, finance.text
    assert (finance.json()["amount"], finance.json()["outstanding"]) == ("160.91", "0.00")
    assert too_much.status_code == 422
    assert len(await audit_rows(api, "write_off")) == 1


async def test_statement_ageing_collection_and_exports(api: Api) -> None:
    w = api.world
    auth = w.auth("finance")
    statement = (await api.client.get(f"/api/v1/units/{w.unit_a}/statement",
                                      headers=auth)).json()
    assert (statement["billed"], statement["outstanding"], statement["balance"]) == (
        "210.91", "160.91", "0.00")
    ageing = (await api.client.get("/api/v1/billing/reports/ageing", headers=auth, params={
        "site_id": w.lakeside, "as_of": "2026-12-20", "by": "building"})).json()["rows"]
    # October bills fall due on 15 November: 35 days overdue on 20 December → 31-90.
    assert [(r["building"], r["31-90"], r["total"]) for r in ageing] == [
        ("Building 1", "321.82", "321.82"), ("Building 2", "210.91", "210.91")]
    collection = (await api.client.get("/api/v1/billing/reports/collection", headers=auth,
                                       params={"site_id": w.lakeside, "by": "period"})).json()
    # 100.00 collected of 3 × 210.91 = 632.73 → 0.1580
    assert collection["rows"] == [{"period": "2026-10", "name": "2026-10", "billed": "632.73",
                                   "collected": "100.00", "written_off": "0.00",
                                   "outstanding": "532.73", "rate": "0.1580"}]
    csv_text = (await api.client.get("/api/v1/billing/reports/arrears", headers=auth, params={
        "site_id": w.lakeside, "as_of": "2026-12-01", "format": "csv"})).text
    assert csv_text.splitlines()[0] == "building_id,building,amount,bills,units"
    assert ",Building 1,321.82,2,2" in csv_text
    xlsx = await api.client.get("/api/v1/billing/reports/revenue", headers=auth, params={
        "site_id": w.lakeside, "from": "2026-01-01", "to": "2030-01-01", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["fee_item_id", "name", "revenue"], [w.fee_lakeside, "物业费", 100]]
    river = await api.client.get("/api/v1/billing/reports/arrears",
                                 headers=w.auth("river-manager"),
                                 params={"site_id": w.lakeside, "as_of": "2026-12-01"})
    assert river.json()["rows"] == []


async def test_staff_lists_hold_only_their_sites_billing(api: Api) -> None:
    w = api.world
    river = w.auth("river-manager")
    seen = {path: {item["id"] for item in (await api.client.get(
        path, headers=river, params={"limit": 200})).json()["items"]}
        for path in ("/api/v1/bills", "/api/v1/payments", "/api/v1/fee-items")}
    assert seen == {"/api/v1/bills": {w.bill_river}, "/api/v1/payments": {w.payment_river},
                    "/api/v1/fee-items": {w.fee_river}}
    lakeside = (await api.client.get("/api/v1/bills", headers=w.auth("finance"),
                                     params={"limit": 200})).json()
    assert {b["id"] for b in lakeside["items"]} == {w.bill_a, w.bill_b, w.bill_c}
    foreign = await api.client.get("/api/v1/bills", headers=river,
                                   params={"site_id": w.lakeside})
    assert foreign.json()["items"] == []
    run = await api.client.post("/api/v1/billing/preview", headers=river, json={
        "site_id": w.lakeside, "period": "2026-11", "fee_item_ids": [w.fee_lakeside]})
    assert run.status_code == 404
