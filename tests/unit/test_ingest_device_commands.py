"""Sending a device command: audited and recorded before it goes out, settled after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from hub.domain.accounts import Actor, Role
from hub.domain.device_commands import CommandStatus, DeviceCommand
from hub.domain.errors import Conflict, NotFound, PermissionDenied
from hub.domain.property import Site
from hub.domain.registry import Approval, Device
from hub.handlers.devices import SendDeviceCommand, send_device_command
from tests.fakes import FakeDatabase, FakeUnitOfWork

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
MANAGER = Actor(account_id=5, role=Role.MANAGER, whole_sites=frozenset({1}))
GUARD = Actor(account_id=6, role=Role.SECURITY, whole_sites=frozenset({1}))
RIVER_MANAGER = Actor(account_id=7, role=Role.MANAGER, whole_sites=frozenset({2}))


@dataclass
class Journal:
    db: FakeDatabase
    lines: list[str] = field(default_factory=list)
    answer: CommandStatus = CommandStatus.ACKED

    async def record(self, command: DeviceCommand) -> None:
        self.lines.append(f"record {command.action}")

    async def settle(self, command_id: str, status: CommandStatus, at: datetime,
                     error: str | None = None) -> None:
        self.lines.append(f"settle {status.value}")

    async def send(self, command: DeviceCommand) -> CommandStatus:
        self.lines.append(f"send with {len(self.db.audit_log)} audit row(s) committed")
        return self.answer


@pytest.fixture
def db() -> FakeDatabase:
    found = FakeDatabase()
    found.records[Site] = {1: Site(code="lakeside", name="Lakeside Gardens", id=1)}
    found.records[Device] = {
        7: Device(site_id=1, code="gate-north", kind="gate", id=7),
        8: Device(site_id=1, code="b3-lift-1", kind="elevator", building_id=3, id=8),
        9: Device(site_id=1, code="lamp-07", kind="light", approval=Approval.PENDING, id=9),
    }
    return found


async def test_a_command_is_audited_and_recorded_before_it_is_sent_and_settled_after(
        db: FakeDatabase) -> None:
    journal = Journal(db)
    sent = await send_device_command(
        SendDeviceCommand(MANAGER, 7, action="open", expires_in_s=20), FakeUnitOfWork(db),
        clock=lambda: T0, gateway=journal, command_log=journal)
    assert journal.lines == ["record open", "send with 1 audit row(s) committed",
                             "settle acked"]
    assert (sent.status, sent.command.key.device, sent.command.issued_by) == (
        CommandStatus.ACKED, "gate-north", 5)
    assert db.audit_log[0].detail == {"action": "open", "command": sent.command.id}


@pytest.mark.parametrize(("actor", "device_id", "error"), [
    (MANAGER, 9, Conflict),  # pending: not trusted yet
    (GUARD, 8, PermissionDenied),  # guards command gates and doors only
    (RIVER_MANAGER, 7, NotFound),  # another site's gate does not exist for them
])
async def test_refused_commands_are_neither_recorded_nor_sent(
        db: FakeDatabase, actor: Actor, device_id: int, error: type[Exception]) -> None:
    journal = Journal(db)
    with pytest.raises(error):
        await send_device_command(SendDeviceCommand(actor, device_id, action="open"),
                                  FakeUnitOfWork(db), clock=lambda: T0, gateway=journal,
                                  command_log=journal)
    assert (journal.lines, db.audit_log) == ([], [])


async def test_without_a_gateway_the_hub_says_so_and_sends_nothing(db: FakeDatabase) -> None:
    with pytest.raises(Conflict, match="no device gateway"):
        await send_device_command(SendDeviceCommand(MANAGER, 7, action="open"),
                                  FakeUnitOfWork(db), clock=lambda: T0)
    assert db.audit_log == []
