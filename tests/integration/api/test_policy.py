"""S2, BFLA: the policy table covers every route, and every role gets exactly what it grants."""

from __future__ import annotations

import httpx
import pytest

from hub.api.policy import POLICY, PUBLIC
from hub.domain.accounts import Role
from tests.integration.api.conftest import Api
from tests.integration.api.probing import (
    LOGOUT,
    ROLE_USERS,
    Route,
    app_routes,
    audit_rows,
    bodies,
    call,
    fill,
    own_ids,
)

POLICY_DENIAL = "your role may not do this"


def _ordered(routes: list[Route]) -> list[Route]:
    """Signing out ends the caller's session, so it goes last."""
    return [r for r in routes if r != LOGOUT] + [r for r in routes if r == LOGOUT]


def _is_policy_denial(response: httpx.Response) -> bool:
    return response.status_code == 403 and response.json()["error"]["message"] == POLICY_DENIAL


async def test_every_route_is_in_the_policy_table(api: Api) -> None:
    routes = app_routes(api.app)
    missing = [route for route in routes if route not in POLICY]
    assert len(routes) >= 30, f"only {len(routes)} routes found: is the walk broken?"
    assert not missing, f"{len(missing)} of {len(routes)} routes are not in POLICY: {missing}"


async def test_every_policy_entry_names_a_route(api: Api) -> None:
    routes = set(app_routes(api.app))
    stale = [entry for entry in POLICY if entry not in routes]
    assert not stale, f"POLICY entries with no route: {stale}"


def test_every_role_has_an_account_in_the_matrix() -> None:
    assert set(ROLE_USERS) == set(Role)


@pytest.mark.parametrize("role", list(ROLE_USERS), ids=[r.value for r in ROLE_USERS])
async def test_each_role_gets_exactly_the_routes_the_policy_grants(api: Api, role: Role) -> None:
    w = api.world
    username = ROLE_USERS[role]
    ids = own_ids(w)
    body_for = bodies(w, ids, username)
    routes = _ordered(app_routes(api.app))
    denials_before = len(await audit_rows(api, "permission_denied"))
    mismatches: list[str] = []
    forbidden = 0
    for route in routes:
        rule = POLICY.get(route)
        allowed = rule == PUBLIC or (rule is not None and role in rule)
        response = await call(api.client, route, fill(route[1], ids), w.auth(username),
                              body_for.get(route))
        if not allowed:
            forbidden += 1
            if not _is_policy_denial(response):
                mismatches.append(f"{route} answered {response.status_code}, policy says 403")
        elif response.status_code in (401, 403) or response.status_code >= 500:
            mismatches.append(f"{route} answered {response.status_code}: {response.text[:120]}")
    denials = len(await audit_rows(api, "permission_denied")) - denials_before
    assert not mismatches, (f"{role.value}: {len(mismatches)} of {len(routes)} cells disagree "
                            "with POLICY:\n" + "\n".join(mismatches))
    assert denials == forbidden, f"{forbidden} policy refusals wrote {denials} audit rows"


async def test_without_a_token_only_public_routes_answer(api: Api) -> None:
    w = api.world
    routes = app_routes(api.app)
    body_for = bodies(w, own_ids(w), "admin")
    mismatches: list[str] = []
    for route in routes:
        response = await call(api.client, route, fill(route[1], own_ids(w)), {},
                              body_for.get(route))
        if POLICY.get(route) == PUBLIC:
            if response.status_code in (401, 403) or response.status_code >= 500:
                mismatches.append(f"public {route} answered {response.status_code}")
        elif response.status_code != 401 or "www-authenticate" not in response.headers:
            mismatches.append(f"{route} answered {response.status_code} without a token")
    assert not mismatches, (f"{len(mismatches)} of {len(routes)} anonymous cells disagree:\n"
                            + "\n".join(mismatches))


async def test_a_route_missing_from_the_table_is_refused_to_everyone(api: Api) -> None:
    async def unlisted() -> dict[str, str]:
        return {"secret": "should never be served"}

    api.app.add_api_route("/api/v1/unlisted", unlisted, methods=["GET"])
    for username in ("admin", "manager", "alice"):
        response = await api.client.get("/api/v1/unlisted", headers=api.world.auth(username))
        assert _is_policy_denial(response), (username, response.status_code)
        assert "should never" not in response.text


async def test_a_manager_cannot_create_or_make_an_administrator(api: Api) -> None:
    w = api.world
    created = await api.client.post("/api/v1/staff", headers=w.auth("manager"), json={
        "username": "shadow-admin", "password": "long-enough-pw", "role": "admin"})
    promoted = await api.client.patch(f"/api/v1/staff/{w.accounts['finance']}",
                                      headers=w.auth("manager"), json={"role": "admin"})
    itself = await api.client.patch(f"/api/v1/staff/{w.accounts['manager']}",
                                     headers=w.auth("manager"), json={"role": "admin"})
    assert (created.status_code, promoted.status_code, itself.status_code) == (403, 403, 403)
    roles = {a["username"]: a["role"] for a in (await api.client.get(
        "/api/v1/staff", params={"limit": 200}, headers=w.auth("admin"))).json()["items"]}
    assert "shadow-admin" not in roles
    assert (roles["finance"], roles["manager"]) == ("finance", "manager")


async def test_a_manager_cannot_grant_a_site_they_do_not_manage(api: Api) -> None:
    w = api.world
    response = await api.client.patch(
        f"/api/v1/staff/{w.accounts['finance']}", headers=w.auth("manager"),
        json={"grants": [{"site_id": w.lakeside}, {"site_id": w.riverside}]})
    assert response.status_code == 404
    account = (await api.client.get(f"/api/v1/staff/{w.accounts['finance']}",
                                    headers=w.auth("admin"))).json()
    assert account["grants"] == [{"site_id": w.lakeside, "building_id": None}]


async def test_a_building_scoped_account_cannot_make_site_wide_changes(api: Api) -> None:
    """b2-tech holds maintenance in one building; site-wide writes need the whole site."""
    w = api.world
    promoted = await api.client.patch(f"/api/v1/staff/{w.accounts['b2-tech']}",
                                      headers=w.auth("admin"), json={"role": "manager"})
    assert promoted.status_code == 204
    response = await api.client.post("/api/v1/buildings", headers=w.auth("b2-tech"), json={
        "site_id": w.lakeside, "code": "b9", "name": "Building 9", "floors": 3})
    assert response.status_code == 403
    assert not _is_policy_denial(response)  # the role may; the building-only grant may not
    buildings = (await api.client.get("/api/v1/buildings", headers=w.auth("admin"))).json()
    assert "b9" not in {b["code"] for b in buildings["items"]}
