"""The work-order API as staff and residents use it: dispatch, work, a 409 that names the
state and the action, the timeline with a rule's evidence, the SLA board, an assignee's queue,
the roster, and a household's repairs with photos, confirmation and rating."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from hub.domain.accounts import SYSTEM
from hub.domain.outcomes import Cause, Evidence, Priority, RaiseFault
from hub.handlers.work_orders import ResolveOrder
from tests.integration.api.conftest import Api

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 256
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 256


async def _post(api: Api, user: str, path: str, body: dict[str, Any] | None = None
                ) -> httpx.Response:
    return await api.client.post(path, json=body, headers=api.world.auth(user))


async def _get(api: Api, user: str, path: str, **params: Any) -> httpx.Response:
    return await api.client.get(path, params=params, headers=api.world.auth(user))


async def test_a_repair_is_dispatched_worked_and_closed_with_its_timeline(api: Api) -> None:
    w = api.world
    order = f"/api/v1/work-orders/{w.order_alice}"
    tech = w.accounts["tech"]
    assert (await _post(api, "desk", f"{order}/assign", {"assignee_id": tech})).status_code == 204
    for step in ("accept", "start"):
        assert (await _post(api, "tech", f"{order}/{step}")).status_code == 204, step
    added = await _post(api, "tech", f"{order}/materials", {
        "name": "tap cartridge", "quantity": "1", "unit_price": "45.80", "chargeable": True})
    assert added.status_code == 204
    assert (await _post(api, "tech", f"{order}/resolve", {"note": "cartridge replaced"})
            ).status_code == 204
    assert (await _post(api, "manager", f"{order}/close")).status_code == 204
    detail = (await _get(api, "manager", order)).json()
    assert detail["status"] == "closed"
    assert [e["kind"] for e in detail["timeline"]] == [
        "opened", "assigned", "accepted", "started", "material", "resolved", "closed"]
    assert (detail["cost"], detail["chargeable"]) == ("45.80", "45.80")
    assert detail["timeline"][1]["actor_id"] == w.accounts["desk"]


async def test_a_bad_transition_is_409_naming_the_state_and_the_action(api: Api) -> None:
    w = api.world
    order = f"/api/v1/work-orders/{w.order_alice}"
    response = await _post(api, "tech", f"{order}/start")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        f"work order {w.order_alice} is new: cannot start it (only when accepted)")
    await _post(api, "desk", f"{order}/assign", {"assignee_id": w.accounts["tech"]})
    other = await _post(api, "manager", f"{order}/accept")
    assert other.status_code == 409
    assert "only its assignee may accept" in other.json()["error"]["message"]
    await _post(api, "desk", f"{order}/cancel", {"reason": "the household fixed it"})
    again = await _post(api, "desk", f"{order}/assign", {"assignee_id": w.accounts["tech"]})
    assert again.status_code == 409
    assert "is cancelled: cannot assign it" in again.json()["error"]["message"]


async def test_an_assignee_must_work_in_the_orders_place(api: Api) -> None:
    w = api.world
    response = await _post(api, "desk", f"/api/v1/work-orders/{w.order_alice}/assign",
                           {"assignee_id": w.accounts["b2-tech"]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "assignee_id"


async def test_a_fault_order_shows_the_rule_and_its_evidence(api: Api) -> None:
    w = api.world
    detail = (await _get(api, "river-manager", f"/api/v1/work-orders/{w.order_river}")).json()
    opened = detail["timeline"][0]
    assert opened["rule"] == "rule:elevator-door@1"
    assert opened["data"]["cause"]["evidence"][0]["summary"] == {"code": "DOOR_CLOSE_FAILURE"}
    assert detail["occurrences"] == 1 and detail["fault"] == "DOOR_CLOSE_FAILURE"
    assert (await _get(api, "manager", f"/api/v1/work-orders/{w.order_river}")
            ).status_code == 404


async def test_round_robin_from_the_roster_fills_the_technicians_queue(api: Api) -> None:
    w = api.world
    tech = w.accounts["tech"]
    put = await api.client.put("/api/v1/work-orders/roster", headers=w.auth("manager"), json={
        "site_id": w.lakeside, "account_id": tech, "skills": ["elevator"], "on_duty": True})
    assert put.status_code == 204
    roster = (await _get(api, "desk", "/api/v1/work-orders/roster")).json()["items"]
    assert roster == [{"site_id": w.lakeside, "account_id": tech, "skills": ["elevator"],
                       "on_duty": True}]
    now = api.hub.clock()
    order_id = await api.hub.bus.handle(RaiseFault(
        site_id=w.lakeside, fault="TRAPPED_AT_FLOOR", category="elevator",
        priority=Priority.P1, title="Passengers trapped in lift B1", at=now - timedelta(
            minutes=7), device_id=w.lift_b1, actor=SYSTEM, cause=Cause(
            rule_id="elevator-trapped", rule_version="2", evidence=(
                Evidence(kind="fault", at=now, device_id=w.lift_b1),))))
    mine = (await _get(api, "tech", "/api/v1/work-orders/mine")).json()
    assert [o["id"] for o in mine["items"]] == [order_id]
    assert mine["items"][0]["assignee_id"] == tech
    assert (await _get(api, "b2-tech", "/api/v1/work-orders/mine")).json()["items"] == []
    late = (await _get(api, "manager", "/api/v1/work-orders", overdue=True)).json()
    assert [o["id"] for o in late["items"]] == [order_id]
    board = (await _get(api, "manager", "/api/v1/work-orders/sla-board")).json()
    assert board["overdue"] == 1
    assert board["open_by_priority"] == {"P1": 1, "P3": 2}
    assert board["at_risk"][0]["id"] == order_id
    assert {o["id"] for o in (await _get(api, "manager", "/api/v1/work-orders",
                                         category="plumbing")).json()["items"]} == {
        w.order_alice, w.order_bob}


async def test_a_building_scoped_technician_sees_only_their_building(api: Api) -> None:
    w = api.world
    assert (await _get(api, "b2-tech", f"/api/v1/work-orders/{w.order_alice}")
            ).status_code == 404
    assert (await _get(api, "b2-tech", "/api/v1/work-orders")).json()["items"] == []


async def test_a_resident_files_a_repair_with_photos_and_sees_only_their_own(api: Api) -> None:
    w = api.world
    files = [("photos", ("tap.jpg", JPEG, "image/jpeg")), ("photos", ("sink.png", PNG,
                                                                       "image/png"))]
    created = await api.client.post("/api/v1/me/repairs", headers=w.auth("alice"), files=files,
                                    data={"title": "Bathroom fan noisy", "category": "general"})
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    mine = (await _get(api, "alice", "/api/v1/me/repairs")).json()
    assert {r["id"] for r in mine["items"]} == {new_id, w.order_alice}
    detail = (await _get(api, "alice", f"/api/v1/me/repairs/{new_id}")).json()
    assert len(detail["photos"]) == 2 and detail["steps"][0]["kind"] == "opened"
    assert all((api.settings.data_dir / "media" / ref[:2] / ref).exists()
               for ref in detail["photos"])
    photo = await _get(api, "alice", f"/api/v1/me/repairs/{new_id}/photos/2")
    assert (photo.status_code, photo.headers["content-type"], photo.content) == (
        200, "image/png", PNG)
    assert (await _get(api, "tech", f"/api/v1/work-orders/{new_id}/photos/1")).content == JPEG
    assert (await _get(api, "alice", f"/api/v1/me/repairs/{new_id}/photos/3")
            ).status_code == 404
    assert (await _get(api, "bob", f"/api/v1/me/repairs/{new_id}/photos/1")).status_code == 404
    staff_view = (await _get(api, "desk", f"/api/v1/work-orders/{new_id}")).json()
    assert (staff_view["source"], staff_view["unit_id"]) == ("resident", w.unit_a)
    assert (await _get(api, "alice", f"/api/v1/me/repairs/{w.order_bob}")).status_code == 404
    assert (await _get(api, "bob", f"/api/v1/me/repairs/{new_id}")).status_code == 404


async def test_bad_photos_are_refused_by_content_and_count(api: Api) -> None:
    w = api.world
    cases = {
        "text named .jpg": [("photos", ("x.jpg", b"not an image", "image/jpeg"))],
        "six photos": [("photos", (f"{i}.jpg", JPEG, "image/jpeg")) for i in range(6)],
        "over 5 MB": [("photos", ("big.jpg", JPEG + b"\x00" * (5 * 1024 * 1024), "image/jpeg"))],
    }
    for name, files in cases.items():
        response = await api.client.post("/api/v1/me/repairs", headers=w.auth("alice"),
                                         files=files, data={"title": "Leak"})
        assert response.status_code in (413, 422), (name, response.text)
        if response.status_code == 422:
            assert response.json()["error"]["field"].startswith("body.photos"), name
    mine = (await _get(api, "alice", "/api/v1/me/repairs")).json()
    assert [r["id"] for r in mine["items"]] == [w.order_alice]


async def test_a_resident_cannot_file_for_another_households_unit(api: Api) -> None:
    w = api.world
    response = await api.client.post("/api/v1/me/repairs", headers=w.auth("alice"),
                                     data={"title": "Leak", "unit_id": str(w.unit_b)})
    assert response.status_code == 404


async def test_only_the_household_confirms_and_rates_once(api: Api) -> None:
    w = api.world
    from hub.domain.accounts import Actor, Role

    tech = w.accounts["tech"]
    await _post(api, "desk", f"/api/v1/work-orders/{w.order_alice}/assign",
                {"assignee_id": tech})
    await _post(api, "tech", f"/api/v1/work-orders/{w.order_alice}/accept")
    await api.hub.bus.handle(ResolveOrder(Actor(tech, Role.MAINTENANCE, all_sites=True),
                                          w.order_alice, note="done"))
    path = f"/api/v1/me/repairs/{w.order_alice}/confirm"
    assert (await _post(api, "bob", path, {"rating": 5})).status_code == 404
    assert (await _post(api, "alice", path, {"rating": 6})).status_code == 422
    assert (await _post(api, "alice", path, {"rating": 4, "comment": "快, 谢谢"})
            ).status_code == 204
    assert (await _post(api, "alice", path, {"rating": 5})).status_code == 409
    detail = (await _get(api, "alice", f"/api/v1/me/repairs/{w.order_alice}")).json()
    assert (detail["status"], detail["rating"], detail["rating_comment"]) == (
        "closed", 4, "快, 谢谢")


async def test_the_sla_job_is_wired_to_notify_managers(api: Api) -> None:
    leased = api.hub.jobs["work_orders.sla"]  # run under its lease (hub.leases.leased)
    job = leased.args[1]  # type: ignore[attr-defined]
    assert job.keywords["notify"] == api.hub.bus.handle


async def test_claim_return_transfer_and_reopen_through_the_api(api: Api) -> None:
    w = api.world
    order = f"/api/v1/work-orders/{w.order_bob}"
    tech, manager = w.accounts["tech"], w.accounts["manager"]
    assert (await _post(api, "tech", f"{order}/claim")).status_code == 204
    queue = (await _get(api, "tech", "/api/v1/work-orders/mine")).json()["items"]
    assert [(o["id"], o["status"]) for o in queue] == [(w.order_bob, "accepted")]
    assert (await _post(api, "tech", f"{order}/return", {"reason": "needs a plumber"})
            ).status_code == 204
    pool = (await _get(api, "desk", "/api/v1/work-orders", status="returned")).json()
    assert [o["id"] for o in pool["items"]] == [w.order_bob]
    await _post(api, "desk", f"{order}/assign", {"assignee_id": tech})
    moved = await _post(api, "desk", f"{order}/transfer", {"assignee_id": manager,
                                                            "reason": "night shift"})
    assert moved.status_code == 204
    assert [o["id"] for o in (await _get(api, "manager", "/api/v1/work-orders",
                                         assignee_id=manager)).json()["items"]] == [w.order_bob]
    for step in ("accept", "start"):
        assert (await _post(api, "manager", f"{order}/{step}")).status_code == 204
    await _post(api, "manager", f"{order}/resolve", {"note": "drain cleared"})
    await _post(api, "desk", f"{order}/close")
    assert (await _post(api, "tech", f"{order}/reopen", {"reason": "x"})).status_code == 403
    assert (await _post(api, "desk", f"{order}/reopen", {"reason": "blocked again"})
            ).status_code == 204
    detail = (await _get(api, "desk", order)).json()
    assert (detail["status"], detail["assignee_id"], detail["reopen_count"]) == (
        "assigned", manager, 1)
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds == ["opened", "claimed", "returned", "assigned", "transferred", "accepted",
                     "started", "resolved", "closed", "reopened"]
    assert "night shift" in detail["timeline"][4]["text"]
