"""S3, mass assignment: a field a body does not declare is refused by name, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.probing import snapshot
from tests.integration.api.world import World

Case = Callable[[World], tuple[str, str, dict[str, Any]]]

# (method, url, a body that is valid but for one field) for each attempt; the field is the key.
CASES: dict[str, tuple[str, Case]] = {
    "id on a new site": ("body.id", lambda w: (
        "POST", "/api/v1/sites", {"code": "hilltop", "name": "Hilltop", "id": w.lakeside})),
    "code of a site": ("body.code", lambda w: (
        "PATCH", f"/api/v1/sites/{w.lakeside}", {"name": "Lakeside", "code": "stolen"})),
    "site of a building": ("body.site_id", lambda w: (
        "PATCH", f"/api/v1/buildings/{w.b1}", {"name": "B1", "site_id": w.riverside})),
    "site of a unit": ("body.site_id", lambda w: (
        "PATCH", f"/api/v1/units/{w.unit_a}", {"layout": "3室", "site_id": w.riverside})),
    "building of a unit": ("body.building_id", lambda w: (
        "PATCH", f"/api/v1/units/{w.unit_a}", {"layout": "3室", "building_id": w.b2})),
    "site of a new unit": ("body.site_id", lambda w: (
        "POST", "/api/v1/units", {"building_id": w.b1, "number": "9-1", "floor": 1,
                                  "gross_area": "50", "inner_area": "40",
                                  "site_id": w.riverside})),
    "payment on a unit": ("body.paid_at", lambda w: (
        "PATCH", f"/api/v1/units/{w.unit_a}", {"layout": "3室",
                                               "paid_at": "2024-01-01T00:00:00Z"})),
    "ciphertext of a resident": ("body.national_id_cipher", lambda w: (
        "PATCH", f"/api/v1/residents/{w.alice}", {"name": "张伟",
                                                  "national_id_cipher": "demo:AAAA"})),
    "mask of a resident": ("body.national_id_masked", lambda w: (
        "PATCH", f"/api/v1/residents/{w.alice}", {"name": "张伟",
                                                  "national_id_masked": "0000**********0000"})),
    "national id by patch": ("body.national_id", lambda w: (
        "PATCH", f"/api/v1/residents/{w.bob}", {"name": "李娜",
                                                "national_id": "110105197906224563"})),
    "role on a resident": ("body.role", lambda w: (
        "PATCH", f"/api/v1/residents/{w.alice}", {"phone": "13812345678", "role": "admin"})),
    "site of a resident": ("body.site_id", lambda w: (
        "PATCH", f"/api/v1/residents/{w.alice}", {"name": "张伟", "site_id": w.riverside})),
    "household of a new resident": ("body.household_id", lambda w: (
        "POST", "/api/v1/residents", {"site_id": w.lakeside, "name": "赵敏",
                                      "household_id": w.unit_b})),
    "id of a new resident": ("body.id", lambda w: (
        "POST", "/api/v1/residents", {"site_id": w.lakeside, "name": "赵敏", "id": w.bob})),
    "status of a new resident": ("body.status", lambda w: (
        "POST", "/api/v1/residents", {"site_id": w.lakeside, "name": "赵敏",
                                      "status": "verified"})),
    "resident of a residency": ("body.residencies.0.resident_id", lambda w: (
        "POST", "/api/v1/residents", {"site_id": w.lakeside, "name": "赵敏", "residencies": [
            {"unit_id": w.unit_a, "relation": "family", "moved_in": "2024-01-01",
             "resident_id": w.bob}]})),
    "resident in a residency body": ("body.resident_id", lambda w: (
        "POST", f"/api/v1/residents/{w.alice}/residencies", {
            "unit_id": w.unit_c, "relation": "family", "moved_in": "2024-01-01",
            "resident_id": w.bob})),
    "moved out on a new residency": ("body.moved_out", lambda w: (
        "POST", f"/api/v1/residents/{w.alice}/residencies", {
            "unit_id": w.unit_c, "relation": "family", "moved_in": "2024-01-01",
            "moved_out": "2023-01-01"})),
    "status of an ended residency": ("body.status", lambda w: (
        "POST", f"/api/v1/residencies/{w.residency_bob}/end", {"moved_out": "2030-01-01",
                                                               "status": "active"})),
    "password hash of an account": ("body.password_hash", lambda w: (
        "PATCH", f"/api/v1/staff/{w.accounts['finance']}", {"display_name": "F",
                                                            "password_hash": "$argon2id$x"})),
    "username of an account": ("body.username", lambda w: (
        "PATCH", f"/api/v1/staff/{w.accounts['finance']}", {"display_name": "F",
                                                            "username": "admin2"})),
    "resident of an account": ("body.resident_id", lambda w: (
        "PATCH", f"/api/v1/staff/{w.accounts['finance']}", {"display_name": "F",
                                                            "resident_id": w.bob})),
    "active on a new account": ("body.active", lambda w: (
        "POST", "/api/v1/staff", {"username": "new-desk", "password": "long-enough-pw",
                                  "role": "service_desk", "grants": [{"site_id": w.lakeside}],
                                  "active": False})),
    "password hash of a new account": ("body.password_hash", lambda w: (
        "POST", "/api/v1/staff", {"username": "new-desk", "password": "long-enough-pw",
                                  "role": "service_desk", "grants": [{"site_id": w.lakeside}],
                                  "password_hash": "$argon2id$x"})),
    "account of a grant": ("body.grants.0.account_id", lambda w: (
        "POST", "/api/v1/staff", {"username": "new-desk", "password": "long-enough-pw",
                                  "role": "service_desk",
                                  "grants": [{"site_id": w.lakeside,
                                              "account_id": w.accounts["admin"]}]})),
    "account of a token": ("body.account_id", lambda w: (
        "POST", "/api/v1/auth/refresh", {"refresh_token": w.refresh_tokens["bob"],
                                         "account_id": w.accounts["admin"]})),
    "status of a fee item": ("body.status", lambda w: (
        "PATCH", f"/api/v1/fee-items/{w.fee_lakeside}", {"name": "物业费", "status": "paid"})),
    "amount on a price": ("body.amount", lambda w: (
        "POST", f"/api/v1/fee-items/{w.fee_lakeside}/prices", {
            "effective_from": "2099-01-01", "unit_price": "2.80", "amount": "0.01"})),
    "paid at on a write-off": ("body.paid_at", lambda w: (
        "POST", f"/api/v1/bills/{w.bill_a}/write-off", {
            "reason": "hardship 2026", "amount": "1.00", "paid_at": "2026-01-01T00:00:00Z"})),
    "status of a billing run": ("body.status", lambda w: (
        "POST", "/api/v1/billing/preview", {"site_id": w.lakeside, "period": "2026-11",
                                            "fee_item_ids": [w.fee_lakeside],
                                            "status": "committed"})),
    "status of an asset": ("body.status", lambda w: (
        "PATCH", f"/api/v1/assets/{w.asset_b1}", {"supplier": "Acme", "status": "operational"})),
    "status of a new asset": ("body.status", lambda w: (
        "POST", "/api/v1/assets", {"site_id": w.lakeside, "code": "pump-2", "name": "Pump",
                                   "category": "pump", "status": "down"})),
    "order of a plan": ("body.order_id", lambda w: (
        "PATCH", f"/api/v1/maintenance/plans/{w.plan_b1}", {"lead_hours": 24,
                                                            "order_id": 1})),
    "usage base of a plan": ("body.usage_base", lambda w: (
        "PATCH", f"/api/v1/maintenance/plans/{w.plan_b1}", {"lead_hours": 24,
                                                            "usage_base": {"trips": 0}})),
    "amount on a reveal": ("body.amount", lambda w: (
        "POST", f"/api/v1/residents/{w.alice}/reveal", {"reason": "court order 17",
                                                        "amount": "0.01"})),
    "id of a new tariff": ("body.id", lambda w: (
        "POST", "/api/v1/parking/tariffs", {
            "site_id": w.lakeside, "code": "night", "name": "夜间 night",
            "effective_from": "2026-01-01T00:00:00+08:00", "rules": {"unit_price": "1.00"},
            "id": w.tariff_river})),
    "an unknown rule of a tariff": ("body.rules.discount", lambda w: (
        "POST", "/api/v1/parking/tariffs", {
            "site_id": w.lakeside, "code": "night", "name": "夜间 night",
            "effective_from": "2026-01-01T00:00:00+08:00",
            "rules": {"unit_price": "1.00", "discount": "100"}})),
    "secret of a new card": ("body.secret", lambda w: (
        "POST", "/api/v1/access/credentials", {"resident_id": w.alice, "card": "CAFE0001",
                                               "secret": "00" * 32})),
    "revocation of a new card": ("body.revoked_at", lambda w: (
        "POST", "/api/v1/access/credentials", {"resident_id": w.alice, "card": "CAFE0002",
                                               "revoked_at": "2099-01-01T00:00:00Z"})),
    "status of an approved visitor pass": ("body.status", lambda w: (
        "POST", f"/api/v1/access/visitor-passes/{w.visitor_pass_a}/approve",
        {"note": "ok", "status": "cancelled"})),
    "entries of a checked visitor code": ("body.entries_used", lambda w: (
        "POST", "/api/v1/access/verify", {"code": "QR:V-1-AAAAAAAAAAAAAAAA",
                                          "entries_used": 0})),
    "number of a tariff version": ("body.number", lambda w: (
        "POST", f"/api/v1/parking/tariffs/{w.tariff_lakeside}/versions", {
            "effective_from": "2099-01-01T00:00:00+08:00", "rules": {"unit_price": "3.00"},
            "number": 1})),
    "total of a quote": ("body.total", lambda w: (
        "POST", f"/api/v1/parking/tariffs/{w.tariff_lakeside}/quote", {
            "entry": "2026-11-27T09:00:00+08:00", "exit": "2026-11-27T11:40:00+08:00",
            "total": "0.00"})),
    "id of a new lot": ("body.id", lambda w: (
        "POST", "/api/v1/parking/lots", {"site_id": w.lakeside, "code": "b2",
                                         "name": "B2", "id": w.lot_river})),
    "site of a lane": ("body.site_id", lambda w: (
        "PATCH", f"/api/v1/parking/lanes/{w.lane_lakeside}", {"code": "north-gate-in",
                                                             "site_id": w.riverside})),
    "site of a vehicle": ("body.site_id", lambda w: (
        "PATCH", f"/api/v1/parking/vehicles/{w.vehicle_a}", {"note": "red",
                                                            "site_id": w.riverside})),
    "status of a new vehicle": ("body.status", lambda w: (
        "POST", "/api/v1/parking/vehicles", {"unit_id": w.unit_b, "plate": "沪F12345",
                                             "status": "approved"})),
    "plate of a pass": ("body.plate", lambda w: (
        "PATCH", f"/api/v1/parking/passes/{w.monthly_pass_a}", {"grace_days": 4,
                                                               "plate": "沪B22222"})),
    "amount of a new pass": ("body.amount", lambda w: (
        "POST", "/api/v1/parking/passes", {"site_id": w.lakeside, "plate": "沪F54321",
                                           "valid_from": "2026-12-01",
                                           "valid_to": "2026-12-31", "amount": "0.00"})),
    "list of an entry": ("body.list", lambda w: (
        "PATCH", f"/api/v1/parking/lists/{w.list_entry_lakeside}", {"reason": "fees",
                                                                   "list": "white"})),
    "status of a new work order": ("body.status", lambda w: (
        "POST", "/api/v1/work-orders", {"site_id": w.lakeside, "title": "Lamp out",
                                        "category": "lighting", "status": "closed"})),
    "assignee of a new work order": ("body.assignee_id", lambda w: (
        "POST", "/api/v1/work-orders", {"site_id": w.lakeside, "title": "Lamp out",
                                        "category": "lighting",
                                        "assignee_id": w.accounts["tech"]})),
    "amount of a material line": ("body.amount", lambda w: (
        "POST", f"/api/v1/work-orders/{w.order_alice}/materials", {
            "name": "washer", "quantity": "1", "unit_price": "2.50", "amount": "0.01"})),
    "status of a new announcement": ("body.status", lambda w: (
        "POST", "/api/v1/announcements", {"site_id": w.lakeside, "title": "Water off",
                                          "status": "published"})),
    "key of an announcement": ("body.key", lambda w: (
        "PATCH", f"/api/v1/announcements/{w.ann_b1}", {"pinned": True,
                                                      "key": "downtime:device:1"})),
    "site of an announcement": ("body.site_id", lambda w: (
        "PATCH", f"/api/v1/announcements/{w.ann_b1}", {"pinned": True,
                                                      "site_id": w.riverside})),
    "status on a complaint reply": ("body.status", lambda w: (
        "POST", f"/api/v1/complaints/{w.complaint_a}/reply", {"body": "Fixed.",
                                                              "status": "closed"})),
    "escalated_at on a status change": ("body.escalated_at", lambda w: (
        "POST", f"/api/v1/complaints/{w.complaint_a}/status", {
            "status": "in_progress", "escalated_at": "2024-01-01T00:00:00Z"})),
    "account of notification preferences": ("body.account_id", lambda w: (
        "PUT", "/api/v1/me/notification-preferences", {"channels": {},
                                                      "account_id": w.accounts["bob"]})),
    "status on a move-in": ("body.status", lambda w: (
        "POST", f"/api/v1/units/{w.unit_a}/move-in", {
            "resident_id": w.bob, "relation": "family", "moved_in": "2026-01-01",
            "status": "occupied"})),
    "household of a lease": ("body.household_id", lambda w: (
        "POST", f"/api/v1/units/{w.unit_c}/leases", {
            "tenant_ids": [w.bob], "starts_on": "2027-01-01", "ends_on": "2028-01-01",
            "document_ref": "ZL-2027-001", "household_id": w.unit_b})),
    "unit of an ownership change": ("body.unit_id", lambda w: (
        "POST", f"/api/v1/units/{w.unit_a}/ownership", {
            "on": "2025-03-01", "reason": "sale", "document_ref": "HT-2025-0301",
            "owners": [{"resident_id": w.alice, "share": "100"}], "unit_id": w.unit_b})),
    "end of a new ownership": ("body.ended_on", lambda w: (
        "POST", f"/api/v1/units/{w.unit_a}/ownership", {
            "on": "2025-04-01", "reason": "gift", "document_ref": "ZY-2025-0401",
            "owners": [{"resident_id": w.alice_child, "share": "100"}],
            "ended_on": "2025-05-01"})),
    "state of a closed session": ("body.state", lambda w: (
        "POST", f"/api/v1/parking/sessions/{w.session_a}/close", {
            "reason": "left unseen", "state": "inside"})),
    "channel of cash": ("body.paid_by", lambda w: (
        "POST", f"/api/v1/parking/sessions/{w.session_b}/cash", {
            "amount": "7.00", "paid_by": "online"})),
    "status on a move-out": ("body.status", lambda w: (
        "POST", f"/api/v1/units/{w.unit_b}/move-out", {
            "resident_ids": [w.bob], "moved_out": "2029-06-01", "status": "vacant"})),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_an_undeclared_field_is_refused_by_name_and_changes_nothing(api: Api,
                                                                          case: str) -> None:
    field, build = CASES[case]
    method, url, body = build(api.world)
    before = await snapshot(api)
    response = await api.client.request(method, url, json=body,
                                        headers=api.world.auth("admin"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert field in {d["field"] for d in error["details"]}
    assert await snapshot(api) == before


async def test_the_same_bodies_without_the_extra_field_are_accepted(api: Api) -> None:
    """The cases above fail on their one extra field, not on something else in them."""
    w = api.world
    failures = []
    for case, (field, build) in CASES.items():
        method, url, body = build(w)
        name = field.rsplit(".", 1)[-1]
        response = await api.client.request(method, url, json=_without(body, name),
                                            headers=w.auth("admin"))
        if response.status_code == 422:
            failures.append(f"{case}: {response.text}")
    assert not failures, "\n".join(failures)


def _without(body: Any, name: str) -> Any:
    if isinstance(body, dict):
        return {k: _without(v, name) for k, v in body.items() if k != name}
    if isinstance(body, list):
        return [_without(item, name) for item in body]
    return body


@pytest.mark.parametrize(("field", "value"), [("status", None), ("number", None),
                                              ("floor", None), ("gross_area", None)])
async def test_null_for_a_required_unit_field_is_refused(api: Api, field: str,
                                                         value: None) -> None:
    before = await snapshot(api)
    response = await api.client.patch(f"/api/v1/units/{api.world.unit_a}", json={field: value},
                                      headers=api.world.auth("admin"))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == f"body.{field}"
    assert await snapshot(api) == before


async def test_a_resident_cannot_raise_their_own_role(api: Api) -> None:
    w = api.world
    before = await snapshot(api, skip=frozenset({"audit_log"}))
    attempts = [
        await api.client.patch(f"/api/v1/staff/{w.accounts['alice']}", headers=w.auth("alice"),
                               json={"role": "admin"}),
        await api.client.patch(f"/api/v1/residents/{w.alice}", headers=w.auth("alice"),
                               json={"role": "admin"}),
    ]
    assert [r.status_code for r in attempts] == [403, 403]
    me = (await api.client.get("/api/v1/auth/me", headers=w.auth("alice"))).json()
    assert me["role"] == "resident"
    assert await snapshot(api, skip=frozenset({"audit_log"})) == before
