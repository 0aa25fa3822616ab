"""The parking registry through the API: managers configure lots and lanes (devices checked by
kind and site, nested lots without cycles), the service desk registers vehicles and issues
passes, guards ask what the gate thinks of a plate, residents see their household's cars and
passes only; bad input is a 4xx naming the field, and every change one audit row."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api
from tests.integration.api.probing import audit_rows, snapshot
from tests.integration.parking_registry.seed import BANNED_LAKESIDE, PLATE_A, PLATE_B


async def _post(api: Api, path: str, body: dict[str, Any], username: str = "manager"
                ) -> Any:
    return await api.client.post(f"/api/v1/parking/{path}", json=body,
                                 headers=api.world.auth(username))


def _error(response: Any) -> tuple[int, str | None]:
    return response.status_code, response.json()["error"]["field"]


async def test_a_manager_nests_a_basement_and_gives_it_a_lane(api: Api) -> None:
    w = api.world
    basement = await _post(api, "lots", {"site_id": w.lakeside, "code": "b1", "name": "B1",
                                         "parent_id": w.lot_lakeside})
    assert basement.status_code == 201, basement.text
    lot_id = basement.json()["id"]
    lane = await _post(api, "lanes", {
        "lot_id": lot_id, "code": "b1-in", "direction": "in",
        "camera_device_id": w.camera_lakeside, "barrier_device_id": w.gate_lakeside,
        "plate_colors": ["green", "blue", "green"]})
    assert lane.status_code == 201, lane.text
    shown = (await api.client.get(f"/api/v1/parking/lanes/{lane.json()['id']}",
                                  headers=w.auth("guard"))).json()
    assert (shown["lot_id"], shown["plate_colors"]) == (lot_id, ["blue", "green"])
    inner = (await api.client.get("/api/v1/parking/lots", params={"parent_id": w.lot_lakeside},
                                  headers=w.auth("desk"))).json()
    assert [lot["code"] for lot in inner["items"]] == ["b1"]
    cycle = await api.client.patch(f"/api/v1/parking/lots/{w.lot_lakeside}",
                                   json={"parent_id": lot_id}, headers=w.auth("manager"))
    assert _error(cycle) == (422, "parent_id")
    in_use = await api.client.delete(f"/api/v1/parking/lots/{lot_id}",
                                     headers=w.auth("manager"))
    assert in_use.status_code == 409  # its lane first


async def test_lane_devices_are_checked_by_kind_and_site(api: Api) -> None:
    w = api.world
    lane = {"lot_id": w.lot_lakeside, "code": "south-in", "direction": "in",
            "camera_device_id": w.camera_lakeside, "barrier_device_id": w.gate_lakeside}
    before = await snapshot(api)
    answers = [
        _error(await _post(api, "lanes", {**lane, "camera_device_id": w.lift_b1})),
        _error(await _post(api, "lanes", {**lane, "barrier_device_id": w.camera_lakeside})),
        _error(await _post(api, "lanes", {**lane, "barrier_device_id": w.gate_river})),
        _error(await _post(api, "lanes", {**lane, "display_device_id": 2_000_000})),
        _error(await _post(api, "lanes", {**lane, "code": "north-in"})),
        _error(await _post(api, "lanes", {**lane, "lot_id": w.lot_river})),
        _error(await _post(api, "lanes", {**lane, "direction": "sideways"})),
    ]
    assert answers == [(422, "camera_device_id"), (422, "barrier_device_id"),
                       (422, "barrier_device_id"), (422, "display_device_id"), (409, "code"),
                       (422, "lot_id"), (422, "body.direction")]
    assert await snapshot(api) == before


async def test_the_desk_registers_a_car_and_its_pass_and_plates_stay_unique(api: Api) -> None:
    w = api.world
    created = await _post(api, "vehicles", {"unit_id": w.unit_b, "plate": "沪f·d1234-5"},
                          "desk")
    assert created.status_code == 201, created.text
    vehicle = (await api.client.get(f"/api/v1/parking/vehicles/{created.json()['id']}",
                                    headers=w.auth("guard"))).json()
    assert (vehicle["plate"], vehicle["plate_color"], vehicle["new_energy"]) == \
        ("沪FD12345", "green", True)  # eight characters: a new-energy plate
    answers = [
        _error(await _post(api, "vehicles", {"unit_id": w.unit_a, "plate": "沪FD12345"},
                           "desk")),
        _error(await _post(api, "vehicles", {"unit_id": w.unit_b, "plate": "沪O12345"},
                           "desk")),
        _error(await _post(api, "vehicles", {"unit_id": w.unit_b, "plate": "沪G12345",
                                             "space_id": w.space_a}, "desk")),
        _error(await _post(api, "vehicles", {"unit_id": w.unit_b, "plate": "沪G12345",
                                             "resident_id": w.alice}, "desk")),
        _error(await _post(api, "passes", {"site_id": w.lakeside, "plate": PLATE_B,
                                           "valid_from": "2026-12-31",
                                           "valid_to": "2026-12-01"}, "desk")),
        _error(await _post(api, "passes", {"site_id": w.lakeside, "plate": PLATE_B,
                                           "valid_from": "2026-12-01", "valid_to": "2026-12-31",
                                           "lot_ids": [w.lot_river]}, "desk")),
        _error(await _post(api, "passes", {"site_id": w.lakeside, "vehicle_id": w.vehicle_river,
                                           "valid_from": "2026-12-01",
                                           "valid_to": "2026-12-31"}, "desk")),
        _error(await _post(api, "lots", {"site_id": w.lakeside, "code": "b9", "name": "B9"},
                           "desk")),
    ]
    assert answers == [(409, "plate"), (422, "plate"), (422, "space_id"), (422, "resident_id"),
                       (422, "valid_to"), (422, "lot_ids"), (422, "vehicle_id"), (403, None)]
    issued = await _post(api, "passes", {"site_id": w.lakeside, "vehicle_id": created.json()["id"],
                                         "valid_from": "2026-12-01", "valid_to": "2026-12-31",
                                         "grace_days": 3, "fee_ref": "PAY-2026-1201"}, "desk")
    assert issued.status_code == 201, issued.text
    renamed = await api.client.patch(f"/api/v1/parking/vehicles/{created.json()['id']}",
                                     json={"plate": "沪FD54321"}, headers=w.auth("desk"))
    assert renamed.status_code == 204
    monthly = (await api.client.get(f"/api/v1/parking/passes/{issued.json()['id']}",
                                    headers=w.auth("guard"))).json()
    assert monthly["plate"] == "沪FD54321"  # the pass follows its vehicle's plate


async def test_a_guard_sees_what_the_gate_thinks_of_a_plate(api: Api) -> None:
    w = api.world

    async def standing(plate: str, username: str = "guard") -> Any:
        return await api.client.get("/api/v1/parking/standing", headers=w.auth(username),
                                    params={"site_id": w.lakeside, "plate": plate})

    resident = (await standing(PLATE_A)).json()
    assert (resident["standing"], resident["vehicle_id"]) == ("registered", w.vehicle_a)
    assert resident["reasons"] == ["registered to unit 1-0301, space B1-A (owned)"]
    banned = (await standing(BANNED_LAKESIDE.replace("沪C", "沪c "))).json()
    assert banned["reasons"] == ["blacklisted: rammed the barrier"]
    assert (await standing("沪K00001")).json()["standing"] == "temporary"
    assert _error(await standing("not-a-plate")) == (422, "plate")
    assert (await standing(PLATE_A, "alice")).status_code == 403
    assert (await standing(PLATE_A, "finance")).status_code == 403
    river = await api.client.get("/api/v1/parking/standing", headers=w.auth("guard"),
                                 params={"site_id": w.riverside, "plate": PLATE_A})
    assert river.status_code == 404


async def test_residents_see_their_households_cars_and_passes_only(api: Api) -> None:
    w = api.world
    alice_cars = (await api.client.get("/api/v1/me/vehicles", headers=w.auth("alice"))).json()
    bob_cars = (await api.client.get("/api/v1/me/vehicles", headers=w.auth("bob"))).json()
    assert [(c["plate"], c["unit_number"], c["space_code"]) for c in alice_cars] == [
        (PLATE_A, "1-0301", "B1-A")]
    assert [c["plate"] for c in bob_cars] == [PLATE_B]
    alice_passes = (await api.client.get("/api/v1/me/passes", headers=w.auth("alice"))).json()
    assert [(p["id"], p["plate"], p["grace_days"]) for p in alice_passes] == [
        (w.monthly_pass_a, PLATE_A, 3)]
    assert PLATE_B not in (await api.client.get("/api/v1/me/passes",
                                                headers=w.auth("alice"))).text
    staff = await api.client.get("/api/v1/me/vehicles", headers=w.auth("manager"))
    assert staff.status_code == 403


async def test_plates_are_not_for_finance_or_maintenance(api: Api) -> None:
    w = api.world
    for username in ("finance", "tech"):
        for path in ("vehicles", "passes", "lists"):
            response = await api.client.get(f"/api/v1/parking/{path}",
                                            headers=w.auth(username))
            assert response.status_code == 403, (username, path)
    seen = (await api.client.get("/api/v1/parking/vehicles", headers=w.auth("river-manager"),
                                 params={"limit": 200})).json()
    assert [v["id"] for v in seen["items"]] == [w.vehicle_river]


async def test_lists_and_deletions_are_audited_without_plates(api: Api) -> None:
    w = api.world
    before = len(await audit_rows(api, "config_changed"))
    entry = await _post(api, "lists", {"site_id": w.lakeside, "list": "white", "plate": PLATE_B,
                                       "reason": "业委会 owners' committee"})
    assert entry.status_code == 201, entry.text
    again = await _post(api, "lists", {"site_id": w.lakeside, "list": "white", "plate": PLATE_B,
                                       "reason": "twice"})
    assert _error(again) == (409, "plate")
    deleted = await api.client.delete(f"/api/v1/parking/vehicles/{w.vehicle_b}",
                                      headers=w.auth("desk"))
    assert deleted.status_code == 204
    monthly = (await api.client.get(f"/api/v1/parking/passes/{w.monthly_pass_b}",
                                    headers=w.auth("desk"))).json()
    assert (monthly["plate"], monthly["vehicle_id"]) == (PLATE_B, None)  # kept, by plate
    rows = (await audit_rows(api, "config_changed"))[before:]
    assert [(r["target"], r["detail"]["change"]) for r in rows] == [
        (f"parking_list_entry:{entry.json()['id']}", "created"),
        (f"parking_vehicle:{w.vehicle_b}", "deleted")]
    assert not [r for r in rows if PLATE_B in str(r)]
