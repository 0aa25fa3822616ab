"""Shared by the security tests: the app's routes, ids to fill them with, and database snapshots."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from hub.api.app import create_app
from hub.bootstrap import bootstrap
from hub.domain.accounts import Role
from hub.store.tables import audit_log, metadata, residencies
from tests.integration.api.conftest import Api, api_settings
from tests.integration.api.world import ALICE_ID, PASSWORD, World

Route = tuple[str, str]  # (method, path format)
Snapshot = dict[str, list[tuple[Any, ...]]]

PARAM = re.compile(r"{(\w+)}")

# One signed-in account per role, each granted the whole of lakeside (or living in unit A).
ROLE_USERS: dict[Role, str] = {
    Role.ADMIN: "admin", Role.MANAGER: "manager", Role.FINANCE: "finance",
    Role.MAINTENANCE: "tech", Role.SERVICE_DESK: "desk", Role.SECURITY: "guard",
    Role.RESIDENT: "alice",
}
LOGOUT: Route = ("POST", "/api/v1/auth/logout")


def app_routes(app: FastAPI) -> list[Route]:
    """Every (method, path) the app answers, HEAD aside, in the order the app declares them."""
    found: list[Route] = []
    for context in iter_route_contexts(app.routes):
        for method in sorted(context.methods or ()):
            if method != "HEAD" and context.path_format:
                found.append((method, context.path_format))
    return found


def path_params(path: str) -> list[str]:
    return PARAM.findall(path)


def fill(path: str, ids: Mapping[str, int]) -> str:
    return PARAM.sub(lambda m: str(ids[m.group(1)]), path)


def own_ids(w: World) -> dict[str, int]:
    """Ids every lakeside role (and alice, of household A) may see: scope never masks policy."""
    return {"site_id": w.lakeside, "building_id": w.b1, "unit_id": w.unit_a,
            "resident_id": w.alice, "residency_id": w.residency_alice,
            "account_id": w.accounts["finance"], "device_id": w.lift_b1,
            "asset_id": w.asset_b1, "plan_id": w.plan_b1,
            "bill_id": w.bill_a, "payment_id": w.payment_a, "fee_item_id": w.fee_lakeside,
            "order_id": w.order_alice, "tariff_id": w.tariff_lakeside,
            "announcement_id": w.ann_b1, "notification_id": w.note_alice,
            "door_id": w.door_lakeside, "credential_id": w.credential_a,
            "visitor_pass_id": w.visitor_pass_a,
            "lot_id": w.lot_lakeside, "lane_id": w.lane_lakeside, "space_id": w.space_a,
            "vehicle_id": w.vehicle_a, "monthly_pass_id": w.monthly_pass_a,
            "list_entry_id": w.list_entry_lakeside,
            "session_id": w.session_a,
            "complaint_id": w.complaint_a, "photo_no": 1, "decision_id": w.decision_lakeside}


def bodies(w: World, ids: Mapping[str, int], username: str) -> dict[Route, dict[str, Any]]:
    """A valid body per route, built from ids the caller may use, so a wrong answer shows."""
    return {
        ("POST", "/api/v1/auth/login"): {"username": username, "password": PASSWORD},
        ("POST", "/api/v1/auth/refresh"): {"refresh_token": w.refresh_tokens[username]},
        ("POST", "/api/v1/sites"): {"code": "hilltop", "name": "Hilltop Villas"},
        ("PATCH", "/api/v1/sites/{site_id}"): {"address": "1 Lake Road"},
        ("POST", "/api/v1/buildings"): {"site_id": ids["site_id"], "code": "b9",
                                        "name": "Building 9", "floors": 12},
        ("PATCH", "/api/v1/buildings/{building_id}"): {"name": "Building One"},
        ("POST", "/api/v1/units"): {"building_id": ids["building_id"], "number": "9-0101",
                                    "floor": 1, "gross_area": "60.00", "inner_area": "50.00"},
        ("PATCH", "/api/v1/units/{unit_id}"): {"layout": "2室1厅1卫"},
        ("POST", "/api/v1/residents"): {"site_id": ids["site_id"], "name": "赵敏"},
        ("POST", "/api/v1/residents/lookup"): {"national_id": ALICE_ID},
        ("PATCH", "/api/v1/residents/{resident_id}"): {"phone": "13800000000"},
        ("POST", "/api/v1/residents/{resident_id}/reveal"): {"reason": "court order 2024-17"},
        ("POST", "/api/v1/residents/{resident_id}/residencies"): {
            "unit_id": ids["unit_id"], "relation": "family", "moved_in": "2024-01-01"},
        ("POST", "/api/v1/residencies/{residency_id}/end"): {"moved_out": "2099-01-01"},
        ("POST", "/api/v1/staff"): {"username": f"new-{username}", "password": "long-enough-pw",
                                    "role": "service_desk",
                                    "grants": [{"site_id": ids["site_id"]}]},
        ("PATCH", "/api/v1/staff/{account_id}"): {"display_name": "Renamed"},
        ("POST", "/api/v1/devices"): {"site_id": ids["site_id"], "code": "lamp-99",
                                      "kind": "light"},
        ("PATCH", "/api/v1/devices/{device_id}"): {"name": "Lift B1"},
        ("POST", "/api/v1/work-orders"): {"site_id": ids["site_id"], "title": "Lobby light out",
                                          "category": "lighting",
                                          "building_id": ids["building_id"]},
        ("PUT", "/api/v1/work-orders/roster"): {"site_id": ids["site_id"],
                                                "account_id": ids["account_id"],
                                                "skills": ["elevator"], "on_duty": True},
        ("POST", "/api/v1/work-orders/{order_id}/assign"): {"assignee_id": ids["account_id"]},
        ("POST", "/api/v1/work-orders/{order_id}/transfer"): {"assignee_id": ids["account_id"]},
        ("POST", "/api/v1/work-orders/{order_id}/pause"): {"reason": "waiting for a part"},
        ("POST", "/api/v1/work-orders/{order_id}/cancel"): {"reason": "duplicate"},
        ("POST", "/api/v1/work-orders/{order_id}/return"): {"reason": "not my trade"},
        ("POST", "/api/v1/work-orders/{order_id}/reopen"): {"reason": "still dripping"},
        ("POST", "/api/v1/work-orders/{order_id}/resolve"): {"note": "washer replaced"},
        ("POST", "/api/v1/work-orders/{order_id}/notes"): {"text": "called the household"},
        ("POST", "/api/v1/work-orders/{order_id}/materials"): {"name": "washer", "quantity": "1",
                                                               "unit_price": "2.50"},
        ("POST", "/api/v1/me/repairs/{order_id}/confirm"): {"rating": 5},
        ("POST", "/api/v1/announcements"): {"site_id": ids["site_id"], "title": "Water off",
                                            "publish": True},
        ("PATCH", "/api/v1/announcements/{announcement_id}"): {"pinned": True},
        ("PUT", "/api/v1/me/notification-preferences"): {"channels": {"alert": ["sms"]}},
        ("POST", "/api/v1/me/complaints/{complaint_id}/rate"): {"satisfaction": 4},
        ("POST", "/api/v1/complaints/{complaint_id}/reply"): {"body": "On our way."},
        ("POST", "/api/v1/complaints/{complaint_id}/status"): {"status": "in_progress"},
        ("POST", "/api/v1/fee-items"): {"site_id": ids["site_id"], "code": "bins",
                                        "name": "垃圾清运费", "kind": "fixed",
                                        "unit_price": "10.00", "effective_from": "2026-01-01"},
        ("PATCH", "/api/v1/fee-items/{fee_item_id}"): {"name": "物业服务费"},
        ("POST", "/api/v1/fee-items/{fee_item_id}/prices"): {"effective_from": "2099-01-01",
                                                             "unit_price": "2.80"},
        ("POST", "/api/v1/discounts"): {"site_id": ids["site_id"], "name": "loyalty",
                                        "kind": "percentage", "percent": "5"},
        ("POST", "/api/v1/meter-readings"): {"unit_id": ids["unit_id"], "meter": "water",
                                             "value": "12.5", "read_on": "2026-11-30"},
        ("POST", "/api/v1/billing/preview"): {"site_id": ids["site_id"], "period": "2026-11",
                                              "fee_item_ids": [ids["fee_item_id"]]},
        ("POST", "/api/v1/billing/runs"): {"site_id": ids["site_id"], "period": "2026-11",
                                           "fee_item_ids": [ids["fee_item_id"]]},
        ("POST", "/api/v1/bills/{bill_id}/write-off"): {"reason": "hardship 2026",
                                                        "amount": "1.00"},
        # Payment POSTs need an Idempotency-Key header, which the walks do not send: a 422.
        ("POST", "/api/v1/payments"): {"unit_id": ids["unit_id"], "amount": "10.00",
                                       "channel": "cash"},
        ("POST", "/api/v1/payments/{payment_id}/refund"): {"amount": "1.00",
                                                           "reason": "charged twice"},
        ("POST", "/api/v1/me/bills/{bill_id}/pay"): {},
        # One second: with a real gateway and no broker, a command waits until it expires.
        ("POST", "/api/v1/devices/{device_id}/commands"): {"action": "open", "expires_in": 1},
        ("POST", "/api/v1/assets"): {"site_id": ids["site_id"], "code": "pump-1",
                                     "name": "生活水泵 1 water pump", "category": "pump",
                                     "area": "地下泵房 basement pump room"},
        ("PATCH", "/api/v1/assets/{asset_id}"): {"supplier": "Acme Pumps"},
        ("POST", "/api/v1/maintenance/plans"): {
            "asset_id": ids["asset_id"], "name": "月检 monthly check",
            "checklist": ["润滑 lubricate"], "every_months": 1,
            "first_due": "2027-01-01T09:00:00+08:00"},
        ("POST", "/api/v1/maintenance/plans/from-template"): {
            "asset_id": ids["asset_id"], "template": "yearly",
            "first_due": "2027-06-01T09:00:00+08:00"},
        ("PATCH", "/api/v1/maintenance/plans/{plan_id}"): {"lead_hours": 24},
        ("POST", "/api/v1/parking/tariffs"): {
            "site_id": ids["site_id"], "code": f"t-{username}", "name": "月租 monthly",
            "effective_from": "2026-01-01T00:00:00+08:00",
            "rules": {"mode": "per_entry", "entry_price": "10.00"}},
        ("POST", "/api/v1/parking/tariffs/{tariff_id}/versions"): {
            "effective_from": "2099-01-01T00:00:00+08:00", "rules": {"unit_price": "3.00"}},
        ("POST", "/api/v1/parking/tariffs/{tariff_id}/quote"): {
            "entry": "2026-11-27T09:00:00+08:00", "exit": "2026-11-27T11:40:00+08:00"},
        ("POST", "/api/v1/units/{unit_id}/ownership"): {
            "on": "2026-01-15", "reason": "sale", "document_ref": "HT-2026-0115",
            "owners": [{"resident_id": ids["resident_id"], "share": "100"}]},
        ("POST", "/api/v1/units/{unit_id}/leases"): {
            "tenant_ids": [ids["resident_id"]], "starts_on": "2030-01-01",
            "ends_on": "2031-01-01", "monthly_rent": "6500.00", "document_ref": "ZL-2030-001"},
        ("POST", "/api/v1/units/{unit_id}/move-in"): {
            "resident_id": ids["resident_id"], "relation": "family", "moved_in": "2024-01-01"},
        ("POST", "/api/v1/units/{unit_id}/move-out"): {
            "resident_ids": [ids["resident_id"]], "moved_out": "2099-01-01"},
        ("POST", "/api/v1/parking/lots"): {"site_id": ids["site_id"], "code": f"lot-{username}",
                                           "name": "地下二层 B2", "temporary_capacity": 5},
        ("PATCH", "/api/v1/parking/lots/{lot_id}"): {"temporary_capacity": 25},
        ("POST", "/api/v1/parking/lanes"): {
            "lot_id": ids["lot_id"], "code": f"in-{username}", "direction": "in",
            "camera_device_id": w.camera_lakeside, "barrier_device_id": w.gate_lakeside},
        ("PATCH", "/api/v1/parking/lanes/{lane_id}"): {"plate_colors": ["blue", "green"]},
        ("POST", "/api/v1/parking/spaces"): {"lot_id": ids["lot_id"], "code": f"P-{username}",
                                             "kind": "public"},
        ("PATCH", "/api/v1/parking/spaces/{space_id}"): {"code": "B1-A1"},
        ("POST", "/api/v1/parking/vehicles"): {"unit_id": ids["unit_id"],
                                               "plate": _plate_of(username)},
        ("PATCH", "/api/v1/parking/vehicles/{vehicle_id}"): {"note": "white Model Y"},
        ("POST", "/api/v1/parking/passes"): {"site_id": ids["site_id"],
                                             "plate": _plate_of(username),
                                             "valid_from": "2026-12-01",
                                             "valid_to": "2026-12-31"},
        ("PATCH", "/api/v1/parking/passes/{monthly_pass_id}"): {"grace_days": 5},
        ("POST", "/api/v1/parking/lists"): {"site_id": ids["site_id"], "list": "white",
                                            "plate": _plate_of(username),
                                            "reason": "业委会 owners' committee"},
        ("PATCH", "/api/v1/parking/lists/{list_entry_id}"): {"reason": "unpaid fees"},
        ("POST", "/api/v1/access/doors"): {"device_id": ids["device_id"], "name": "lift door"},
        ("POST", "/api/v1/access/doors/{door_id}/open"): {"reason": "courier at the door"},
        ("POST", "/api/v1/access/credentials"): {
            "resident_id": ids["resident_id"], "card": f"{sum(map(ord, username)):08X}"},
        ("POST", "/api/v1/access/visitor-passes/{visitor_pass_id}/approve"): {"note": "ok"},
        ("POST", "/api/v1/access/visitor-passes/{visitor_pass_id}/reject"): {},
        ("POST", "/api/v1/access/verify"): {"code": "QR:V-1-AAAAAAAAAAAAAAAA"},
        ("POST", "/api/v1/me/visitor-passes"): {
            "visitor_name": "快递 courier", "valid_from": "2099-01-01T09:00:00+08:00",
            "valid_until": "2099-01-01T18:00:00+08:00"},
        ("POST", "/api/v1/parking/sessions/{session_id}/close"): {"reason": "left unseen"},
        ("POST", "/api/v1/parking/sessions/{session_id}/cash"): {"amount": "7.00"},
        ("POST", "/api/v1/parking/lanes/{lane_id}/open"): {"reason": "visitor's plate unread"},
        ("POST", "/api/v1/maintenance/plans/for-category"): {
            "site_id": ids["site_id"], "category": "elevator", "template": "half-yearly",
            "first_due": "2027-06-01T09:00:00+08:00"},
    }


def _plate_of(username: str) -> str:
    """A plate of the caller's own, so that one caller's new vehicle is no other's."""
    return f"沪D{sum(map(ord, username)) % 100000:05d}"


