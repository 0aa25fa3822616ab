"""Access control by people: residents issue visitor passes for their household and fetch
their app's QR code; staff issue and revoke cards, link door controllers to buildings,
approve or reject passes, check a visitor's code and open a door by hand (audited).

The decision at a door when a credential is presented is hub.handlers.access_flow's.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.domain.access.codes import (
    VisitorCode,
    card_fingerprint,
    normalise_card,
    qr_key,
    read_credential,
    resident_token,
    visitor_code_ok,
    visitor_token,
)
from hub.domain.access.decide import Decision, check_visitor, refuse
from hub.domain.access.model import (
    AccessCredential,
    AccessLogEntry,
    CredentialKind,
    Door,
    PassStatus,
    Presented,
    VisitorPass,
)
from hub.domain.accounts import Actor
from hub.domain.audit import AuditAction, entry_by
from hub.domain.commands import Command
from hub.domain.device_commands import CommandStatus
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.observations import DeviceKey
from hub.domain.parking.plates import normalise_plate
from hub.domain.property import Site, Unit
from hub.domain.registry import Device, DeviceKind
from hub.domain.residents import Resident, check_phone
from hub.handlers.access_common import AccessConfig, send_unlock, unlock_command
from hub.handlers.devices import visible_device
from hub.handlers.scope import managed_site, visible_building, visible_resident
from hub.ports import Clock, DeviceCommandLog, DeviceGateway, UnitOfWork


@dataclass(frozen=True)
class IssueVisitorPass(Command):
    visitor_name: str
    valid_from: datetime
    valid_until: datetime
    unit_id: int | None = None  # which household; needed only by residents of several
    visitor_phone: str = ""
    entries: int = 1
    plate: str | None = None
    free_minutes: int = 0
    needs_approval: bool = False


@dataclass(frozen=True)
class IssuedPass:
    id: int
    status: PassStatus
    code: str  # "QR:V-..." for the visitor


@dataclass(frozen=True)
class CancelVisitorPass(Command):
    pass_id: int


@dataclass(frozen=True)
class DecideVisitorPass(Command):
    pass_id: int
    approve: bool
    note: str = ""


@dataclass(frozen=True)
class VerifyVisitorCode(Command):
    code: str


@dataclass(frozen=True)
class Verified:
    decision: Decision
    visitor_pass: VisitorPass | None = None


@dataclass(frozen=True)
class ShowMyQrCode(Command):
    pass


@dataclass(frozen=True)
class QrCode:
    code: str  # "QR:<credential>-<code>"
    expires_at: datetime
    step_s: int


@dataclass(frozen=True)
class IssueCard(Command):
    resident_id: int
    card: str
    label: str = ""


@dataclass(frozen=True)
class RevokeCredential(Command):
    credential_id: int


@dataclass(frozen=True)
class RegisterDoor(Command):
    device_id: int
    name: str
    building_id: int | None = None


@dataclass(frozen=True)
class OpenDoor(Command):
    door_id: int
    reason: str


@dataclass(frozen=True)
class DoorOpened:
    log_id: int
    command_id: str
    status: CommandStatus


# --- visitor passes -----------------------------------------------------------------------

async def issue_visitor_pass(cmd: IssueVisitorPass, uow: UnitOfWork, clock: Clock,
                             access: AccessConfig) -> IssuedPass:
    unit = await _my_unit(uow, cmd.actor, cmd.unit_id)
    assert cmd.actor.resident_id is not None and unit.id is not None
    now = clock()
    if cmd.valid_until <= now:
        raise Invalid("valid_until is in the past", field="valid_until")
    phone = cmd.visitor_phone.strip()
    try:
        check_phone(phone)
    except Invalid as err:
        raise Invalid(err.message, field="visitor_phone") from None
    plate = normalise_plate(cmd.plate) if cmd.plate else None
    needs_approval = cmd.needs_approval or access.visitor_approval_default
    visitor_pass = VisitorPass(
        site_id=unit.site_id, unit_id=unit.id, issued_by=cmd.actor.resident_id,
        visitor_name=cmd.visitor_name.strip(), valid_from=cmd.valid_from,
        valid_until=cmd.valid_until, entries_allowed=cmd.entries, created_at=now,
        salt=secrets.token_hex(8), visitor_phone=phone, plate=plate,
        free_minutes=cmd.free_minutes, needs_approval=needs_approval,
        status=PassStatus.PENDING if needs_approval else PassStatus.ACTIVE)
    uow.add(visitor_pass)
    await uow.commit()
    assert visitor_pass.id is not None
    return IssuedPass(visitor_pass.id, visitor_pass.status, visitor_code(access, visitor_pass))


def visitor_code(access: AccessConfig, visitor_pass: VisitorPass) -> str:
    assert visitor_pass.id is not None
    return "QR:" + visitor_token(access.secret, visitor_pass.id, visitor_pass.salt)


async def _my_unit(uow: UnitOfWork, actor: Actor, unit_id: int | None) -> Unit:
    if not actor.is_resident or actor.resident_id is None:
        raise Invalid("visitor passes are issued by residents for their household")
    if unit_id is None:
        if len(actor.unit_ids) != 1:
            raise Invalid("you live in several units (or none): name the unit",
                          field="unit_id")
        unit_id = next(iter(actor.unit_ids))
    unit = await uow.get(Unit, unit_id)
    if unit is None or unit_id not in actor.unit_ids:
        raise NotFound("unit", unit_id)
    return unit


async def visible_pass(uow: UnitOfWork, actor: Actor, pass_id: int) -> VisitorPass:
    """Residents: their households' passes. Staff: passes of units in their scope."""
    visitor_pass = await uow.get(VisitorPass, pass_id)
    unit = await uow.get(Unit, visitor_pass.unit_id) if visitor_pass is not None else None
    if visitor_pass is None or unit is None or unit.id is None \
            or not actor.sees_unit(unit.site_id, unit.building_id, unit.id):
        raise NotFound("visitor pass", pass_id)
    return visitor_pass


