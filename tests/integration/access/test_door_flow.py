"""The door flow on SQLite with a fake gateway: a credential event in, a decision with its
reasons in the access log, `unlock` out when it admits, a visitor's entry counted once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select

from hub.bootstrap import Hub
from hub.domain.access.model import VisitorPass
from hub.domain.accounts import SYSTEM, Actor, Role
from hub.domain.device_commands import CommandStatus, DeviceCommand
from hub.domain.observations import CredentialPresented, DeviceKey, Envelope
from hub.domain.registry import Approval
from hub.handlers import access as h
from hub.handlers.access_common import AccessConfig
from hub.handlers.access_flow import DoorFlow, Outcome
from hub.ingest.observers import Delivered
from hub.ingest.registry_cache import DeviceInfo
from hub.store.access_tables import access_log
from hub.store.access_visitors import count_visitor_entry
from hub.store.device_tables import device_commands
from tests.integration.access.community import Community
from tests.integration.access.conftest import NOW, Clock

ALICE = lambda w: Actor(900, Role.RESIDENT, partial_sites=frozenset({w.site}),  # noqa: E731
                        unit_ids=frozenset({w.unit_a}), resident_id=w.alice)


@dataclass
class FakeGateway:
    sent: list[DeviceCommand] = field(default_factory=list)

    async def send(self, command: DeviceCommand) -> CommandStatus:
        self.sent.append(command)
        return CommandStatus.ACKED


@dataclass
class Doors:
    hub: Hub
    w: Community
    flow: DoorFlow
    gateway: FakeGateway
    clock: Clock
    seq: int = 0

    async def present(self, device_id: int, credential: str,
                      at: datetime | None = None) -> Outcome:
        self.seq += 1
        codes = {self.w.door_b1: ("door-b1", self.w.b1), self.w.door_b2: ("door-b2", self.w.b2),
                 self.w.gate_door: ("gate-door", None)}
        code, building = codes[device_id]
        device = DeviceInfo(device_id, self.w.site, "lakeside", code, "door", building,
                            Approval.ACTIVE, 300)
        envelope = Envelope(DeviceKey("lakeside", "door", code), at or self.clock.now,
                            seq=self.seq)
        return await self.flow.handle(Delivered(device, CredentialPresented(envelope,
                                                                            credential)))


@pytest.fixture
def doors(hub: Hub, lakeside: Community, clock: Clock) -> Doors:
    from hub.ingest.command_log import SqlCommandLog
    gateway = FakeGateway()
    flow = DoorFlow(hub.uow, AccessConfig.from_settings(hub.settings), clock, gateway=gateway,
                    command_log=SqlCommandLog(hub.engine),
                    count_entry=partial(count_visitor_entry, hub.engine))
    return Doors(hub, lakeside, flow, gateway, clock)


async def _log(hub: Hub) -> list[dict[str, object]]:
    async with hub.engine.connect() as connection:
        rows = await connection.execute(select(access_log).order_by(access_log.c.id))
        return [dict(r._mapping) for r in rows]


async def test_a_residents_card_opens_the_door_of_their_building_only(doors: Doors) -> None:
    w, bus = doors.w, doors.hub.bus
    await bus.handle(h.IssueCard(SYSTEM, resident_id=w.alice, card="04a1b2c3"))
    home = await doors.present(w.door_b1, "CARD:04A1B2C3")
    gate = await doors.present(w.gate_door, "CARD:04a1b2c3")
    elsewhere = await doors.present(w.door_b2, "CARD:04A1B2C3")
    stranger = await doors.present(w.door_b1, "CARD:DEADBEEF")
    assert (home.decision.allowed, gate.decision.allowed) == (True, True)
    assert not elsewhere.decision.allowed
    assert f"does not live in building {w.b2}" in " ".join(elsewhere.decision.reasons)
    assert stranger.decision.reasons == ("card credential not known",)
    assert [(c.key.device, c.action) for c in doors.gateway.sent] == [
        ("door-b1", "unlock"), ("gate-door", "unlock")]
    rows = await _log(doors.hub)
    assert [(r["presented"], r["allowed"], r["resident_id"]) for r in rows] == [
        ("card", True, w.alice), ("card", True, w.alice), ("card", False, w.alice),
        ("card", False, None)]
    assert rows[0]["command_id"] == doors.gateway.sent[0].id
    async with doors.hub.engine.connect() as connection:
        sent = (await connection.execute(select(device_commands))).all()
    assert [(r.action, r.status, r.issued_by) for r in sent] == [
        ("unlock", "acked", None), ("unlock", "acked", None)]
    assert all(r.cause.startswith("access:") for r in sent)


async def test_a_revoked_card_and_a_moved_out_resident_are_refused(doors: Doors) -> None:
    w, bus = doors.w, doors.hub.bus
    card = await bus.handle(h.IssueCard(SYSTEM, resident_id=w.alice, card="1111"))
    await bus.handle(h.IssueCard(SYSTEM, resident_id=w.carol, card="2222"))
    await bus.handle(h.RevokeCredential(SYSTEM, credential_id=card))
    revoked = await doors.present(w.door_b1, "CARD:1111")
    moved_out = await doors.present(w.gate_door, "CARD:2222")
    assert "was revoked" in revoked.decision.reasons[0]
    assert "lives in no unit of this site today" in moved_out.decision.reasons[0]
    assert doors.gateway.sent == []


async def test_the_app_code_rotates_and_a_screenshot_goes_stale(doors: Doors) -> None:
    w = doors.w
    shown = await doors.hub.bus.handle(h.ShowMyQrCode(ALICE(w)))
    assert shown.expires_at - NOW <= timedelta(seconds=60)
    now = await doors.present(w.door_b1, shown.code)
    doors.clock.now = shown.expires_at + timedelta(seconds=5)  # just turned: grace
    turned = await doors.present(w.door_b1, shown.code, at=doors.clock.now)
    doors.clock.now = shown.expires_at + timedelta(seconds=61)
    stale = await doors.present(w.door_b1, shown.code, at=doors.clock.now)
    fresh = await doors.hub.bus.handle(h.ShowMyQrCode(ALICE(w)))
    again = await doors.present(w.door_b1, fresh.code, at=doors.clock.now)
    assert (now.decision.allowed, turned.decision.allowed, stale.decision.allowed,
            again.decision.allowed) == (True, True, False, True)
    assert fresh.code != shown.code and fresh.code.split("-")[0] == shown.code.split("-")[0]
    assert "code wrong or expired" in stale.decision.reasons[0]
    rows = await _log(doors.hub)
    assert [r["resident_id"] for r in rows] == [w.alice, w.alice, None, w.alice]


async def test_a_visitor_enters_once_per_visit_until_entries_are_used(doors: Doors) -> None:
    w, bus, clock = doors.w, doors.hub.bus, doors.clock
    issued = await bus.handle(h.IssueVisitorPass(
        ALICE(w), visitor_name="王芳", visitor_phone="13900001111", valid_from=NOW,
        valid_until=NOW + timedelta(hours=6), entries=1))
    gate = await doors.present(w.gate_door, issued.code)
    clock.now += timedelta(minutes=2)
    building = await doors.present(w.door_b1, issued.code)  # the same visit
    other_building = await doors.present(w.door_b2, issued.code)
    clock.now += timedelta(hours=1)
    second_visit = await doors.present(w.gate_door, issued.code)
    assert gate.decision.allowed and gate.decision.counts_entry
    assert building.decision.allowed and not building.decision.counts_entry
    assert not other_building.decision.allowed
    assert not second_visit.decision.allowed
    assert "all 1 entries used" in second_visit.decision.reasons[0]
    async with doors.hub.uow() as uow:
        stored = await uow.get(VisitorPass, issued.id)
        assert stored is not None and stored.entries_used == 1
    rows = await _log(doors.hub)
    assert {r["visitor_pass_id"] for r in rows} == {issued.id}
    assert {r["unit_id"] for r in rows} == {w.unit_a}


async def test_a_forged_or_unapproved_visitor_code_is_refused(doors: Doors) -> None:
    w, bus = doors.w, doors.hub.bus
    pending = await bus.handle(h.IssueVisitorPass(
        ALICE(w), visitor_name="王芳", valid_from=NOW, valid_until=NOW + timedelta(hours=1),
        needs_approval=True))
    forged = pending.code[:-4] + ("AAAA" if not pending.code.endswith("AAAA") else "BBBB")
    waiting = await doors.present(w.gate_door, pending.code)
    bad = await doors.present(w.gate_door, forged)
    junk = await doors.present(w.gate_door, "QR:hello")
    assert waiting.decision.reasons == ("visitor pass waits for staff approval",)
    assert bad.decision.reasons == (f"visitor pass {pending.id}: code does not match",)
    assert junk.decision.reasons == ("QR code not one of this hub's",)
    await bus.handle(h.DecideVisitorPass(SYSTEM, pass_id=pending.id, approve=True))
    assert (await doors.present(w.gate_door, pending.code)).decision.allowed
    rows = await _log(doors.hub)
    assert [r["visitor_pass_id"] for r in rows] == [pending.id, None, None, pending.id]


async def test_the_observer_queues_and_the_worker_drains(doors: Doors) -> None:
    w = doors.w
    await doors.hub.bus.handle(h.IssueCard(SYSTEM, resident_id=w.bob, card="B0B0"))
    device = DeviceInfo(w.door_b2, w.site, "lakeside", "door-b2", "door", w.b2,
                        Approval.ACTIVE, 300)
    envelope = Envelope(DeviceKey("lakeside", "door", "door-b2"), NOW, seq=1)
    small = DoorFlow(doors.hub.uow, AccessConfig.from_settings(doors.hub.settings),
                     doors.clock, queue_size=1)
    await small.observe(Delivered(device, CredentialPresented(envelope, "CARD:B0B0")))
    await small.observe(Delivered(device, CredentialPresented(envelope, "CARD:B0B0")))
    assert small.dropped == 1
    await small.drain()
    rows = await _log(doors.hub)
    # No gateway in this process: decided and logged, no command.
    assert [(r["allowed"], r["command_id"]) for r in rows] == [(True, None)]


async def test_a_guard_opens_a_door_by_hand_logged_audited_and_unlocked(doors: Doors) -> None:
    from hub.ingest.command_log import SqlCommandLog
    from hub.store.tables import audit_log
    w, hub = doors.w, doors.hub
    door = await hub.bus.handle(h.RegisterDoor(SYSTEM, w.door_b1, "1号楼 单元门", w.b1))
    guard = Actor(77, Role.SECURITY, whole_sites=frozenset({w.site}))
    async with hub.uow() as uow:
        opened = await h.open_door(h.OpenDoor(guard, door, "courier, no code"), uow, doors.clock,
                                   gateway=doors.gateway, command_log=SqlCommandLog(hub.engine))
    assert opened.status == CommandStatus.ACKED
    assert [(c.key.device, c.action, c.issued_by) for c in doors.gateway.sent] == [
        ("door-b1", "unlock", 77)]
    rows = await _log(hub)
    assert [(r["presented"], r["opened_by"], r["reasons"][-1], r["command_id"])
            for r in rows] == [("manual", 77, "courier, no code", opened.command_id)]
    async with hub.engine.connect() as connection:
        audited = (await connection.execute(select(audit_log).where(
            audit_log.c.action == "door_opened"))).one()
    assert (audited.actor_id, audited.target) == (77, f"door:{door}")
    assert "courier" not in str(audited.detail)


async def test_the_last_entry_is_counted_once_and_a_late_count_refuses(doors: Doors) -> None:
    w, bus, hub = doors.w, doors.hub.bus, doors.hub
    issued = await bus.handle(h.IssueVisitorPass(
        ALICE(w), visitor_name="王芳", valid_from=NOW, valid_until=NOW + timedelta(hours=6)))
    assert await count_visitor_entry(hub.engine, issued.id, NOW)  # the guarded UPDATE
    assert not await count_visitor_entry(hub.engine, issued.id, NOW)  # none left
    # A worker that read the pass before another took its last entry: its count fails.
    late = DoorFlow(hub.uow, AccessConfig.from_settings(hub.settings), doors.clock,
                    gateway=doors.gateway, count_entry=_always_taken)
    second = await bus.handle(h.IssueVisitorPass(
        ALICE(w), visitor_name="王芳", valid_from=NOW, valid_until=NOW + timedelta(hours=6)))
    doors.flow = late
    outcome = await doors.present(w.gate_door, second.code)
    assert outcome.decision.reasons == (
        f"visitor pass {second.id}: its last entry was taken meanwhile",)
    assert doors.gateway.sent == []


async def _always_taken(pass_id: int, at: datetime) -> bool:
    return False