async def call(client: httpx.AsyncClient, route: Route, url: str, headers: Mapping[str, str],
               body: dict[str, Any] | None) -> httpx.Response:
    method, path = route
    if path == "/api/v1/auth/login":
        return await client.request(method, url, headers=headers, data=body)
    if path.endswith("/stream"):  # a live stream ends when asked to: at once
        url += "?max_s=0"
    return await client.request(method, url, headers=headers, json=body)


async def snapshot(api: Api, skip: frozenset[str] = frozenset()) -> Snapshot:
    """Every row of every table (those in `skip` aside), ordered by primary key."""
    taken: Snapshot = {}
    async with api.hub.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in skip:
                continue
            query = select(table).order_by(*table.primary_key.columns)
            taken[table.name] = [tuple(row) for row in await connection.execute(query)]
    return taken


async def residency_of(api: Api, resident_id: int) -> int:
    async with api.hub.engine.connect() as connection:
        found = await connection.scalar(select(residencies.c.id).where(
            residencies.c.resident_id == resident_id).order_by(residencies.c.id))
    assert found is not None
    return int(found)


async def audit_rows(api: Api, action: str | None = None) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.id)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    async with api.hub.engine.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(query)]


@asynccontextmanager
async def api_with(template: tuple[Path, World], tmp_path: Path,
                   **overrides: object) -> AsyncIterator[Api]:
    """Like the `api` fixture, on a copy of the seeded world, with some settings changed."""
    folder, world = template
    shutil.copy(folder / "hub.db", tmp_path / "hub.db")
    settings = api_settings(tmp_path, **overrides)
    hub = bootstrap(settings)
    app = create_app(settings, hub)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
            yield Api(app, hub, client, world, settings, tmp_path / "hub.db")
    finally:
        await hub.close()
