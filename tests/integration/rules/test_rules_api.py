"""The rules API: the loaded set, validation, reload, replay, and the outcomes in scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.rules.events import DeviceRef, RuleEvent, to_line
from tests.integration.api.conftest import Api

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


async def test_the_loaded_rules_with_their_versions(api: Api) -> None:
    response = await api.client.get("/api/v1/rules", headers=api.world.auth("manager"))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == len(body["items"]) == 18
    trapped = next(r for r in body["items"] if r["id"] == "elevator.trapped")
    assert trapped["version"] == "1" and trapped["event"] == "fault"
    assert trapped["actions"] == ["raise_fault", "notify"]
    assert trapped["file"].endswith("elevator.yaml")


async def test_validate_a_body_or_the_folder(api: Api) -> None:
    manager = api.world.auth("manager")
    bad = ("rules:\n  - id: x\n    description: d\n    when: {event: offline}\n"
           "    if: {for: 5 parsecs}\n    then: [{withdraw: {}}]\n")
    response = await api.client.post("/api/v1/rules/validate", headers=manager,
                                     json={"yaml": bad, "name": "mine.yaml"})
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert body["problems"][0].startswith("mine.yaml:x: if.for: bad duration '5 parsecs'")
    response = await api.client.post("/api/v1/rules/validate", headers=manager)
    assert response.json() == {"valid": True, "rules": 18, "problems": []}
    response = await api.client.post("/api/v1/rules/validate", headers=manager,
                                     json={"yaml": "rules: []", "colour": "red"})
    assert response.status_code == 422


async def test_reload_swaps_the_set_and_keeps_state(api: Api) -> None:
    runner = api.hub.rules
    assert runner is not None
    before = runner.rules
    response = await api.client.post("/api/v1/rules/reload", headers=api.world.auth("manager"))
    assert response.status_code == 200
    assert response.json()["rules"] == 18 and response.json()["versions"]["device.offline"] == "1"
    assert runner.rules is not before


async def test_replay_an_upload_of_recorded_events(api: Api) -> None:
    lift = DeviceRef(api.world.lift_b1, api.world.lakeside, "lakeside", "lift-b1", "elevator",
                     building_id=api.world.b1)
    lines = [to_line(RuleEvent("fault", T0, lift, {"code": "TRAPPED_AT_FLOOR",
                                                   "active": True})), "garbage"]
    response = await api.client.post(
        "/api/v1/rules/replay", headers={**api.world.auth("manager"),
                                         "Content-Type": "application/x-ndjson"},
        content="\n".join(lines).encode())
    assert response.status_code == 200
    body = response.json()
    assert body["events"] == 1 and body["truncated"] is False
    assert [o["command"] for o in body["outcomes"]] == ["RaiseFault", "Notify"]
    assert body["outcomes"][0]["line"].startswith(f"{T0.isoformat()} elevator.trapped@1 ")
    assert body["problems"] == ["line 2: not JSON: Expecting value: line 1 column 1 (char 0)"]


async def test_outcomes_show_the_chain_within_the_callers_sites(api: Api) -> None:
    runner, w = api.hub.rules, api.world
    assert runner is not None
    await runner.start()
    for device_id, site_id, site, building in ((w.lift_b1, w.lakeside, "lakeside", w.b1),
                                               (w.lift_river, w.riverside, "riverside", w.r1)):
        ref = DeviceRef(device_id, site_id, site, f"lift-{device_id}", "elevator", building)
        await runner.process(RuleEvent("offline", T0, ref, {"reason": "inactive 300s"}))
    await runner.flush(force=True)

    response = await api.client.get("/api/v1/rules/outcomes", headers=w.auth("manager"),
                                    params={"rule": "device.offline"})
    assert response.status_code == 200
    (row,) = response.json()["items"]
    assert (row["device_id"], row["site_id"], row["command"]) == (w.lift_b1, w.lakeside,
                                                                    "RaiseFault")
    assert row["status"] in ("done", "skipped") and row["rule_version"] == "1"
    assert row["evidence"] == [{"kind": "offline", "at": T0.isoformat(),
                                "device_id": w.lift_b1, "summary": {"reason": "inactive 300s"}}]
    response = await api.client.get("/api/v1/rules/outcomes", headers=w.auth("river-manager"),
                                    params={"device_id": w.lift_b1})
    assert response.json()["items"] == []
    later = (T0 + timedelta(hours=1)).isoformat()
    response = await api.client.get("/api/v1/rules/outcomes", headers=w.auth("manager"),
                                    params={"since": later})
    assert response.json()["total"] == 0
    response = await api.client.get("/api/v1/rules/outcomes", headers=w.auth("manager"),
                                    params={"since": "2026-11-27T08:00:00"})
    assert response.status_code == 422