async def cancel_visitor_pass(cmd: CancelVisitorPass, uow: UnitOfWork, clock: Clock) -> None:
    if not cmd.actor.is_resident:
        raise NotFound("visitor pass", cmd.pass_id)
    visitor_pass = await visible_pass(uow, cmd.actor, cmd.pass_id)
    visitor_pass.cancel(clock())
    await uow.commit()


async def decide_visitor_pass(cmd: DecideVisitorPass, uow: UnitOfWork, clock: Clock) -> None:
    if cmd.actor.is_resident:
        raise NotFound("visitor pass", cmd.pass_id)
    visitor_pass = await visible_pass(uow, cmd.actor, cmd.pass_id)
    now = clock()
    if cmd.approve:
        visitor_pass.approve(cmd.actor.account_id, now, cmd.note)
    else:
        visitor_pass.reject(cmd.actor.account_id, now, cmd.note)
    uow.audit(entry_by(cmd.actor, now, AuditAction.VISITOR_PASS_DECIDED,
                       f"visitor_pass:{visitor_pass.id}", {"status": visitor_pass.status.value}))
    await uow.commit()


async def verify_visitor_code(cmd: VerifyVisitorCode, uow: UnitOfWork, clock: Clock,
                              access: AccessConfig) -> Verified:
    """A guard checks a visitor's code: who it is for and whether it admits now. Counts no
    entry; audited whatever the answer. A pass out of the guard's scope is not known."""
    now = clock()
    text = cmd.code.strip()
    read = read_credential(text if text.startswith("QR:") else f"QR:{text}")
    visitor_pass = None
    if isinstance(read, VisitorCode):
        try:
            visitor_pass = await visible_pass(uow, cmd.actor, read.pass_id)
        except NotFound:
            visitor_pass = None
        if visitor_pass is not None and not visitor_code_ok(
                access.secret, read.pass_id, visitor_pass.salt, read.code):
            visitor_pass = None
    decision = refuse("not a visitor code known here") if visitor_pass is None \
        else check_visitor(visitor_pass, now)
    target = f"visitor_pass:{visitor_pass.id}" if visitor_pass is not None else "visitor_pass:?"
    uow.audit(entry_by(cmd.actor, now, AuditAction.ACCESS_VERIFIED, target,
                       {"valid": "yes" if decision.allowed else "no"}))
    await uow.commit()
    return Verified(decision, visitor_pass)


