"""The API of doors and visitors: residents issue, see and cancel their household's passes
and fetch their rotating code; staff approve, check codes, issue cards and read the access
log; visitors' phones are masked for those who do not call visitors; bad input names its
field; nobody reaches another household's or another site's records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from hub.bootstrap import Hub
from hub.domain.access.model import AccessLogEntry, Presented
from hub.store.tables import audit_log
from tests.integration.access.community import Community
from tests.integration.access.conftest import NOW

VISITOR_PHONE = "13900001111"


def _pass_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"visitor_name": "王芳", "visitor_phone": VISITOR_PHONE,
                            "valid_from": NOW.isoformat(),
                            "valid_until": (NOW + timedelta(hours=8)).isoformat(),
                            "entries": 2, "plate": "沪a·12345", "free_minutes": 120}
    body.update(changes)
    return body


async def _issue(client: httpx.AsyncClient, w: Community, username: str = "alice",
                 **changes: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/me/visitor-passes", headers=w.auth(username),
                                 json=_pass_body(**changes))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_resident_issues_sees_and_cancels_a_pass_of_their_household(
        client: httpx.AsyncClient, lakeside: Community) -> None:
    w = lakeside
    issued = await _issue(client, w)
    assert issued["status"] == "active" and issued["code"].startswith(f"QR:V-{issued['id']}-")
    mine = (await client.get("/api/v1/me/visitor-passes", headers=w.auth("alice"))).json()
    assert [(p["id"], p["visitor_phone"], p["plate"], p["code"], p["unit_id"])
            for p in mine["items"]] == [
        (issued["id"], VISITOR_PHONE, "沪A12345", issued["code"], w.unit_a)]
    bobs = (await client.get("/api/v1/me/visitor-passes", headers=w.auth("bob"))).json()
    assert bobs["items"] == [] and VISITOR_PHONE not in str(bobs)
    by_bob = await client.delete(f"/api/v1/me/visitor-passes/{issued['id']}",
                                 headers=w.auth("bob"))
    assert by_bob.status_code == 404
    assert (await client.delete(f"/api/v1/me/visitor-passes/{issued['id']}",
                                headers=w.auth("alice"))).status_code == 204
    again = await client.delete(f"/api/v1/me/visitor-passes/{issued['id']}",
                                headers=w.auth("alice"))
    assert again.status_code == 409
    after = (await client.get("/api/v1/me/visitor-passes", headers=w.auth("alice"))).json()
    assert after["items"][0]["status"] == "cancelled" and after["items"][0]["code"] is None


async def test_visitor_phones_are_masked_for_the_desk_and_hidden_from_another_site(
        client: httpx.AsyncClient, lakeside: Community) -> None:
    w = lakeside
    await _issue(client, w)
    seen = {}
    for username in ("guard", "manager", "desk", "river-manager"):
        response = await client.get("/api/v1/access/visitor-passes", headers=w.auth(username))
        assert response.status_code == 200, (username, response.text)
        seen[username] = [p["visitor_phone"] for p in response.json()["items"]]
    assert seen == {"guard": [VISITOR_PHONE], "manager": [VISITOR_PHONE],
                    "desk": ["139****1111"], "river-manager": []}
    for username in ("alice", "bob"):
        response = await client.get("/api/v1/access/visitor-passes", headers=w.auth(username))
        assert response.status_code == 403


async def test_a_pass_that_needs_approval_waits_for_staff(client: httpx.AsyncClient,
                                                          lakeside: Community) -> None:
    w = lakeside
    issued = await _issue(client, w, needs_approval=True)
    assert issued["status"] == "pending"
    url = f"/api/v1/access/visitor-passes/{issued['id']}"
    pending = (await client.get("/api/v1/access/visitor-passes", params={"status": "pending"},
                                headers=w.auth("guard"))).json()
    assert [p["id"] for p in pending["items"]] == [issued["id"]]
    assert (await client.post(f"{url}/approve", json={}, headers=w.auth("alice"))
            ).status_code == 403
    assert (await client.post(f"{url}/approve", json={},
                              headers=w.auth("river-manager"))).status_code == 404
    assert (await client.post(f"{url}/approve", json={"note": "expected"},
                              headers=w.auth("guard"))).status_code == 204
    assert (await client.post(f"{url}/reject", json={},
                              headers=w.auth("guard"))).status_code == 409
    mine = (await client.get("/api/v1/me/visitor-passes", headers=w.auth("alice"))).json()
    assert (mine["items"][0]["status"], mine["items"][0]["decision_note"]) == (
        "active", "expected")


async def test_a_guard_checks_a_visitors_code_and_the_check_is_audited(
        client: httpx.AsyncClient, lakeside: Community, hub: Hub) -> None:
    w = lakeside
    issued = await _issue(client, w)
    checked = await client.post("/api/v1/access/verify", headers=w.auth("guard"),
                                json={"code": issued["code"]})
    assert checked.status_code == 200
    body = checked.json()
    assert body["valid"] is True
    assert (body["visitor_pass"]["visitor_name"], body["visitor_pass"]["visitor_phone"]) == (
        "王芳", VISITOR_PHONE)
    assert "2 of 2 entries left" in body["reasons"]
    elsewhere = await client.post("/api/v1/access/verify", headers=w.auth("river-manager"),
                                  json={"code": issued["code"]})
    forged = await client.post("/api/v1/access/verify", headers=w.auth("guard"),
                               json={"code": issued["code"][:-3] + "AAA"})
    for response in (elsewhere, forged):
        assert response.json() == {"valid": False, "reasons": ["not a visitor code known here"],
                                   "visitor_pass": None}
    async with hub.engine.connect() as connection:
        rows = (await connection.execute(select(audit_log).where(
            audit_log.c.action == "access_verified").order_by(audit_log.c.id))).all()
    assert [(r.target, r.detail) for r in rows] == [
        (f"visitor_pass:{issued['id']}", {"valid": "yes"}),
        ("visitor_pass:?", {"valid": "no"}), ("visitor_pass:?", {"valid": "no"})]
    assert VISITOR_PHONE not in str([r.detail for r in rows])


async def test_bad_passes_are_refused_naming_the_field(client: httpx.AsyncClient,
                                                       lakeside: Community) -> None:
    w = lakeside
    cases = {
        "valid_until": _pass_body(valid_until=(NOW - timedelta(hours=1)).isoformat()),
        "plate": _pass_body(plate="ABC"),
        "visitor_phone": _pass_body(visitor_phone="call me"),
        "free_minutes": _pass_body(plate=None),
        "entries": _pass_body(entries=0),
        "unit_id": _pass_body(unit_id=w.unit_b),
        "status": {**_pass_body(), "status": "active"},
    }
    for name, body in cases.items():
        response = await client.post("/api/v1/me/visitor-passes", headers=w.auth("alice"),
                                     json=body)
        assert response.status_code in (404, 409, 422), (name, response.text)
        if response.status_code == 422:
            error = response.json()["error"]
            fields = [error.get("field")] + [d["field"] for d in error.get("details", [])]
            assert any(name in str(f) for f in fields), (name, error)
    # Naming someone else's unit looks like naming none.
    foreign = await client.post("/api/v1/me/visitor-passes", headers=w.auth("alice"),
                                json=_pass_body(unit_id=w.unit_b))
    assert foreign.status_code == 404


async def test_the_app_code_is_for_residents_and_changes_with_the_step(
        client: httpx.AsyncClient, lakeside: Community, hub: Hub) -> None:
    w = lakeside
    first = (await client.get("/api/v1/me/credentials/qr", headers=w.auth("alice"))).json()
    same = (await client.get("/api/v1/me/credentials/qr", headers=w.auth("alice"))).json()
    hub.clock.now += timedelta(seconds=60)  # type: ignore[attr-defined]
    later = (await client.get("/api/v1/me/credentials/qr", headers=w.auth("alice"))).json()
    bobs = (await client.get("/api/v1/me/credentials/qr", headers=w.auth("bob"))).json()
    assert first == same and first["step_s"] == 60
    assert later["code"] != first["code"] and later["expires_at"] > first["expires_at"]
    assert bobs["code"].split("-")[0] != first["code"].split("-")[0]
    assert (await client.get("/api/v1/me/credentials/qr",
                             headers=w.auth("guard"))).status_code == 403


async def test_cards_are_issued_listed_without_secrets_and_revoked(
        client: httpx.AsyncClient, lakeside: Community) -> None:
    w = lakeside
    issued = await client.post("/api/v1/access/credentials", headers=w.auth("guard"),
                               json={"resident_id": w.alice, "card": "04a1b2c3"})
    assert issued.status_code == 201
    twice = await client.post("/api/v1/access/credentials", headers=w.auth("guard"),
                              json={"resident_id": w.bob, "card": "04A1B2C3"})
    assert twice.status_code == 409 and twice.json()["error"]["field"] == "card"
    foreign = await client.post("/api/v1/access/credentials", headers=w.auth("river-manager"),
                                json={"resident_id": w.alice, "card": "FFFF0000"})
    assert foreign.status_code == 404
    listed = await client.get("/api/v1/access/credentials", headers=w.auth("guard"),
                              params={"resident_id": w.alice})
    assert [c["kind"] for c in listed.json()["items"]] == ["card"]
    assert "04A1B2C3" not in listed.text.upper() and "secret" not in listed.text
    credential = issued.json()["id"]
    assert (await client.post(f"/api/v1/access/credentials/{credential}/revoke",
                              headers=w.auth("river-manager"))).status_code == 404
    assert (await client.post(f"/api/v1/access/credentials/{credential}/revoke",
                              headers=w.auth("guard"))).status_code == 204
    assert (await client.post(f"/api/v1/access/credentials/{credential}/revoke",
                              headers=w.auth("guard"))).status_code == 409


async def test_the_access_log_is_for_security_and_managers_and_each_residents_own(
        client: httpx.AsyncClient, lakeside: Community, hub: Hub) -> None:
    w = lakeside
    async with hub.uow() as uow:
        for resident in (w.alice, w.bob):
            uow.add(AccessLogEntry(site_id=w.site, device_id=w.door_b1, at=NOW,
                                   presented=Presented.CARD, allowed=True,
                                   reasons=["card valid"], resident_id=resident))
        await uow.commit()
    seen = {}
    for username in ("guard", "manager", "river-manager", "alice", "bob"):
        path = "/api/v1/me/access-log" if username in ("alice", "bob") else "/api/v1/access/log"
        response = await client.get(path, headers=w.auth(username))
        assert response.status_code == 200, (username, response.text)
        seen[username] = sorted(r["resident_id"] for r in response.json()["items"])
    assert seen == {"guard": [w.alice, w.bob], "manager": [w.alice, w.bob],
                    "river-manager": [], "alice": [w.alice], "bob": [w.bob]}
    assert (await client.get("/api/v1/access/log", headers=w.auth("desk"))).status_code == 403
    assert (await client.get("/api/v1/access/log", headers=w.auth("alice"))).status_code == 403


async def test_doors_are_registered_by_managers_and_opened_with_a_reason(
        client: httpx.AsyncClient, lakeside: Community) -> None:
    w = lakeside
    created = await client.post("/api/v1/access/doors", headers=w.auth("manager"),
                                json={"device_id": w.door_b1, "name": "1号楼 单元门",
                                      "building_id": w.b1})
    assert created.status_code == 201
    door = created.json()["id"]
    assert (await client.post("/api/v1/access/doors", headers=w.auth("river-manager"),
                              json={"device_id": w.door_b2, "name": "x"})).status_code == 404
    doors = (await client.get("/api/v1/access/doors", headers=w.auth("guard"))).json()
    assert [(d["id"], d["building_id"]) for d in doors["items"]] == [(door, w.b1)]
    no_reason = await client.post(f"/api/v1/access/doors/{door}/open",
                                  headers=w.auth("guard"), json={})
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    # This process has no broker, so no gateway: refused before anything is written.
    opened = await client.post(f"/api/v1/access/doors/{door}/open", headers=w.auth("guard"),
                               json={"reason": "courier at the door"})
    assert opened.status_code == 409 and "no device gateway" in opened.text
