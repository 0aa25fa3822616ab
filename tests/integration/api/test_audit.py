"""AU1: each high-risk action writes exactly one audit row, with ids and outcomes, never PII."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.probing import app_routes, audit_rows
from tests.integration.api.world import ALICE_ID, BOB_ID, PASSWORD, World, login

Action = Callable[[Api], Awaitable[httpx.Response]]
NEW_PASSWORD = "a-brand-new-passphrase"

PERSONAL = (ALICE_ID, BOB_ID, ALICE_ID[:17], BOB_ID[:17], "13812345678", "13700001111",
            "13912345678", "张伟", "李娜", "张小明", PASSWORD, NEW_PASSWORD)


def _staff(api: Api, username: str) -> str:
    return f"/api/v1/staff/{api.world.accounts[username]}"


# name: (what the admin or someone does, expected status, the one action it must record)
HIGH_RISK: dict[str, tuple[Action, int, str, Callable[[World], str]]] = {
    "sign in": (lambda api: login(api.client, "finance"), 200, "login",
                lambda w: f"account:{w.accounts['finance']}"),
    "wrong password": (lambda api: login(api.client, "finance", "not-it"), 401, "login_failed",
                       lambda w: "username:finance"),
    "unknown username": (lambda api: login(api.client, ALICE_ID, PASSWORD), 401,
                         "login_failed", lambda w: "username:(unknown)"),
    "sign out": (lambda api: api.client.post("/api/v1/auth/logout",
                                             headers=api.world.auth("desk")), 204, "logout",
                 lambda w: f"account:{w.accounts['desk']}"),
    "refused by policy": (lambda api: api.client.get("/api/v1/audit",
                                                     headers=api.world.auth("manager")), 403,
                          "permission_denied", lambda w: "route:GET /api/v1/audit"),
    "role changed": (lambda api: api.client.patch(_staff(api, "finance"),
                                                  headers=api.world.auth("admin"),
                                                  json={"role": "service_desk"}), 204,
                     "role_changed", lambda w: f"account:{w.accounts['finance']}"),
    "grants changed": (lambda api: api.client.patch(
        _staff(api, "b2-tech"), headers=api.world.auth("admin"),
        json={"grants": [{"site_id": api.world.lakeside}]}), 204, "role_changed",
        lambda w: f"account:{w.accounts['b2-tech']}"),
    "role and grants changed at once": (lambda api: api.client.patch(
        _staff(api, "b2-tech"), headers=api.world.auth("admin"),
        json={"role": "security", "grants": [{"site_id": api.world.lakeside}]}), 204,
        "role_changed", lambda w: f"account:{w.accounts['b2-tech']}"),
    "account created": (lambda api: api.client.post("/api/v1/staff", headers=api.world.auth(
        "manager"), json={"username": "night-guard", "password": NEW_PASSWORD,
                          "role": "security", "grants": [{"site_id": api.world.lakeside}]}),
        201, "account_created", lambda w: "account:"),
    "account disabled": (lambda api: api.client.patch(_staff(api, "guard"),
                                                      headers=api.world.auth("manager"),
                                                      json={"active": False}), 204,
                         "account_disabled", lambda w: f"account:{w.accounts['guard']}"),
    "password reset": (lambda api: api.client.patch(_staff(api, "guard"),
                                                    headers=api.world.auth("manager"),
                                                    json={"password": NEW_PASSWORD}), 204,
                       "password_reset", lambda w: f"account:{w.accounts['guard']}"),
    "national ID revealed": (lambda api: api.client.post(
        f"/api/v1/residents/{api.world.bob}/reveal", headers=api.world.auth("manager"),
        json={"reason": "tenancy dispute 2024-07"}), 200, "pii_revealed",
        lambda w: f"resident:{w.bob}"),
}


@pytest.mark.parametrize("name", list(HIGH_RISK))
async def test_a_high_risk_action_writes_exactly_one_audit_row(api: Api, name: str) -> None:
    act, status, action, target = HIGH_RISK[name]
    before = await audit_rows(api)
    response = await act(api)
    assert response.status_code == status, response.text
    new = (await audit_rows(api))[len(before):]
    assert [r["action"] for r in new] == [action]
    assert new[0]["target"].startswith(target(api.world))
    leaked = [p for p in PERSONAL if p in json.dumps(new, default=str, ensure_ascii=False)]
    assert not leaked, f"audit row holds personal data: {leaked}"


@pytest.mark.parametrize(("username", "body", "status"), [
    ("admin", {"role": "finance"}, 204),  # already finance: nothing changes
    ("manager", {"role": "admin"}, 403),
    ("admin", {"role": "resident"}, 422),
    ("admin", {"role": "manager", "grants": [{"site_id": 2_000_000_000}]}, 404),
    ("admin", {"display_name": "Finance Office"}, 204),
])
async def test_a_refused_or_empty_role_change_writes_no_role_row(api: Api, username: str,
                                                                 body: dict[str, Any],
                                                                 status: int) -> None:
    w = api.world
    response = await api.client.patch(_staff(api, "finance"), headers=w.auth(username),
                                      json=body)
    assert response.status_code == status, response.text
    assert await audit_rows(api, "role_changed") == []
    account = (await api.client.get(_staff(api, "finance"), headers=w.auth("admin"))).json()
    assert account["role"] == "finance"


async def test_granting_what_an_account_already_holds_writes_no_row(api: Api) -> None:
    w = api.world
    response = await api.client.patch(_staff(api, "finance"), headers=w.auth("admin"),
                                      json={"grants": [{"site_id": w.lakeside}]})
    assert response.status_code == 204
    assert await audit_rows(api, "role_changed") == []


async def test_a_role_change_undone_by_a_later_refusal_leaves_no_row(api: Api) -> None:
    w = api.world
    response = await api.client.patch(_staff(api, "admin"), headers=w.auth("admin"),
                                      json={"role": "manager", "active": False})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "active"
    assert await audit_rows(api, "role_changed") == []
    me = await api.client.get("/api/v1/auth/me", headers=w.auth("admin"))
    assert me.json()["role"] == "admin"


async def test_a_role_change_records_from_and_to(api: Api) -> None:
    w = api.world
    await api.client.patch(_staff(api, "finance"), headers=w.auth("admin"),
                           json={"role": "service_desk"})
    [row] = await audit_rows(api, "role_changed")
    assert row["detail"]["from"] == "finance"
    assert row["detail"]["to"] == "service_desk"
    assert (row["actor_id"], row["actor_role"]) == (w.accounts["admin"], "admin")


async def test_every_policy_refusal_is_one_row_naming_the_route_not_the_record(api: Api) -> None:
    w = api.world
    urls = [f"/api/v1/residents/{w.bob}/reveal", f"/api/v1/residents/{w.alice}/reveal",
            f"/api/v1/units/{w.unit_b}"]
    for url in urls[:2]:
        await api.client.post(url, headers=w.auth("guard"), json={"reason": "curious guard"})
    await api.client.delete(urls[2], headers=w.auth("guard"))
    rows = await audit_rows(api, "permission_denied")
    assert [r["target"] for r in rows] == [
        "route:POST /api/v1/residents/{resident_id}/reveal",
        "route:POST /api/v1/residents/{resident_id}/reveal",
        "route:DELETE /api/v1/units/{unit_id}"]
    assert {r["actor_id"] for r in rows} == {w.accounts["guard"]}


async def test_all_high_risk_actions_together_leave_no_personal_data_in_the_log(
        api: Api) -> None:
    expected: list[str] = []
    for act, _, action, _ in HIGH_RISK.values():
        await act(api)
        expected.append(action)
    await api.client.patch(f"/api/v1/staff/{api.world.accounts['bob']}",
                           headers=api.world.auth("admin"), json={"password": NEW_PASSWORD})
    expected.append("password_reset")
    rows = await audit_rows(api)
    text = json.dumps(rows, default=str, ensure_ascii=False)
    assert sorted(r["action"] for r in rows[-len(expected):]) == sorted(expected)
    assert not [p for p in PERSONAL if p in text]


async def test_the_audit_log_is_read_only_through_the_api(api: Api) -> None:
    writes = [(m, p) for m, p in app_routes(api.app) if "audit" in p and m != "GET"]
    assert writes == []
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await api.client.request(method, "/api/v1/audit",
                                            headers=api.world.auth("admin"))
        assert response.status_code == 405


async def test_the_admin_reads_the_log_filtered_by_action_and_actor(api: Api) -> None:
    w = api.world
    await api.client.patch(_staff(api, "finance"), headers=w.auth("admin"),
                           json={"role": "service_desk"})
    await api.client.get("/api/v1/audit", headers=w.auth("guard"))
    changed = await api.client.get("/api/v1/audit", params={"action": "role_changed"},
                                   headers=w.auth("admin"))
    by_guard = await api.client.get("/api/v1/audit", params={"actor_id": w.accounts["guard"]},
                                    headers=w.auth("admin"))
    assert [r["action"] for r in changed.json()["items"]] == ["role_changed"]
    assert [r["action"] for r in by_guard.json()["items"]] == ["permission_denied", "login"]
    system = await api.client.get("/api/v1/audit", params={"actor_id": 0},
                                  headers=w.auth("admin"))
    assert system.json()["total"] >= 1  # the world's accounts were created by the system