# --- credentials --------------------------------------------------------------------------

async def show_my_qr_code(cmd: ShowMyQrCode, uow: UnitOfWork, clock: Clock,
                          access: AccessConfig) -> QrCode:
    """The resident's app code now; the credential is made on first use."""
    resident_id = cmd.actor.resident_id
    resident = await uow.get(Resident, resident_id) if resident_id is not None else None
    if resident is None or resident.id is None:
        raise NotFound("resident", resident_id)
    live = str(resident.id)
    # A live key is a resident's id (QR) or a 64-digit fingerprint (cards): never both.
    credential = await uow.find_one(AccessCredential, site_id=resident.site_id, live_key=live)
    now = clock()
    if credential is None:
        credential = AccessCredential(site_id=resident.site_id, resident_id=resident.id,
                                      kind=CredentialKind.QR, issued_at=now,
                                      secret=secrets.token_hex(8), label="app",
                                      issued_by=cmd.actor.account_id, live_key=live)
        uow.add(credential)
        await uow.commit()  # two first calls at once: the unique index makes one a Conflict
    assert credential.id is not None
    token, ends = resident_token(credential.id, qr_key(access.secret, credential.id,
                                                      credential.secret), now, access.qr_step_s)
    return QrCode("QR:" + token, ends, access.qr_step_s)


async def issue_card(cmd: IssueCard, uow: UnitOfWork, clock: Clock,
                     access: AccessConfig) -> int:
    resident = await visible_resident(uow, cmd.actor, cmd.resident_id)
    assert resident.id is not None
    number = normalise_card(cmd.card)
    if number is None:
        raise Invalid("a card number is 4 to 32 letters and digits", field="card")
    fingerprint = card_fingerprint(access.secret, number)
    if await uow.find_one(AccessCredential, site_id=resident.site_id, live_key=fingerprint):
        raise Conflict("this card is already issued in this site: revoke it first",
                       field="card")
    now = clock()
    credential = AccessCredential(site_id=resident.site_id, resident_id=resident.id,
                                  kind=CredentialKind.CARD, issued_at=now, secret=fingerprint,
                                  label=cmd.label.strip()[:100], issued_by=cmd.actor.account_id,
                                  live_key=fingerprint)
    uow.add(credential)
    await uow.flush()
    uow.audit(entry_by(cmd.actor, now, AuditAction.CREDENTIAL_CHANGED,
                       f"credential:{credential.id}",
                       {"change": "issued", "kind": "card", "resident": str(resident.id)}))
    await uow.commit()
    assert credential.id is not None
    return credential.id


async def revoke_credential(cmd: RevokeCredential, uow: UnitOfWork, clock: Clock) -> None:
    credential = await uow.get(AccessCredential, cmd.credential_id)
    if credential is None or cmd.actor.is_resident:
        raise NotFound("credential", cmd.credential_id)
    try:
        await visible_resident(uow, cmd.actor, credential.resident_id)
    except NotFound:
        raise NotFound("credential", cmd.credential_id) from None
    now = clock()
    credential.revoke(now, cmd.actor.account_id)
    uow.audit(entry_by(cmd.actor, now, AuditAction.CREDENTIAL_CHANGED,
                       f"credential:{credential.id}",
                       {"change": "revoked", "kind": credential.kind.value}))
    await uow.commit()


# --- doors --------------------------------------------------------------------------------

