"""Assets and maintenance plans through the API: register, read, change, scope, history,
reliability with exact numbers, plans from the TSG T5002 templates, and bad input."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.bootstrap import bootstrap
from hub.domain.accounts import Actor, Role
from hub.domain.facilities import AssetEvent
from hub.domain.maintenance import MaintenancePlan, MaintenanceRun
from hub.domain.outcomes import OrderOpened, OrderResolved, OrderSource, Priority
from hub.domain.work_orders.order import WorkOrder
from hub.handlers.facilities import record_order_event
from hub.handlers.maintenance_schedule import run_due_maintenance
from hub.handlers.work_orders import Action, ActOnOrder, ResolveOrder
from tests.integration.api.conftest import Api, api_settings
from tests.integration.api.world import World

T0 = datetime(2026, 10, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def test_a_manager_registers_an_asset_and_reads_it_back(api: Api) -> None:
    w = api.world
    created = await api.client.post("/api/v1/assets", headers=w.auth("manager"), json={
        "site_id": w.lakeside, "code": "pump-b1", "name": "1号楼生活水泵 B1 water pump",
        "category": "pump", "building_id": w.b1, "floor": -1,
        "area": "地下泵房 basement pump room", "model": "Grundfos CR 10",
        "supplier": "上海泵业 Shanghai Pumps", "purchased_on": "2021-03-01",
        "installed_on": "2021-04-15", "warranty_until": "2024-04-15"})
    assert created.status_code == 201, created.text
    asset_id = created.json()["id"]

    changed = await api.client.patch(f"/api/v1/assets/{asset_id}", headers=w.auth("manager"),
                                     json={"warranty_until": "2026-04-15", "floor": None})
    got = await api.client.get(f"/api/v1/assets/{asset_id}", headers=w.auth("tech"))

    assert changed.status_code == 204
    body = got.json()
    assert (body["status"], body["device_ids"], body["floor"]) == ("operational", [], None)
    assert (body["area"], body["supplier"], body["installed_on"], body["warranty_until"]) == (
        "地下泵房 basement pump room", "上海泵业 Shanghai Pumps", "2021-04-15", "2026-04-15")
    pumps = await api.client.get("/api/v1/assets", params={"category": "pump"},
                                 headers=w.auth("desk"))
    assert [a["id"] for a in pumps.json()["items"]] == [asset_id]


async def test_a_lift_asset_lists_its_devices_and_staff_see_only_their_buildings(
        api: Api) -> None:
    w = api.world
    lift = (await api.client.get(f"/api/v1/assets/{w.asset_b1}", headers=w.auth("tech"))).json()
    assert (lift["device_ids"], lift["category"], lift["status"]) == (
        [w.lift_b1], "elevator", "operational")

    mine = await api.client.get("/api/v1/assets", headers=w.auth("b2-tech"))
    other = await api.client.get(f"/api/v1/assets/{w.asset_b1}", headers=w.auth("b2-tech"))
    plans = await api.client.get("/api/v1/maintenance/plans", headers=w.auth("b2-tech"))
    assert [a["id"] for a in mine.json()["items"]] == [w.asset_b2]
    assert other.status_code == 404
    assert plans.json()["items"] == []  # the only lakeside plan is Building 1's


async def test_riverside_lists_and_filters_nothing_of_lakeside(api: Api) -> None:
    w = api.world
    auth = w.auth("river-manager")
    assets = await api.client.get("/api/v1/assets", params={"limit": 200}, headers=auth)
    plans = await api.client.get("/api/v1/maintenance/plans", params={"limit": 200},
                                 headers=auth)
    filtered = [await api.client.get(path, params=params, headers=auth) for path, params in (
        ("/api/v1/assets", {"site_id": w.lakeside}), ("/api/v1/assets", {"building_id": w.b1}),
        ("/api/v1/maintenance/plans", {"asset_id": w.asset_b1}),
        ("/api/v1/maintenance/plans", {"site_id": w.lakeside}))]

    assert [a["id"] for a in assets.json()["items"]] == [w.asset_river]
    assert [p["id"] for p in plans.json()["items"]] == [w.plan_river]
    assert [r.json()["total"] for r in filtered] == [0, 0, 0, 0]
    assert "b1-lift" not in assets.text + plans.text


async def test_bad_assets_are_refused_naming_the_field(api: Api) -> None:
    w = api.world
    auth = w.auth("manager")
    base = {"site_id": w.lakeside, "code": "gym-1", "name": "健身器材 gym", "category": "fitness"}
    cases = [
        ({**base, "installed_on": "2020-01-01", "purchased_on": "2021-01-01"}, 422,
         "installed_on"),
        ({**base, "code": "b1-lift"}, 409, "code"),
        ({**base, "category": "Fitness Gear"}, 422, "body.category"),
        ({**base, "building_id": w.r1}, 404, None),
        ({**base, "purchased_on": "2021-02-30"}, 422, "body.purchased_on"),
    ]
    for body, status, field in cases:
        response = await api.client.post("/api/v1/assets", headers=auth, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["field"] == field
    patch = await api.client.patch(f"/api/v1/assets/{w.asset_b1}", headers=auth,
                                   json={"name": None})
    assert patch.status_code == 422 and patch.json()["error"]["field"] == "body.name"


async def test_history_and_reliability_of_a_lift_with_exact_numbers(api: Api) -> None:
    """October 2026, 31 days = 744 h. Breakdowns of 2 h and 6 h (P1, P2),
    a minor P3 fault and a planned service: 8 h down, 736 h up, MTBF 368 h, MTTR 4 h."""
    w = api.world
    events = [
        OrderOpened(1, w.lakeside, "TRAPPED_AT_FLOOR", OrderSource.DEVICE_FAULT, Priority.P1,
                    T0 + 24 * HOUR, device_id=w.lift_b1),
        OrderResolved(1, w.lakeside, "TRAPPED_AT_FLOOR", OrderSource.DEVICE_FAULT,
                      T0 + 26 * HOUR, device_id=w.lift_b1),
        OrderOpened(2, w.lakeside, "DOOR_CLOSE_FAILURE", OrderSource.DEVICE_FAULT,
                    Priority.P3, T0 + 100 * HOUR, device_id=w.lift_b1),
        OrderOpened(3, w.lakeside, "SAFETY_CIRCUIT", OrderSource.DEVICE_FAULT, Priority.P2,
                    T0 + 300 * HOUR, asset_id=w.asset_b1),
        OrderResolved(3, w.lakeside, "SAFETY_CIRCUIT", OrderSource.DEVICE_FAULT,
                      T0 + 306 * HOUR, asset_id=w.asset_b1),
        OrderOpened(4, w.lakeside, f"plan:{w.plan_b1}", OrderSource.MAINTENANCE_PLAN,
                    Priority.P3, T0 + 400 * HOUR, asset_id=w.asset_b1),
        OrderResolved(4, w.lakeside, f"plan:{w.plan_b1}", OrderSource.MAINTENANCE_PLAN,
                      T0 + 403 * HOUR, asset_id=w.asset_b1),
    ]
    for event in events:
        async with api.hub.uow() as uow:
            await record_order_event(event, uow)
    auth = w.auth("tech")

    history = await api.client.get(f"/api/v1/assets/{w.asset_b1}/history", headers=auth)
    numbers = await api.client.get(f"/api/v1/assets/{w.asset_b1}/reliability", headers=auth,
                                   params={"start": "2026-10-01T00:00:00Z",
                                           "end": "2026-11-01T00:00:00Z"})
    lift = await api.client.get(f"/api/v1/assets/{w.asset_b1}", headers=auth)

    assert [(h["order_id"], h["failure"], h["resolved_at"] is None)
            for h in history.json()] == [(4, False, False), (3, True, False), (2, False, True),
                                         (1, True, False)]
    assert numbers.json() == {
        "start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z", "failures": 2,
        "downtime_s": 8 * 3600.0, "uptime_s": 736 * 3600.0, "mtbf_hours": 368.0,
        "mttr_hours": 4.0, "availability": 736 / 744}
    assert lift.json()["status"] == "operational"  # the P3 fault still open is minor
    backwards = await api.client.get(f"/api/v1/assets/{w.asset_b1}/reliability", headers=auth,
                                     params={"start": "2026-11-01T00:00:00Z",
                                             "end": "2026-10-01T00:00:00Z"})
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "end"


async def test_plans_from_the_tsg_t5002_templates_and_by_hand(api: Api) -> None:
    w = api.world
    auth = w.auth("tech")
    templates = {t["id"]: t for t in (await api.client.get(
        "/api/v1/maintenance/templates", headers=auth)).json()}
    assert [templates[t]["every_days"] or templates[t]["every_months"] for t in
            ("half-monthly", "quarterly", "half-yearly", "yearly")] == [15, 3, 6, 12]

    yearly = await api.client.post("/api/v1/maintenance/plans/from-template", headers=auth,
                                   json={"asset_id": w.asset_b2, "template": "yearly",
                                         "first_due": "2027-03-01T09:00:00+08:00",
                                         "every_run_hours": 2000})
    by_hand = await api.client.post("/api/v1/maintenance/plans", headers=auth, json={
        "asset_id": w.asset_b2, "name": "15 天或 5,000 次 15 days or 5,000 trips",
        "checklist": ["门锁 door locks", "制动器 brake"], "every_days": 15,
        "every_trips": 5000, "anchor": "completion", "first_due": "2026-12-01T09:00:00+08:00",
        "lead_hours": 24})
    assert (yearly.status_code, by_hand.status_code) == (201, 201), yearly.text + by_hand.text
    plan = (await api.client.get(f"/api/v1/maintenance/plans/{yearly.json()['id']}",
                                 headers=auth)).json()
    assert plan["checklist"] == templates["yearly"]["items"]
    assert plan["checklist"][:len(templates["half-monthly"]["items"])] == \
        templates["half-monthly"]["items"]
    assert (plan["next_due"], plan["every_months"], plan["every_run_hours"], plan["template"],
            plan["lead_hours"]) == ("2027-03-01T01:00:00Z", 12, 2000, "yearly", 336)

    changed = await api.client.patch(f"/api/v1/maintenance/plans/{by_hand.json()['id']}",
                                     headers=auth, json={"lead_hours": 48, "active": False})
    listed = await api.client.get("/api/v1/maintenance/plans",
                                  params={"asset_id": w.asset_b2}, headers=auth)
    runs = await api.client.get(f"/api/v1/maintenance/plans/{w.plan_b1}/runs", headers=auth)
    assert changed.status_code == 204
    assert [(p["lead_hours"], p["active"]) for p in listed.json()["items"]] == [
        (336, True), (48, False)]
    assert runs.json()["items"] == []


async def test_plans_for_every_asset_of_a_type_skip_those_that_have_one(api: Api) -> None:
    w = api.world
    body = {"site_id": w.lakeside, "category": "elevator", "template": "half-monthly",
            "first_due": "2026-12-10T09:00:00+08:00", "every_trips": 5000}

    first = await api.client.post("/api/v1/maintenance/plans/for-category",
                                  headers=w.auth("manager"), json=body)
    again = await api.client.post("/api/v1/maintenance/plans/for-category",
                                  headers=w.auth("manager"), json=body)
    foreign = await api.client.post("/api/v1/maintenance/plans/for-category",
                                    headers=w.auth("river-manager"), json=body)
    listed = await api.client.get("/api/v1/maintenance/plans", params={"site_id": w.lakeside},
                                  headers=w.auth("manager"))

    assert first.status_code == 201 and again.status_code == 201
    [made] = first.json()["ids"]  # Building 1's lift has its half-monthly plan already
    assert again.json()["ids"] == []
    assert foreign.status_code == 404
    assert [(p["asset_id"], p["template"]) for p in listed.json()["items"]] == [
        (w.asset_b1, "half-monthly"), (w.asset_b2, "half-monthly")]
    assert listed.json()["items"][1]["id"] == made


async def test_bad_plans_are_refused_naming_the_field(api: Api) -> None:
    w = api.world
    auth = w.auth("manager")
    base = {"asset_id": w.asset_b1, "name": "月检", "checklist": ["润滑 lubricate"],
            "every_days": 30, "first_due": "2027-01-01T09:00:00+08:00"}
    cases = [
        ({**base, "every_months": 1}, "every_months"),
        ({**base, "every_days": None, "first_due": None}, "every_days"),
        ({**base, "first_due": None}, "first_due"),
        ({**base, "first_due": "2027-01-01T09:00:00"}, "body.first_due"),  # no offset
        ({**base, "checklist": []}, "body.checklist"),
        ({**base, "checklist": ["a", "a"]}, "checklist"),
        ({**base, "lead_hours": 100_000}, "body.lead_hours"),
        ({**base, "every_trips": 0}, "body.every_trips"),
    ]
    for body, field in cases:
        response = await api.client.post("/api/v1/maintenance/plans", headers=auth, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["field"] == field, (body, response.text)
    unknown = await api.client.post("/api/v1/maintenance/plans/from-template", headers=auth,
                                    json={"asset_id": w.asset_b1, "template": "weekly",
                                          "first_due": "2027-01-01T09:00:00+08:00"})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "template"
    assert "half-monthly" in unknown.json()["error"]["message"]
    for patch, field in (({"next_due": None}, "body.next_due"),
                         ({"lead_hours": None}, "body.lead_hours")):
        response = await api.client.patch(f"/api/v1/maintenance/plans/{w.plan_b1}",
                                          headers=auth, json=patch)
        assert response.status_code == 422 and response.json()["error"]["field"] == field
    # Riverside's quarterly plan has no usage trigger; Building 1's drops its own.
    dropped = await api.client.patch(f"/api/v1/maintenance/plans/{w.plan_b1}", headers=auth,
                                     json={"every_trips": None})
    assert dropped.status_code == 204
    before = (await api.client.get(f"/api/v1/maintenance/plans/{w.plan_b1}",
                                   headers=auth)).json()
    cleared = await api.client.patch(f"/api/v1/maintenance/plans/{w.plan_b1}", headers=auth,
                                     json={"checklist": ["x", "x"]})
    after = (await api.client.get(f"/api/v1/maintenance/plans/{w.plan_b1}",
                                  headers=auth)).json()
    assert cleared.status_code == 422 and after == before
    assert after["every_trips"] is None and after["every_days"] == 15


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def test_a_due_plan_becomes_a_real_work_order_and_its_resolution_schedules_the_next(
        template: tuple[Path, World], tmp_path: Path) -> None:
    """With the work-order module's own handlers: the scheduler's RaiseFault opens a planned
    order (P3, checklist, due time); the technician claims, starts and resolves it with its
    checklist; the plan records the service and the next due date. The hub's clock is the
    test's (the work orders take their times from it)."""
    folder, w = template
    shutil.copy(folder / "hub.db", tmp_path / "hub.db")
    clock = Clock(datetime(2026, 11, 29, 9, 0, tzinfo=UTC))
    hub = bootstrap(api_settings(tmp_path), clock=clock)
    tech = Actor(w.accounts["tech"], Role.MAINTENANCE, whole_sites=frozenset({w.lakeside}))
    try:
        done = await run_due_maintenance(hub.bus, hub.uow, clock.now)  # 48 h before due
        assert done.opened == [w.plan_b1, w.plan_river]  # riverside's quarterly: 72 h before
        async with hub.uow() as uow:
            [order] = await uow.find(WorkOrder, asset_id=w.asset_b1)
            plan = await uow.get(MaintenancePlan, w.plan_b1)
            assert plan is not None and order.id is not None
            items, order_id = list(plan.checklist), order.id
        assert (order.source, order.priority, order.fault, order.due_at) == (
            OrderSource.MAINTENANCE_PLAN, Priority.P3, f"plan:{w.plan_b1}",
            datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
        assert order.checklist == items and plan.order_id == order_id

        clock.now = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
        await hub.bus.handle(ActOnOrder(tech, order_id, Action.CLAIM))
        await hub.bus.handle(ActOnOrder(tech, order_id, Action.START))
        await hub.bus.handle(ResolveOrder(tech, order_id, {
            item: i != 2 for i, item in enumerate(items)}))

        async with hub.uow() as uow:
            plan = await uow.get(MaintenancePlan, w.plan_b1)
            [run] = await uow.find(MaintenanceRun, plan_id=w.plan_b1)
            assert plan is not None
            assert (plan.next_due, plan.order_id, plan.requested_at) == (
                datetime(2026, 12, 16, 9, 0, tzinfo=UTC), None, None)
            assert (run.order_id, run.trigger, run.completed_at) == (
                order_id, "calendar", clock.now)
            assert [done for _, done in run.checklist] == [i != 2 for i in range(len(items))]
            events = await uow.find(AssetEvent, asset_id=w.asset_b1)
        assert [(e.order_id, e.change, e.source) for e in events] == [
            (order_id, "opened", "maintenance_plan"), (order_id, "resolved", "maintenance_plan")]
    finally:
        await hub.close()
