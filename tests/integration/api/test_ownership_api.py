"""Staff record ownership changes, leases and moves through the API: scoped, audited, and
refused by name when wrong, with nothing changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.probing import audit_rows, snapshot
from tests.integration.api.world import ALICE_ID, BOB_ID, World


def change(resident: int, on: str, reason: str, ref: str, share: str = "100") -> dict[str, Any]:
    return {"on": on, "reason": reason, "document_ref": ref,
            "owners": [{"resident_id": resident, "share": share}]}


async def test_the_service_desk_records_a_chain_of_three_owners(api: Api) -> None:
    w = api.world
    url = f"/api/v1/units/{w.unit_a}/ownership"
    bodies = [change(w.bob, "2016-04-01", "first_registration", "沪(2016)第001号"),
              {"on": "2020-05-01", "reason": "sale", "document_ref": "HT-2020-0501",
               "owners": [{"resident_id": w.alice, "share": "70"},
                          {"resident_id": w.alice_child, "share": "30"}]},
              change(w.alice_child, "2025-09-01", "gift", "ZY-2025-0901")]
    ids = []
    for body in bodies:
        response = await api.client.post(url, json=body, headers=w.auth("desk"))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    found = (await api.client.get(url, headers=w.auth("manager"))).json()
    assert [(h["id"], h["started_on"], h["ended_on"], h["current"]) for h in found["history"]] \
        == [(ids[2], "2025-09-01", None, True), (ids[1], "2020-05-01", "2025-09-01", False),
            (ids[0], "2016-04-01", "2020-05-01", False)]
    assert [(o["resident_id"], o["share"]) for o in found["history"][1]["owners"]] == [
        (w.alice, "70.00"), (w.alice_child, "30.00")]
    assert found["current"]["id"] == ids[2]
    assert (found["status"], found["vacant"]) == ("occupied", False)
    rows = await audit_rows(api, "ownership_changed")
    assert [(r["target"], r["actor_id"], r["detail"]["on"]) for r in rows] == [
        (f"unit:{w.unit_a}", w.accounts["desk"], on)
        for on in ("2016-04-01", "2020-05-01", "2025-09-01")]


async def test_an_overlapping_back_dated_change_is_a_409_naming_the_dates(api: Api) -> None:
    w = api.world
    url = f"/api/v1/units/{w.unit_a}/ownership"
    for body in (change(w.bob, "2016-04-01", "first_registration", "A-1"),
                 change(w.alice, "2020-05-01", "sale", "A-2")):
        assert (await api.client.post(url, json=body, headers=w.auth("desk"))).status_code \
            == 201
    before = await snapshot(api)
    response = await api.client.post(url, json=change(w.alice_child, "2019-01-01", "sale",
                                                      "A-3"), headers=w.auth("desk"))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["field"] == "on"
    assert "2019-01-01" in error["message"] and "2020-05-01" in error["message"]
    assert await snapshot(api) == before


async def test_shares_that_do_not_make_100_are_a_422_by_field(api: Api) -> None:
    w = api.world
    before = await snapshot(api)
    response = await api.client.post(
        f"/api/v1/units/{w.unit_a}/ownership", headers=w.auth("manager"),
        json={"on": "2020-01-01", "reason": "sale", "document_ref": "HT-1",
              "owners": [{"resident_id": w.alice, "share": "60"},
                         {"resident_id": w.alice_child, "share": "30"}]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "owners"
    assert "90" in response.json()["error"]["message"]
    assert await snapshot(api) == before


async def test_a_lease_makes_the_unit_rented_and_lists_its_tenants(api: Api) -> None:
    w = api.world
    response = await api.client.post(f"/api/v1/units/{w.unit_c}/leases", headers=w.auth("desk"),
                                      json={"tenant_ids": [w.bob], "starts_on": "2026-01-01",
                                            "ends_on": "2099-01-01", "monthly_rent": "6500.00",
                                            "document_ref": "ZL-2026-001"})
    assert response.status_code == 201, response.text
    unit = (await api.client.get(f"/api/v1/units/{w.unit_c}", headers=w.auth("desk"))).json()
    assert unit["status"] == "rented"
    leases = (await api.client.get(f"/api/v1/units/{w.unit_c}/leases",
                                   headers=w.auth("desk"))).json()
    assert [(x["id"], x["current"], x["monthly_rent"], [t["resident_id"] for t in x["tenants"]])
            for x in leases] == [(response.json()["id"], True, "6500.00", [w.bob])]
    overlap = await api.client.post(f"/api/v1/units/{w.unit_c}/leases", headers=w.auth("desk"),
                                    json={"tenant_ids": [w.alice_child],
                                          "starts_on": "2030-01-01", "ends_on": "2031-01-01",
                                          "document_ref": "ZL-2030-001"})
    assert overlap.status_code == 409
    assert "2026-01-01" in overlap.json()["error"]["message"]


async def test_move_out_of_the_last_resident_leaves_the_unit_vacant_from_that_date(
        api: Api) -> None:
    w = api.world
    url = f"/api/v1/units/{w.unit_a}"
    out = await api.client.post(f"{url}/move-out", headers=w.auth("desk"),
                                json={"resident_ids": [w.alice, w.alice_child],
                                      "moved_out": "2026-10-31"})
    assert out.status_code == 204, out.text
    found = (await api.client.get(f"{url}/ownership", headers=w.auth("desk"))).json()
    assert (found["status"], found["vacant"], found["vacant_since"]) == (
        "vacant", True, "2026-10-31")
    back = await api.client.post(f"{url}/move-in", headers=w.auth("desk"),
                                 json={"resident_id": w.alice, "relation": "owner",
                                       "moved_in": "2026-11-01"})
    assert back.status_code == 201
    found = (await api.client.get(f"{url}/ownership", headers=w.auth("desk"))).json()
    assert (found["status"], found["vacant"]) == ("occupied", False)
    assert [r["detail"]["status"] for r in await audit_rows(api, "moved_out")] == ["vacant"]
    assert [r["detail"]["residency"] for r in await audit_rows(api, "moved_in")] == [
        str(back.json()["id"])]


async def test_a_move_out_of_someone_not_living_there_is_a_422_naming_them(api: Api) -> None:
    w = api.world
    before = await snapshot(api)
    response = await api.client.post(f"/api/v1/units/{w.unit_a}/move-out",
                                      headers=w.auth("desk"),
                                      json={"resident_ids": [w.alice, w.bob],
                                            "moved_out": "2026-10-31"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "resident_ids.1"
    assert await snapshot(api) == before


async def test_roles_and_scope(api: Api) -> None:
    w = api.world
    for username, expected in (("tech", 403), ("finance", 403), ("alice", 403),
                               ("river-manager", 404), ("b2-tech", 403)):
        response = await api.client.get(f"/api/v1/units/{w.unit_a}/ownership",
                                        headers=w.auth(username))
        assert response.status_code == expected, username
    foreign = await api.client.post(f"/api/v1/units/{w.unit_river}/move-in",
                                    headers=w.auth("desk"),
                                    json={"resident_id": w.bob, "relation": "family",
                                          "moved_in": "2026-01-01"})
    assert foreign.status_code == 404
    stranger = await api.client.post(f"/api/v1/units/{w.unit_a}/move-in",
                                     headers=w.auth("desk"),
                                     json={"resident_id": w.river_resident,
                                           "relation": "family", "moved_in": "2026-01-01"})
    assert stranger.status_code == 422
    assert stranger.json()["error"]["field"] == "resident_id"


@pytest.mark.parametrize(("path", "body", "status", "action"), [
    ("ownership", lambda w: change(w.alice, "2020-05-01", "sale", "HT-2020-0501"), 201,
     "ownership_changed"),
    ("leases", lambda w: {"tenant_ids": [w.bob], "starts_on": "2026-01-01",
                          "ends_on": "2027-01-01", "document_ref": "ZL-2026-001"}, 201,
     "lease_registered"),
    ("move-in", lambda w: {"resident_id": w.bob, "relation": "family",
                           "moved_in": "2026-01-01"}, 201, "moved_in"),
    ("move-out", lambda w: {"resident_ids": [w.alice_child], "moved_out": "2026-01-31"}, 204,
     "moved_out"),
])
async def test_each_change_writes_exactly_one_audit_row_without_personal_data(
        api: Api, path: str, body: Callable[[World], dict[str, Any]], status: int,
        action: str) -> None:
    w = api.world
    before = await audit_rows(api)
    response = await api.client.post(f"/api/v1/units/{w.unit_a}/{path}", json=body(w),
                                      headers=w.auth("manager"))
    assert response.status_code == status, response.text
    new = (await audit_rows(api))[len(before):]
    assert [(r["action"], r["target"], r["actor_id"]) for r in new] == [
        (action, f"unit:{w.unit_a}", w.accounts["manager"])]
    text = json.dumps(new, default=str, ensure_ascii=False)
    assert not [p for p in ("张伟", "张小明", "李娜", "13812345678", "13700001111",
                            "13912345678", ALICE_ID, BOB_ID) if p in text]


async def test_a_refused_change_writes_no_audit_row(api: Api) -> None:
    w = api.world
    before = await audit_rows(api)
    response = await api.client.post(f"/api/v1/units/{w.unit_a}/ownership",
                                      json=change(w.alice, "2099-01-01", "sale", "HT-1"),
                                      headers=w.auth("manager"))
    assert response.status_code == 422
    assert await audit_rows(api) == before
