"""S1, BOLA: another household's or another site's records do not exist for the caller."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from hub.api.policy import POLICY, PUBLIC
from hub.domain.accounts import Role
from tests.integration.api.conftest import Api
from tests.integration.api.probing import (
    Route,
    app_routes,
    bodies,
    call,
    fill,
    own_ids,
    path_params,
    residency_of,
    snapshot,
)
from tests.integration.api.world import ALICE_ID, BOB_ID, World

NOWHERE = 2_000_000_000  # an id no table holds: what "does not exist" looks like

# What household B and riverside own, as text that must never reach alice.
B_AND_RIVERSIDE_TEXT = ("李娜", "13700001111", "1111", BOB_ID, BOB_ID[:4] + "*", "1-0302",
                        "王芳", "13600002222", "r-0301", "Riverside", "River 1", "Building 2",
                        "沪B22222", "苏E33333",  # B's and riverside's cars
                        "2-0301", "river-manager", '"bob"')
# What lakeside owns, as text that must never reach riverside's manager.
LAKESIDE_TEXT = ("张伟", "张小明", "李娜", "13812345678", "13700001111", ALICE_ID, BOB_ID,
                 "沪A11111", "沪B22222",  # A's and B's cars
                 "1-0301", "1-0302", "2-0301", "Lakeside", "Building 1", '"alice"', "finance")


@dataclass
class Probe:
    username: str
    role: Role
    own: dict[str, int]
    foreign: dict[str, list[int]]
    secrets: tuple[str, ...]
    leaks: list[str] = field(default_factory=list)
    count: int = 0


async def _foreign_to_alice(api: Api) -> dict[str, list[int]]:
    w = api.world
    return {
        "site_id": [w.riverside],
        "building_id": [w.b2, w.r1],
        "unit_id": [w.unit_b, w.unit_c, w.unit_river],
        "resident_id": [w.bob, w.river_resident],
        "residency_id": [w.residency_bob, await residency_of(api, w.river_resident)],
        "account_id": [w.accounts["bob"], w.accounts["river-manager"], w.accounts["manager"]],
        "device_id": [w.lift_b2, w.lift_river],
        "asset_id": [w.asset_b1, w.asset_river],
        "plan_id": [w.plan_b1, w.plan_river],
        "bill_id": [w.bill_b, w.bill_c, w.bill_river],
        "payment_id": [w.payment_b, w.payment_river],
        "fee_item_id": [w.fee_river],
        "order_id": [w.order_bob, w.order_river],
        "tariff_id": [w.tariff_river],
        "announcement_id": [w.ann_b2, w.ann_river],
        "notification_id": [w.note_bob, w.note_river_manager],
        "door_id": [w.door_river], "credential_id": [w.credential_b, w.credential_river],
        "visitor_pass_id": [w.visitor_pass_b, w.visitor_pass_river],
        "lot_id": [w.lot_river], "lane_id": [w.lane_river],
        "space_id": [w.space_b, w.space_river], "vehicle_id": [w.vehicle_b, w.vehicle_river],
        "monthly_pass_id": [w.monthly_pass_b, w.monthly_pass_river],
        "list_entry_id": [w.list_entry_river],
        "session_id": [w.session_b, w.session_river],
        "complaint_id": [w.complaint_b, w.complaint_river],
        "photo_no": [5],
        "decision_id": [w.decision_lakeside, w.decision_river],  # staff only
    }


def _foreign_to_riverside(w: World) -> dict[str, list[int]]:
    return {
        "site_id": [w.lakeside],
        "building_id": [w.b1, w.b2],
        "unit_id": [w.unit_a, w.unit_b, w.unit_c],
        "resident_id": [w.alice, w.alice_child, w.bob],
        "residency_id": [w.residency_alice, w.residency_bob],
        "account_id": [w.accounts[name] for name in
                       ("admin", "manager", "finance", "b2-tech", "alice", "bob")],
        "device_id": [w.lift_b1, w.lift_b2, w.gate_lakeside],
        "asset_id": [w.asset_b1, w.asset_b2],
        "plan_id": [w.plan_b1],
        "bill_id": [w.bill_a, w.bill_b, w.bill_c],
        "payment_id": [w.payment_a, w.payment_b],
        "fee_item_id": [w.fee_lakeside],
        "order_id": [w.order_alice, w.order_bob],
        "tariff_id": [w.tariff_lakeside],
        "announcement_id": [w.ann_lakeside, w.ann_b1, w.ann_b2],
        "notification_id": [w.note_alice, w.note_bob],
        "door_id": [w.door_lakeside], "credential_id": [w.credential_a, w.credential_b],
        "visitor_pass_id": [w.visitor_pass_a, w.visitor_pass_b],
        "lot_id": [w.lot_lakeside], "lane_id": [w.lane_lakeside],
        "space_id": [w.space_a, w.space_b], "vehicle_id": [w.vehicle_a, w.vehicle_b],
        "monthly_pass_id": [w.monthly_pass_a, w.monthly_pass_b],
        "list_entry_id": [w.list_entry_lakeside],
        "session_id": [w.session_a, w.session_b],
        "complaint_id": [w.complaint_a, w.complaint_b],
        "photo_no": [5],
        "decision_id": [w.decision_lakeside],
    }


async def _river_ids(api: Api) -> dict[str, int]:
    w = api.world
    return {"site_id": w.riverside, "building_id": w.r1, "unit_id": w.unit_river,
            "resident_id": w.river_resident,
            "residency_id": await residency_of(api, w.river_resident),
            "account_id": w.accounts["river-manager"], "device_id": w.lift_river,
            "asset_id": w.asset_river, "plan_id": w.plan_river,
            "bill_id": w.bill_river, "payment_id": w.payment_river,
            "fee_item_id": w.fee_river,
            "order_id": w.order_river, "tariff_id": w.tariff_river,
            "announcement_id": w.ann_river, "notification_id": w.note_river_manager,
            "door_id": w.door_river, "credential_id": w.credential_river,
            "visitor_pass_id": w.visitor_pass_river,
            "lot_id": w.lot_river, "lane_id": w.lane_river, "space_id": w.space_river,
            "vehicle_id": w.vehicle_river, "monthly_pass_id": w.monthly_pass_river,
            "list_entry_id": w.list_entry_river,
            "session_id": w.session_river,
            "complaint_id": w.complaint_river, "photo_no": 1,
            "decision_id": w.decision_river}


def _id_routes(api: Api) -> list[Route]:
    return [route for route in app_routes(api.app) if path_params(route[1])]


async def _probe_every_id_route(api: Api, probe: Probe) -> None:
    """Each foreign id must answer exactly as an id that does not exist answers."""
    w = api.world
    body_for = bodies(w, probe.own, probe.username)
    for route in _id_routes(api):
        method, path = route
        params = path_params(path)
        rule = POLICY.get(route)
        refused_by_policy = rule is None or (rule != PUBLIC and probe.role not in rule)
        for name in params:
            for foreign_id in probe.foreign[name]:
                ids = {**probe.own, name: foreign_id}
                response = await call(api.client, route, fill(path, ids),
                                      w.auth(probe.username), body_for.get(route))
                absent = await call(api.client, route, fill(path, {**ids, name: NOWHERE}),
                                    w.auth(probe.username), body_for.get(route))
                probe.count += 1
                where = f"{method} {fill(path, ids)}"
                expected = 403 if refused_by_policy else 404
                if response.status_code != expected:
                    probe.leaks.append(f"{where}: {response.status_code}, expected {expected}")
                if response.text.replace(str(foreign_id), "?") != \
                        absent.text.replace(str(NOWHERE), "?"):
                    probe.leaks.append(f"{where}: answers unlike a missing id: {response.text}")
                probe.leaks.extend(f"{where}: shows {s!r}" for s in probe.secrets
                                   if s in response.text)


async def test_every_id_route_has_b_ids_to_probe(api: Api) -> None:
    foreign = await _foreign_to_alice(api)
    routes = _id_routes(api)
    unknown = {(route, name) for route in routes for name in path_params(route[1])
               if name not in foreign or name not in _foreign_to_riverside(api.world)}
    assert len(routes) >= 10
    assert not unknown, f"id routes with a parameter no probe knows (add B's ids): {unknown}"


async def test_alice_cannot_reach_household_b_or_riverside_by_id(api: Api) -> None:
    w = api.world
    before = await snapshot(api, skip=frozenset({"audit_log"}))
    probe = Probe("alice", Role.RESIDENT, own_ids(w), await _foreign_to_alice(api),
                  B_AND_RIVERSIDE_TEXT)
    await _probe_every_id_route(api, probe)
    assert probe.count >= 2 * len(_id_routes(api))
    assert not probe.leaks, f"{len(probe.leaks)} leaks in {probe.count} probes:\n" + \
        "\n".join(probe.leaks)
    assert await snapshot(api, skip=frozenset({"audit_log"})) == before


async def test_riverside_manager_cannot_reach_lakeside_by_id(api: Api) -> None:
    w = api.world
    before = await snapshot(api, skip=frozenset({"audit_log"}))
    probe = Probe("river-manager", Role.MANAGER, await _river_ids(api),
                  _foreign_to_riverside(w), LAKESIDE_TEXT)
    await _probe_every_id_route(api, probe)
    assert probe.count >= 2 * len(_id_routes(api))
    assert not probe.leaks, f"{len(probe.leaks)} leaks in {probe.count} probes:\n" + \
        "\n".join(probe.leaks)
    assert await snapshot(api, skip=frozenset({"audit_log"})) == before


@pytest.mark.parametrize("path", ["/api/v1/sites", "/api/v1/buildings", "/api/v1/units",
                                  "/api/v1/residents"])
async def test_alice_lists_hold_only_household_a(api: Api, path: str) -> None:
    w = api.world
    mine = {"/api/v1/sites": {w.lakeside}, "/api/v1/buildings": {w.b1},
            "/api/v1/units": {w.unit_a}, "/api/v1/residents": {w.alice, w.alice_child}}[path]
    response = await api.client.get(path, params={"limit": 200}, headers=w.auth("alice"))
    assert response.status_code == 200
    assert {item["id"] for item in response.json()["items"]} == mine
    assert response.json()["total"] == len(mine)
    assert not [s for s in B_AND_RIVERSIDE_TEXT if s in response.text]


@pytest.mark.parametrize(("path", "name", "attribute"), [
    ("/api/v1/units", "site_id", "riverside"), ("/api/v1/units", "building_id", "b2"),
    ("/api/v1/units", "building_id", "r1"), ("/api/v1/buildings", "site_id", "riverside"),
    ("/api/v1/residents", "site_id", "riverside"), ("/api/v1/residents", "unit_id", "unit_b"),
    ("/api/v1/residents", "unit_id", "unit_river"), ("/api/v1/residents", "building_id", "b2"),
])
async def test_alice_filtering_by_foreign_ids_finds_nothing(api: Api, path: str, name: str,
                                                            attribute: str) -> None:
    w = api.world
    response = await api.client.get(path, params={name: getattr(w, attribute)},
                                    headers=w.auth("alice"))
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["total"] == 0


async def test_bob_sees_none_of_household_a(api: Api) -> None:
    w = api.world
    units = (await api.client.get("/api/v1/units", headers=w.auth("bob"))).json()
    people = (await api.client.get("/api/v1/residents", headers=w.auth("bob"))).json()
    alice = await api.client.get(f"/api/v1/residents/{w.alice}", headers=w.auth("bob"))
    assert [u["id"] for u in units["items"]] == [w.unit_b]
    assert [p["id"] for p in people["items"]] == [w.bob]
    assert alice.status_code == 404
    assert "张伟" not in alice.text


async def test_riverside_manager_lists_nothing_of_lakeside(api: Api) -> None:
    w = api.world
    auth = w.auth("river-manager")
    seen: dict[str, set[int]] = {}
    for path in ("/api/v1/sites", "/api/v1/buildings", "/api/v1/units", "/api/v1/residents",
                 "/api/v1/staff"):
        response = await api.client.get(path, params={"limit": 200}, headers=auth)
        assert response.status_code == 200, path
        assert not [s for s in LAKESIDE_TEXT if s in response.text], path
        seen[path] = {item["id"] for item in response.json()["items"]}
    assert seen == {
        "/api/v1/sites": {w.riverside}, "/api/v1/buildings": {w.r1},
        "/api/v1/units": {w.unit_river}, "/api/v1/residents": {w.river_resident},
        "/api/v1/staff": {w.accounts["river-manager"]},
    }
    for path, params in (("/api/v1/units", {"site_id": w.lakeside}),
                         ("/api/v1/residents", {"unit_id": w.unit_a}),
                         ("/api/v1/buildings", {"site_id": w.lakeside}),
                         ("/api/v1/staff", {"site_id": w.lakeside})):
        response = await api.client.get(path, params=params, headers=auth)
        assert response.json()["items"] == [], (path, params)
    lookup = await api.client.post("/api/v1/residents/lookup", headers=auth,
                                   json={"national_id": ALICE_ID})
    assert lookup.status_code == 200
    assert lookup.json()["items"] == []


async def test_riverside_manager_cannot_name_lakeside_in_a_body(api: Api) -> None:
    w = api.world
    auth = w.auth("river-manager")
    before = await snapshot(api, skip=frozenset({"audit_log"}))
    attempts = {
        "building in lakeside": ("/api/v1/buildings", {"site_id": w.lakeside, "code": "b9",
                                                       "name": "Building 9", "floors": 3}),
        "unit in b1": ("/api/v1/units", {"building_id": w.b1, "number": "9-9", "floor": 1,
                                         "gross_area": "50", "inner_area": "40"}),
        "resident in lakeside": ("/api/v1/residents", {"site_id": w.lakeside, "name": "赵敏"}),
        "resident moved into unit A": ("/api/v1/residents", {
            "site_id": w.riverside, "name": "赵敏",
            "residencies": [{"unit_id": w.unit_a, "relation": "tenant",
                             "moved_in": "2024-01-01"}]}),
        "own resident into unit A": (f"/api/v1/residents/{w.river_resident}/residencies", {
            "unit_id": w.unit_a, "relation": "tenant", "moved_in": "2024-01-01"}),
        "account for alice": ("/api/v1/staff", {"username": "alice2", "password": "long-enough",
                                                "role": "resident", "resident_id": w.alice}),
        "staff granted lakeside": ("/api/v1/staff", {
            "username": "spy", "password": "long-enough", "role": "security",
            "grants": [{"site_id": w.lakeside}]}),
        "staff granted b1 under riverside": ("/api/v1/staff", {
            "username": "spy", "password": "long-enough", "role": "security",
            "grants": [{"site_id": w.riverside, "building_id": w.b1}]}),
    }
    answers = {name: (await api.client.post(path, headers=auth, json=body)).status_code
               for name, (path, body) in attempts.items()}
    assert answers == dict.fromkeys(attempts, 404)
    assert await snapshot(api, skip=frozenset({"audit_log"})) == before


async def test_building_scoped_technician_sees_unit_c_but_not_unit_a(api: Api) -> None:
    w = api.world
    auth = w.auth("b2-tech")
    unit_c = await api.client.get(f"/api/v1/units/{w.unit_c}", headers=auth)
    unit_a = await api.client.get(f"/api/v1/units/{w.unit_a}", headers=auth)
    b1 = await api.client.get(f"/api/v1/buildings/{w.b1}", headers=auth)
    alice = await api.client.get(f"/api/v1/residents/{w.alice}", headers=auth)
    assert unit_c.status_code == 200
    assert unit_c.json()["number"] == "2-0301"
    assert (unit_a.status_code, b1.status_code, alice.status_code) == (404, 404, 404)
    units = (await api.client.get("/api/v1/units", headers=auth)).json()
    buildings = (await api.client.get("/api/v1/buildings", headers=auth)).json()
    people = (await api.client.get("/api/v1/residents", headers=auth)).json()
    assert [u["id"] for u in units["items"]] == [w.unit_c]
    assert [b["id"] for b in buildings["items"]] == [w.b2]
    assert people["items"] == []
