"""The API answers, a staff login works, a resident sees only their own household."""

from __future__ import annotations

from tests.integration.api.conftest import Api
from tests.integration.api.world import login


async def test_health_reports_the_database(api: Api) -> None:
    response = await api.client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "ok"


async def test_staff_login_returns_a_bearer_token(api: Api) -> None:
    response = await login(api.client, "manager")
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


async def test_resident_sees_only_their_household(api: Api) -> None:
    w = api.world
    units = (await api.client.get("/api/v1/units", headers=w.auth("alice"))).json()
    assert [u["id"] for u in units["items"]] == [w.unit_a]
    people = (await api.client.get("/api/v1/residents", headers=w.auth("alice"))).json()
    assert {p["id"] for p in people["items"]} == {w.alice, w.alice_child}
