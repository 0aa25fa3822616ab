"""The device API as staff use it: registry, status, commands, dead letters; scoped by site
and building, refused to residents, bad input named.

The hub here is wired as the composition root is asked to wire it: the device handlers on
the bus with a device gateway (a fake gate that answers as told), the SQL command log, and
the ingestion pipeline told of registry changes.
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.api.app import create_app
from hub.bootstrap import bootstrap
from hub.bus import MessageBus
from hub.domain.device_commands import CommandStatus, DeviceCommand
from hub.domain.observations import (
    CommandAcknowledged,
    DeviceKey,
    Envelope,
    Rejected,
    Telemetry,
)
from hub.handlers import devices as device_handlers
from hub.ingest.command_log import SqlCommandLog
from hub.ingest.pipeline import IngestPipeline
from hub.settings import IngestSettings
from hub.store.device_tables import devices
from hub.store.tables import audit_log
from tests.integration.api.conftest import Api, api_settings
from tests.integration.api.world import World
from tests.integration.ingest.conftest import running, until

LIFT_B1 = DeviceKey("lakeside", "elevator", "lift-b1")
LIFT_RIVER = DeviceKey("riverside", "elevator", "lift-r1")
STAFF_READERS = ("admin", "manager", "tech", "desk", "guard")


@dataclass
class FakeGate:
    """A DeviceGateway whose devices answer as the test says."""

    status: CommandStatus = CommandStatus.ACKED
    sent: list[DeviceCommand] = field(default_factory=list)

    async def send(self, command: DeviceCommand) -> CommandStatus:
        self.sent.append(command)
        return self.status


@dataclass
class DevicesApi:
    api: Api
    gate: FakeGate
    pipeline: IngestPipeline
    registry_changes: list[int]

    @property
    def w(self) -> World:
        return self.api.world

    async def get(self, username: str, url: str, **params: Any) -> httpx.Response:
        return await self.api.client.get(url, params=params, headers=self.w.auth(username))

    async def send(self, method: str, username: str, url: str,
                   body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.api.client.request(method, url, json=body,
                                             headers=self.w.auth(username))

    async def ingest(self, *items: Telemetry | CommandAcknowledged | Rejected) -> None:
        """Through the real pipeline; committed before this returns."""
        target = self.pipeline.stats.items + len(items)
        for item in items:
            await self.pipeline.put(item)
        async with running(self.pipeline):
            await until(lambda: self.pipeline.stats.items >= target, "stored")


def _inject(handler: Callable[..., Any], dependencies: dict[str, Any]) -> Any:
    wanted = inspect.signature(handler).parameters
    return partial(handler, **{k: v for k, v in dependencies.items() if k in wanted})


@pytest.fixture
async def dev(template: tuple[Path, World], tmp_path: Path) -> AsyncIterator[DevicesApi]:
    folder, world = template
    shutil.copy(folder / "hub.db", tmp_path / "hub.db")
    settings = api_settings(tmp_path)
    hub = bootstrap(settings)
    gate = FakeGate()
    pipeline = IngestPipeline(hub.engine, IngestSettings(batch_max_ms=0), hub.clock)
    changes: list[int] = []
    dependencies = {"clock": hub.clock, "gateway": gate, "command_log": SqlCommandLog(hub.engine),
                    "registry_changed": lambda: changes.append(1)}
    devices_bus = MessageBus(hub.uow, {kind: _inject(h, dependencies) for kind, h in
                                       device_handlers.COMMAND_HANDLERS.items()}, {})
    hub.bus = _Both(devices_bus, hub.bus)  # type: ignore[assignment]
    app = create_app(settings, hub)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as client:
        yield DevicesApi(Api(app, hub, client, world, settings, tmp_path / "hub.db"), gate,
                         pipeline, changes)
    await hub.close()


class _Both:
    """The device handlers first, the rest of the bus after."""

    def __init__(self, devices_bus: MessageBus, rest: MessageBus) -> None:
        self._devices, self._rest = devices_bus, rest

    async def handle(self, command: object) -> Any:
        if type(command) in device_handlers.COMMAND_HANDLERS:
            return await self._devices.handle(command)
        return await self._rest.handle(command)


def _reading(key: DeviceKey, seq: int, at_s: int = 0, **metrics: float | int | str) -> Telemetry:
    at = T0 + timedelta(seconds=at_s)
    return Telemetry(Envelope(key, received_at=at, ts=at, seq=seq, boot="boot-a"), metrics)


T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def _ids(response: httpx.Response) -> set[int]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


# -- the registry ---------------------------------------------------------------------------

async def test_staff_list_the_devices_of_their_sites_and_buildings(dev: DevicesApi) -> None:
    w = dev.w
    # The world's lifts and gate, and the doors (of b1 and r1) and cameras its access and
    # parking seeds add (riverside's lane has a gate of its own).
    lakeside = {w.lift_b1, w.lift_b2, w.gate_lakeside, w.door_device_lakeside,
                w.camera_lakeside}
    riverside = {w.lift_river, w.door_device_river, w.camera_river, w.gate_river}
    seen = {user: await _ids(await dev.get(user, "/api/v1/devices"))
            for user in (*STAFF_READERS, "river-manager", "b2-tech")}
    assert seen == {"admin": lakeside | riverside, "manager": lakeside, "tech": lakeside,
                    "desk": lakeside, "guard": lakeside, "river-manager": riverside,
                    "b2-tech": {w.lift_b2}}  # a building grant shows no site-wide gate


async def test_residents_and_finance_are_refused_devices_and_dead_letters(
        dev: DevicesApi) -> None:
    for user in ("alice", "bob", "finance"):
        for url in ("/api/v1/devices", f"/api/v1/devices/{dev.w.lift_b1}",
                    f"/api/v1/devices/{dev.w.lift_b1}/status", "/api/v1/dead-letters"):
            response = await dev.get(user, url)
            assert response.status_code == 403, (user, url)
            assert "lift-b1" not in response.text


async def test_filters_narrow_the_list(dev: DevicesApi) -> None:
    w = dev.w
    await dev.ingest(_reading(LIFT_B1, 1, floor=3))
    assert await _ids(await dev.get("manager", "/api/v1/devices", kind="gate")) == {
        w.gate_lakeside}
    assert await _ids(await dev.get("manager", "/api/v1/devices", building_id=w.b2)) == {
        w.lift_b2}
    assert await _ids(await dev.get("admin", "/api/v1/devices", site_id=w.riverside)) == {
        w.lift_river, w.door_device_river, w.camera_river, w.gate_river}
    assert await _ids(await dev.get("manager", "/api/v1/devices", online="true")) == {
        w.lift_b1}
    assert await _ids(await dev.get("manager", "/api/v1/devices", online="false")) == {
        w.lift_b2, w.gate_lakeside, w.door_device_lakeside, w.camera_lakeside}
    assert await _ids(await dev.get("manager", "/api/v1/devices", approval="pending")) == set()
    assert await _ids(await dev.get("river-manager", "/api/v1/devices",
                                    site_id=w.lakeside)) == set()


async def test_a_manager_registers_a_modbus_lift_which_is_audited(dev: DevicesApi) -> None:
    w = dev.w
    body = {"site_id": w.lakeside, "code": "b2-lift-2", "kind": "elevator",
            "building_id": w.b2, "name": "2号楼 2号电梯", "protocol": "modbus",
            "connection": {"host": "127.0.0.1", "port": 15020, "unit": 2},
            "register_map": "elevator-std", "timeout_s": 30, "tags": ["goods"]}
    created = await dev.send("POST", "manager", "/api/v1/devices", body)
    assert created.status_code == 201, created.text
    device_id = created.json()["id"]
    shown = (await dev.get("tech", f"/api/v1/devices/{device_id}")).json()
    assert (shown["code"], shown["approval"], shown["online"], shown["connection"]["unit"],
            shown["tags"]) == ("b2-lift-2", "active", None, 2, ["goods"])
    again = await dev.send("POST", "manager", "/api/v1/devices", body)
    assert (again.status_code, again.json()["error"]["field"]) == (409, "code")
    async with dev.api.hub.engine.connect() as connection:
        audits = (await connection.execute(select(audit_log.c.action, audit_log.c.target,
                                                  audit_log.c.detail).where(
            audit_log.c.action == "device_changed"))).all()
    assert audits == [("device_changed", f"device:{device_id}",
                       {"change": "registered", "kind": "elevator"})]
    assert dev.registry_changes == [1]


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "Lift!"}, "body.kind"),
    ({"code": "B2_LIFT"}, "body.code"),
    ({"protocol": "modbus"}, "register_map"),
    ({"protocol": "modbus", "register_map": "elevator-std",
      "connection": {"host": "127.0.0.1", "port": 70000}}, "body.connection.port"),
    ({"timeout_s": 2}, "body.timeout_s"),
    ({"approval": "active"}, "body.approval"),
    ({"building_id": 0}, "body.building_id"),
])
async def test_bad_registrations_are_refused_naming_the_field(
        dev: DevicesApi, change: dict[str, Any], field: str) -> None:
    body = {"site_id": dev.w.lakeside, "code": "lamp-9", "kind": "light", **change}
    response = await dev.send("POST", "admin", "/api/v1/devices", body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


async def test_a_device_cannot_be_registered_or_moved_outside_the_callers_scope(
        dev: DevicesApi) -> None:
    w = dev.w
    into_lakeside = await dev.send("POST", "river-manager", "/api/v1/devices", {
        "site_id": w.lakeside, "code": "spy-cam", "kind": "camera"})
    into_b1 = await dev.send("POST", "river-manager", "/api/v1/devices", {
        "site_id": w.riverside, "code": "spy-cam", "kind": "camera", "building_id": w.b1})
    moved = await dev.send("PATCH", "manager", f"/api/v1/devices/{w.lift_b1}",
                           {"building_id": w.r1})
    assert (into_lakeside.status_code, into_b1.status_code, moved.status_code) == (
        404, 404, 404)


async def test_a_manager_renames_disables_and_approves_a_device(dev: DevicesApi) -> None:
    w = dev.w
    url = f"/api/v1/devices/{w.gate_lakeside}"
    renamed = await dev.send("PATCH", "manager", url, {"name": "北门道闸 North gate"})
    disabled = await dev.send("PATCH", "manager", url, {"approval": "disabled"})
    state_disabled = (await dev.get("manager", url)).json()["approval"]
    approved = await dev.send("POST", "manager", f"{url}/approve")
    shown = (await dev.get("manager", url)).json()
    assert (renamed.status_code, disabled.status_code, approved.status_code) == (204, 204, 204)
    assert (state_disabled, shown["approval"], shown["name"]) == (
        "disabled", "active", "北门道闸 North gate")
    assert len(dev.registry_changes) == 3
    nothing = await dev.send("PATCH", "manager", url, {})
    null_name = await dev.send("PATCH", "manager", url, {"name": None})
    assert (nothing.status_code, null_name.status_code) == (422, 422)
    assert null_name.json()["error"]["field"] == "body.name"


async def test_an_auto_registered_device_waits_until_approved(dev: DevicesApi) -> None:
    w = dev.w
    async with dev.api.hub.engine.begin() as connection:
        pending = await connection.scalar(devices.insert().values(
            site_id=w.lakeside, building_id=None, code="lamp-07", kind="light", name="",
            protocol="mqtt", connection={}, poll_period_s=1.0, timeout_s=300,
            approval="pending", tags=[]).returning(devices.c.id))
    listed = await _ids(await dev.get("manager", "/api/v1/devices", approval="pending"))
    approved = await dev.send("POST", "manager", f"/api/v1/devices/{pending}/approve")
    assert listed == {pending}
    assert approved.status_code == 204
    assert (await dev.get("manager", f"/api/v1/devices/{pending}")).json()["approval"] == \
        "active"


# -- status ---------------------------------------------------------------------------------

async def test_status_shows_online_last_values_errors_and_gaps(dev: DevicesApi) -> None:
    w = dev.w
    await dev.ingest(_reading(LIFT_B1, 1, 0, floor=1, door="closed"),
                     _reading(LIFT_B1, 2, 1, floor=2),
                     _reading(LIFT_B1, 6, 5, floor=6),
                     Rejected("estate/lakeside/elevator/lift-b1/event", "bad_json", "{fault",
                              T0, LIFT_B1))
    status = (await dev.get("tech", f"/api/v1/devices/{w.lift_b1}/status")).json()
    assert (status["online"], status["boot"], status["last_seq"]) == (True, "boot-a", 6)
    assert status["last_seen"].startswith("2026-11-27T09:00:05")
    assert {m: v["value"] for m, v in status["last_values"].items()} == {"floor": 6,
                                                                         "door": "closed"}
    assert status["errors"] == {"bad_json": 1}
    assert (status["gaps"]["count"], status["gaps"]["missing"]) == (1, 3)
    assert status["gaps"]["recent"][0]["first_missing"] == 3
    quiet = (await dev.get("guard", f"/api/v1/devices/{w.gate_lakeside}/status")).json()
    assert (quiet["online"], quiet["last_values"], quiet["gaps"]["count"]) == (None, {}, 0)


async def test_status_of_a_device_out_of_scope_is_not_found(dev: DevicesApi) -> None:
    w = dev.w
    for user, device in (("river-manager", w.lift_b1), ("b2-tech", w.lift_b1),
                         ("b2-tech", w.gate_lakeside), ("manager", w.lift_river)):
        response = await dev.get(user, f"/api/v1/devices/{device}/status")
        assert response.status_code == 404, (user, device)


# -- commands -------------------------------------------------------------------------------

async def test_a_manager_opens_the_gate_and_the_command_is_stored_and_audited(
        dev: DevicesApi) -> None:
    w = dev.w
    url = f"/api/v1/devices/{w.gate_lakeside}/commands"
    response = await dev.send("POST", "manager", url, {"action": "open", "expires_in": 20,
                                                       "args": {"lane": "north"}})
    assert response.status_code == 202, response.text
    body = response.json()
    sent = dev.gate.sent[0]
    assert (body["id"], body["status"], body["action"], body["args"]) == (
        sent.id, "acked", "open", {"lane": "north"})
    assert (sent.key, sent.expires_at - sent.issued_at) == (
        DeviceKey("lakeside", "gate", "gate-north"), timedelta(seconds=20))
    listed = (await dev.get("guard", url)).json()
    assert [c["id"] for c in listed["items"]] == [sent.id]
    async with dev.api.hub.engine.connect() as connection:
        audits = (await connection.execute(select(audit_log.c.actor_id, audit_log.c.detail)
                                           .where(audit_log.c.action == "device_command"))).all()
    assert audits == [(w.accounts["manager"], {"action": "open", "command": sent.id})]


async def test_the_devices_own_ack_settles_a_command_that_timed_out(dev: DevicesApi) -> None:
    w = dev.w
    dev.gate.status = CommandStatus.NO_ACK
    url = f"/api/v1/devices/{w.gate_lakeside}/commands"
    response = await dev.send("POST", "admin", url, {"action": "close"})
    assert response.json()["status"] == "no_ack"
    command_id = response.json()["id"]
    gate = DeviceKey("lakeside", "gate", "gate-north")
    await dev.ingest(CommandAcknowledged(Envelope(gate, received_at=T0), command_id, ok=True),
                     CommandAcknowledged(Envelope(LIFT_B1, received_at=T0), command_id,
                                         ok=False, error="not mine"))
    settled = (await dev.get("admin", url)).json()["items"][0]
    assert (settled["status"], settled["error"]) == ("acked", None)
    assert settled["acked_at"] is not None


async def test_an_ack_stored_while_the_gateway_still_waits_is_not_overwritten(
        dev: DevicesApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ack reached another worker and was stored; this worker's gateway then timed out."""
    gate = DeviceKey("lakeside", "gate", "gate-north")

    async def ack_elsewhere_then_time_out(command: DeviceCommand) -> CommandStatus:
        await dev.ingest(CommandAcknowledged(Envelope(gate, received_at=T0), command.id,
                                             ok=True))
        return CommandStatus.NO_ACK

    monkeypatch.setattr(dev.gate, "send", ack_elsewhere_then_time_out)
    response = await dev.send("POST", "manager",
                              f"/api/v1/devices/{dev.w.gate_lakeside}/commands",
                              {"action": "open"})
    assert (response.status_code, response.json()["status"]) == (202, "acked")


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "open", "expires_in": 601}, "body.expires_in"),
    ({"action": "open", "expires_in": 0}, "body.expires_in"),
    ({"action": "open; rm -rf"}, "body.action"),
    ({"action": "open", "args": {"note": "x" * 2000}}, "body.args"),
    ({"action": "open", "retain": True}, "body.retain"),
    ({}, "body.action"),
])
async def test_bad_commands_are_refused_naming_the_field(
        dev: DevicesApi, body: dict[str, Any], field: str) -> None:
    response = await dev.send("POST", "manager",
                              f"/api/v1/devices/{dev.w.gate_lakeside}/commands", body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert dev.gate.sent == []


async def test_a_disabled_device_takes_no_commands(dev: DevicesApi) -> None:
    url = f"/api/v1/devices/{dev.w.gate_lakeside}"
    await dev.send("PATCH", "manager", url, {"approval": "disabled"})
    response = await dev.send("POST", "manager", f"{url}/commands", {"action": "open"})
    assert response.status_code == 409
    assert dev.gate.sent == []


async def test_a_modbus_device_takes_no_commands_and_says_why(dev: DevicesApi) -> None:
    w = dev.w
    body = {"site_id": w.lakeside, "code": "b2-lift-3", "kind": "elevator",
            "building_id": w.b2, "protocol": "modbus",
            "connection": {"host": "127.0.0.1", "port": 15020, "unit": 3},
            "register_map": "elevator-std"}
    created = await dev.send("POST", "manager", "/api/v1/devices", body)
    assert created.status_code == 201, created.text
    url = f"/api/v1/devices/{created.json()['id']}/commands"
    response = await dev.send("POST", "manager", url, {"action": "reset"})
    assert response.status_code == 409
    assert "modbus" in response.json()["error"]["message"]
    assert dev.gate.sent == []


async def test_only_managers_and_admins_send_commands(dev: DevicesApi) -> None:
    url = f"/api/v1/devices/{dev.w.gate_lakeside}/commands"
    answers = {user: (await dev.send("POST", user, url, {"action": "open"})).status_code
               for user in ("tech", "guard", "desk", "alice", "river-manager")}
    assert answers == {"tech": 403, "guard": 403, "desk": 403, "alice": 403,
                       "river-manager": 404}
    assert dev.gate.sent == []


# -- dead letters ---------------------------------------------------------------------------

async def test_dead_letters_are_listed_filtered_and_counted_per_site(dev: DevicesApi) -> None:
    stranger = DeviceKey("lakeside", "door", "b9-door-1")
    await dev.ingest(
        _reading(stranger, 1, floor=1), _reading(stranger, 2, floor=1),
        Rejected("estate/lakeside/gate/gate-north/event", "bad_json", "{oops", T0,
                 DeviceKey("lakeside", "gate", "gate-north")),
        Rejected("estate/riverside/elevator/lift-r1/telemetry", "too_large", "{...", T0,
                 LIFT_RIVER),
        Rejected("estate/#/x", "bad_topic", "", T0, None))

    everything = (await dev.get("admin", "/api/v1/dead-letters")).json()
    lakeside = (await dev.get("manager", "/api/v1/dead-letters")).json()
    river = (await dev.get("river-manager", "/api/v1/dead-letters")).json()
    unknown = (await dev.get("tech", "/api/v1/dead-letters", reason="unknown_device")).json()
    one_key = (await dev.get("tech", "/api/v1/dead-letters",
                             device_key="lakeside/gate/gate-north")).json()
    assert everything["total"] == 5
    assert [d["reason"] for d in lakeside["items"]] == [
        "bad_json", "unknown_device", "unknown_device"]
    assert [d["device_key"] for d in river["items"]] == ["riverside/elevator/lift-r1"]
    assert unknown["total"] == 2
    assert [d["excerpt"] for d in one_key["items"]] == ["{oops"]

    counts = (await dev.get("manager", "/api/v1/dead-letters/counts")).json()
    assert counts["items"] == [
        {"device_key": "lakeside/door/b9-door-1", "reason": "unknown_device", "count": 2},
        {"device_key": "lakeside/gate/gate-north", "reason": "bad_json", "count": 1}]
    assert counts["dropped"] is None
    admin_counts = (await dev.get("admin", "/api/v1/dead-letters/counts",
                                  reason="bad_topic")).json()
    assert (admin_counts["items"], admin_counts["dropped"]) == (
        [{"device_key": None, "reason": "bad_topic", "count": 1}], 0)
    b2_only = (await dev.get("b2-tech", "/api/v1/dead-letters")).json()
    assert b2_only["total"] == 0  # dead letters are seen with a whole site
