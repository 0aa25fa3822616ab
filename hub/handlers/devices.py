"""The device registry by staff: register, change, approve and disable a device; send one a
command through the DeviceGateway, kept with its outcome and audited.

The commands live here rather than in hub.domain.commands because only this module handles
them. After a registry change the ingestion cache is told (`registry_changed`), so an
approval counts from the device's next message.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

from hub.domain.accounts import Actor, Role
from hub.domain.audit import AuditAction, entry_by
from hub.domain.commands import Command
from hub.domain.device_commands import MAX_LIFETIME, CommandStatus, DeviceCommand
from hub.domain.errors import Conflict, Invalid, NotFound, PermissionDenied
from hub.domain.observations import DeviceKey
from hub.domain.property import Building, Site
from hub.domain.registry import Approval, Asset, Device, Protocol
from hub.handlers.scope import managed_site, visible_building
from hub.ports import Clock, DeviceCommandLog, DeviceGateway, UnitOfWork

RegistryChanged = Callable[[], None]
# What a change may touch; a device's site, code and kind make up its topic, and stay.
EDITABLE = frozenset({"name", "building_id", "floor", "asset_id", "protocol", "connection",
                      "register_map", "poll_period_s", "timeout_s", "tags", "approval"})
# Guards open gates and doors for people at them; the rest of the estate is not theirs.
SECURITY_COMMANDS = frozenset({"gate", "door"})


@dataclass(frozen=True)
class RegisterDevice(Command):
    site_id: int
    code: str
    kind: str
    building_id: int | None = None
    asset_id: int | None = None
    name: str = ""
    floor: int | None = None
    protocol: Protocol = Protocol.MQTT
    connection: Mapping[str, Any] = field(default_factory=dict)
    register_map: str | None = None
    poll_period_s: float = 1.0
    timeout_s: int = 300
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeDevice(Command):
    device_id: int
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class ApproveDevice(Command):
    device_id: int


@dataclass(frozen=True)
class DisableDevice(Command):
    device_id: int


@dataclass(frozen=True)
class SendDeviceCommand(Command):
    device_id: int
    action: str
    args: Mapping[str, Any] = field(default_factory=dict)
    expires_in_s: int = 30


@dataclass(frozen=True)
class CommandSent:
    """What the caller learns: the stored command and what became of it."""

    command: DeviceCommand
    status: CommandStatus


async def register_device(cmd: RegisterDevice, uow: UnitOfWork, clock: Clock,
                          registry_changed: RegistryChanged | None = None) -> int:
    if cmd.building_id is not None:
        await _building_of_site(uow, cmd.actor, cmd.site_id, cmd.building_id)
    else:
        await managed_site(uow, cmd.actor, cmd.site_id)
    await _asset_of_site(uow, cmd.site_id, cmd.asset_id)
    if len(cmd.kind) > 32:
        raise Invalid("kind must be at most 32 characters", field="kind")
    if await uow.find_one(Device, site_id=cmd.site_id, code=cmd.code):
        raise Conflict(f"device code {cmd.code!r} exists in this site", field="code")
    device = Device(site_id=cmd.site_id, code=cmd.code, kind=cmd.kind,
                    building_id=cmd.building_id, asset_id=cmd.asset_id, name=cmd.name,
                    floor=cmd.floor, protocol=cmd.protocol, connection=dict(cmd.connection),
                    register_map=cmd.register_map, poll_period_s=cmd.poll_period_s,
                    timeout_s=cmd.timeout_s, approval=Approval.ACTIVE, tags=list(cmd.tags))
    uow.add(device)
    await uow.flush()
    assert device.id is not None
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.DEVICE_CHANGED, f"device:{device.id}",
                       {"change": "registered", "kind": cmd.kind}))
    await uow.commit()
    _notify(registry_changed)
    return device.id


async def change_device(cmd: ChangeDevice, uow: UnitOfWork, clock: Clock,
                        registry_changed: RegistryChanged | None = None) -> None:
    unknown = set(cmd.changes) - EDITABLE
    if unknown:
        name = sorted(unknown)[0]
        raise Invalid(f"{name} cannot be changed on a device", field=name)
    device = await visible_device(uow, cmd.actor, cmd.device_id)
    if "building_id" in cmd.changes:
        if cmd.changes["building_id"] is None:
            await managed_site(uow, cmd.actor, device.site_id)
        else:
            await _building_of_site(uow, cmd.actor, device.site_id, cmd.changes["building_id"])
    if "asset_id" in cmd.changes:
        await _asset_of_site(uow, device.site_id, cmd.changes["asset_id"])
    if cmd.changes.get("approval") == Approval.PENDING:
        raise Invalid("a device cannot be put back to pending", field="approval")
    updated = _with_changes(device, cmd.changes)
    for name in cmd.changes:
        setattr(device, name, getattr(updated, name))  # new objects for the JSON columns
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.DEVICE_CHANGED, f"device:{device.id}",
                       {"change": "changed", "fields": ",".join(sorted(cmd.changes))}))
    await uow.commit()
    _notify(registry_changed)


async def approve_device(cmd: ApproveDevice, uow: UnitOfWork, clock: Clock,
                         registry_changed: RegistryChanged | None = None) -> None:
    await _set_approval(uow, cmd.actor, cmd.device_id, Approval.ACTIVE, clock)
    _notify(registry_changed)


async def disable_device(cmd: DisableDevice, uow: UnitOfWork, clock: Clock,
                         registry_changed: RegistryChanged | None = None) -> None:
    await _set_approval(uow, cmd.actor, cmd.device_id, Approval.DISABLED, clock)
    _notify(registry_changed)


async def send_device_command(cmd: SendDeviceCommand, uow: UnitOfWork, clock: Clock,
                              gateway: DeviceGateway | None = None,
                              command_log: DeviceCommandLog | None = None) -> CommandSent:
    """Audited and stored before it goes out; the outcome stored when the gateway reports it
    (an ack may settle it first, through ingestion)."""
    device = await visible_device(uow, cmd.actor, cmd.device_id)
    if cmd.actor.role == Role.SECURITY and device.kind not in SECURITY_COMMANDS:
        raise PermissionDenied("security staff command gates and doors only")
    if not device.trusted:
        raise Conflict(f"device is {device.approval.value}: approve it first", field="device_id")
    if device.protocol != Protocol.MQTT:
        # The Modbus contract (DESIGN.md §3) is read-only: its maps define no writes, and a
        # command published on MQTT would reach nobody and time out.
        raise Conflict(f"device {device.code} is polled over {device.protocol.value}, whose "
                       "register maps define no commands", field="device_id")
    if gateway is None or command_log is None:
        raise Conflict("this hub process sends no device commands (no device gateway)")
    if not 1 <= cmd.expires_in_s <= MAX_LIFETIME.total_seconds():
        raise Invalid("expires_in must be between 1 and 600 seconds", field="expires_in")
    command = await _new_command(uow, cmd, device, clock)
    uow.audit(entry_by(cmd.actor, command.issued_at, AuditAction.DEVICE_COMMAND,
                       f"device:{device.id}", {"action": command.action, "command": command.id}))
    await uow.commit()
    await command_log.record(command)
    status = await gateway.send(command)
    await command_log.settle(command.id, status, clock())
    return CommandSent(command, status)


async def visible_device(uow: UnitOfWork, actor: Actor, device_id: int) -> Device:
    """Staff see a building's devices with the building, and the site-wide ones (gates,
    street lights) with the whole site. Out of scope answers like missing."""
    device = await uow.get(Device, device_id)
    if device is None or actor.is_resident:
        raise NotFound("device", device_id)
    seen = actor.manages_site(device.site_id) if device.building_id is None \
        else actor.sees_building(device.site_id, device.building_id)
    if not seen:
        raise NotFound("device", device_id)
    return device


async def _set_approval(uow: UnitOfWork, actor: Actor, device_id: int, approval: Approval,
                        clock: Clock) -> None:
    device = await visible_device(uow, actor, device_id)
    if device.approval == approval:
        return
    device.approval = approval
    change = "approved" if approval == Approval.ACTIVE else "disabled"
    uow.audit(entry_by(actor, clock(), AuditAction.DEVICE_CHANGED, f"device:{device.id}",
                       {"change": change}))
    await uow.commit()


async def _new_command(uow: UnitOfWork, cmd: SendDeviceCommand, device: Device,
                       clock: Clock) -> DeviceCommand:
    site = await uow.get(Site, device.site_id)
    assert site is not None and device.id is not None
    now = clock()
    return DeviceCommand(id=str(uuid.uuid4()), device_id=device.id,
                         key=DeviceKey(site.code, device.kind, device.code), action=cmd.action,
                         issued_at=now, expires_at=now + timedelta(seconds=cmd.expires_in_s),
                         args=dict(cmd.args), cause="api", issued_by=cmd.actor.account_id)


async def _building_of_site(uow: UnitOfWork, actor: Actor, site_id: int,
                            building_id: int) -> Building:
    building = await visible_building(uow, actor, building_id)
    if building.site_id != site_id:
        raise Invalid("the building must be in the device's site", field="building_id")
    return building


async def _asset_of_site(uow: UnitOfWork, site_id: int, asset_id: int | None) -> None:
    if asset_id is None:
        return
    asset = await uow.get(Asset, asset_id)
    if asset is None or asset.site_id != site_id:
        raise NotFound("asset", asset_id)


def _with_changes(device: Device, changes: Mapping[str, Any]) -> Device:
    """A fresh copy with the changes, so that the domain's own checks run on it."""
    values = {f.name: getattr(device, f.name) for f in fields(device) if f.init}
    values.update(changes)
    values["protocol"] = Protocol(values["protocol"])
    values["approval"] = Approval(values["approval"])
    values["connection"] = dict(values["connection"])
    values["tags"] = list(values["tags"])
    return Device(**values)


def _notify(registry_changed: RegistryChanged | None) -> None:
    if registry_changed is not None:
        registry_changed()


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    RegisterDevice: register_device,
    ChangeDevice: change_device,
    ApproveDevice: approve_device,
    DisableDevice: disable_device,
    SendDeviceCommand: send_device_command,
}