async def register_door(cmd: RegisterDoor, uow: UnitOfWork, clock: Clock) -> int:
    device = await visible_device(uow, cmd.actor, cmd.device_id)
    await managed_site(uow, cmd.actor, device.site_id)
    if device.kind != DeviceKind.DOOR:
        raise Invalid(f"device {device.code} is a {device.kind}, not a door",
                      field="device_id")
    if cmd.building_id is not None:
        building = await visible_building(uow, cmd.actor, cmd.building_id)
        if building.site_id != device.site_id:
            raise Invalid("the building must be in the door's site", field="building_id")
    if await uow.find_one(Door, device_id=cmd.device_id):
        raise Conflict("this device is a door already", field="device_id")
    name = cmd.name.strip()
    if not name or len(name) > 200:
        raise Invalid("name must be 1 to 200 characters", field="name")
    now = clock()
    door = Door(site_id=device.site_id, device_id=cmd.device_id, name=name, created_at=now,
                building_id=cmd.building_id)
    uow.add(door)
    await uow.flush()
    uow.audit(entry_by(cmd.actor, now, AuditAction.CONFIG_CHANGED, f"door:{door.id}",
                       {"change": "registered", "device": str(cmd.device_id)}))
    await uow.commit()
    assert door.id is not None
    return door.id


async def visible_door(uow: UnitOfWork, actor: Actor, door_id: int) -> Door:
    door = await uow.get(Door, door_id)
    if door is None or actor.is_resident:
        raise NotFound("door", door_id)
    seen = actor.manages_site(door.site_id) if door.building_id is None \
        else actor.sees_building(door.site_id, door.building_id)
    if not seen:
        raise NotFound("door", door_id)
    return door


async def open_door(cmd: OpenDoor, uow: UnitOfWork, clock: Clock,
                    gateway: DeviceGateway | None = None,
                    command_log: DeviceCommandLog | None = None) -> DoorOpened:
    """A guard opens a door for someone at it: the reason goes to the access log, the
    opening to the audit log, and `unlock` to the door."""
    door = await visible_door(uow, cmd.actor, cmd.door_id)
    reason = cmd.reason.strip()
    if len(reason) < 3 or len(reason) > 200:
        raise Invalid("reason must be 3 to 200 characters", field="reason")
    device = await uow.get(Device, door.device_id)
    site = await uow.get(Site, door.site_id)
    assert device is not None and site is not None and device.id is not None
    if not device.trusted:
        raise Conflict(f"door device is {device.approval.value}", field="door_id")
    if gateway is None or command_log is None:
        raise Conflict("this hub process sends no device commands (no device gateway)")
    now = clock()
    entry = AccessLogEntry(site_id=door.site_id, device_id=device.id, door_id=door.id,
                           presented=Presented.MANUAL, allowed=True, at=now,
                           reasons=[f"opened by hand by account {cmd.actor.account_id}",
                                    reason], opened_by=cmd.actor.account_id)
    uow.add(entry)
    await uow.flush()
    command = unlock_command(device.id, DeviceKey(site.code, device.kind, device.code), now,
                             f"access:manual:{entry.id}", cmd.actor.account_id)
    entry.command_id = command.id
    uow.audit(entry_by(cmd.actor, now, AuditAction.DOOR_OPENED, f"door:{door.id}",
                       {"command": command.id, "access_log": str(entry.id)}))
    await uow.commit()
    assert entry.id is not None
    status = await send_unlock(command, gateway, command_log, clock())
    return DoorOpened(entry.id, command.id, status)


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    IssueVisitorPass: issue_visitor_pass,
    CancelVisitorPass: cancel_visitor_pass,
    DecideVisitorPass: decide_visitor_pass,
    VerifyVisitorCode: verify_visitor_code,
    ShowMyQrCode: show_my_qr_code,
    IssueCard: issue_card,
    RevokeCredential: revoke_credential,
    RegisterDoor: register_door,
    OpenDoor: open_door,
}
