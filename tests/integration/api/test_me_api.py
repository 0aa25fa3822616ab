"""The resident app's household part: my units and my household, nothing of another's."""

from __future__ import annotations

from tests.integration.api.conftest import Api
from tests.integration.api.test_bola import B_AND_RIVERSIDE_TEXT


async def test_alice_sees_her_unit_with_her_relation_building_and_areas(api: Api) -> None:
    w = api.world
    response = await api.client.get("/api/v1/me/units", headers=w.auth("alice"))
    assert response.status_code == 200
    units = response.json()
    assert [(u["id"], u["number"], u["relation"], u["building_name"], u["gross_area"],
             u["inner_area"], u["status"], u["ownership_share"]) for u in units] == [
        (w.unit_a, "1-0301", "owner", "Building 1", "89.75", "72.10", "occupied", None)]
    assert not [s for s in B_AND_RIVERSIDE_TEXT if s in response.text]


async def test_bob_sees_his_rented_unit_only(api: Api) -> None:
    w = api.world
    units = (await api.client.get("/api/v1/me/units", headers=w.auth("bob"))).json()
    assert [(u["id"], u["relation"]) for u in units] == [(w.unit_b, "tenant")]


async def test_an_owners_share_shows_once_ownership_is_recorded(api: Api) -> None:
    w = api.world
    recorded = await api.client.post(
        f"/api/v1/units/{w.unit_a}/ownership", headers=w.auth("desk"),
        json={"on": "2020-05-01", "reason": "sale", "document_ref": "HT-2020-0501",
              "owners": [{"resident_id": w.alice, "share": "50"},
                         {"resident_id": w.bob, "share": "50"}]})
    assert recorded.status_code == 201
    units = (await api.client.get("/api/v1/me/units", headers=w.auth("alice"))).json()
    assert [u["ownership_share"] for u in units] == ["50.00"]
    # Co-owning alice's unit gives bob no view of it: /me is where one lives.
    assert [u["id"] for u in (await api.client.get("/api/v1/me/units",
                                                   headers=w.auth("bob"))).json()] == [w.unit_b]


async def test_alice_sees_her_household_with_masked_phones_and_nothing_else(api: Api) -> None:
    w = api.world
    response = await api.client.get("/api/v1/me/household", headers=w.auth("alice"))
    assert response.status_code == 200
    members = response.json()
    assert [(m["resident_id"], m["name"], m["relation"], m["phone"], m["me"])
            for m in members] == [
        (w.alice, "张伟", "owner", "13812345678", True),
        (w.alice_child, "张小明", "family", "139****5678", False)]
    assert not [s for s in B_AND_RIVERSIDE_TEXT if s in response.text]


async def test_a_member_who_moved_out_leaves_the_household(api: Api) -> None:
    w = api.world
    out = await api.client.post(f"/api/v1/units/{w.unit_a}/move-out", headers=w.auth("desk"),
                                json={"resident_ids": [w.alice_child],
                                      "moved_out": "2026-01-31"})
    assert out.status_code == 204
    members = (await api.client.get("/api/v1/me/household", headers=w.auth("alice"))).json()
    assert [m["resident_id"] for m in members] == [w.alice]


async def test_the_summary_counts_what_waits_for_alice(api: Api) -> None:
    w = api.world
    response = await api.client.get("/api/v1/me", headers=w.auth("alice"))
    assert response.status_code == 200
    summary = response.json()
    bills = (await api.client.get("/api/v1/me/bills", params={"limit": 200},
                                  headers=w.auth("alice"))).json()["items"]
    unread = (await api.client.get("/api/v1/me/notifications", params={"limit": 200},
                                   headers=w.auth("alice"))).json()
    assert summary["resident_id"] == w.alice
    assert (summary["units"], summary["household_members"]) == (1, 2)
    assert (summary["unpaid_bills"], summary["unread_notifications"]) == (1, 1)  # as seeded
    assert summary["unpaid_bills"] == len([b for b in bills if b["status"] != "paid"])
    assert summary["unread_notifications"] == len(
        [n for n in unread["items"] if n.get("read_at") is None])


async def test_staff_have_no_household_here(api: Api) -> None:
    w = api.world
    for path in ("/api/v1/me", "/api/v1/me/units", "/api/v1/me/household"):
        response = await api.client.get(path, headers=w.auth("manager"))
        assert response.status_code == 403, path
