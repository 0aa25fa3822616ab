"""The door flow: a door controller's `credential` event in, a decision, the access log's
record of it, and `unlock` out when the decision admits.

`DoorFlow` is an ingestion observer (hub.ingest.observers): observers run on the writer's
task, so `observe` only puts the message on the flow's own bounded queue (what overflows is
counted and logged, never waited for) and `run`, a supervised job, works through it. The
decision is hub.domain.access.decide's; this module gathers the facts it needs and acts.

Time is the hub's: QR steps and pass windows are judged at the message's arrival
(`received_at`), not by the door's clock, which nobody sets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from hub.domain.access.codes import (
    CardRead,
    Read,
    ResidentCode,
    Unreadable,
    VisitorCode,
    card_fingerprint,
    qr_key,
    read_credential,
    resident_code_ok,
    visitor_code_ok,
)
from hub.domain.access.decide import (
    Decision,
    DoorScope,
    decide_resident,
    decide_visitor,
    refuse,
)
from hub.domain.access.model import (
    AccessCredential,
    AccessLogEntry,
    CredentialKind,
    Door,
    Presented,
    VisitorPass,
)
from hub.domain.device_commands import CommandStatus, DeviceCommand
from hub.domain.observations import CredentialPresented
from hub.domain.property import Unit
from hub.handlers.access_common import AccessConfig, homes_of, send_unlock, unlock_command
from hub.ingest.observers import Delivered, Published
from hub.ingest.registry_cache import DeviceInfo
from hub.ports import Clock, DeviceCommandLog, DeviceGateway, UnitOfWork

log = logging.getLogger(__name__)
# Counts one entry of a visitor pass if one is left (a guarded UPDATE of its own); False: none
# was left, another worker took the last one meanwhile (hub.store.access_visitors).
CountEntry = Callable[[int, datetime], Awaitable[bool]]


@dataclass(frozen=True)
class Outcome:
    """What the flow did with one credential: for tests and the bench."""

    log_id: int
    decision: Decision
    command: DeviceCommand | None
    status: CommandStatus | None


@dataclass
class _Facts:
    decision: Decision
    presented: Presented
    credential_id: int | None = None
    resident_id: int | None = None
    visitor_pass: VisitorPass | None = None
    unit_id: int | None = None


class DoorFlow:
    KINDS = (CredentialPresented,)

    def __init__(self, uow_factory: Callable[[], UnitOfWork], config: AccessConfig,
                 clock: Clock, *, gateway: DeviceGateway | None = None,
                 command_log: DeviceCommandLog | None = None, queue_size: int = 1000,
                 count_entry: CountEntry | None = None) -> None:
        self._uow = uow_factory
        self._config = config
        self._clock = clock
        self._gateway = gateway
        self._command_log = command_log
        self._count_entry = count_entry
        self._queue: asyncio.Queue[Delivered] = asyncio.Queue(queue_size)
        self.dropped = 0
        self.handled = 0

    async def observe(self, message: Published) -> None:
        if not (isinstance(message, Delivered)
                and isinstance(message.observation, CredentialPresented)):
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("door flow queue full: credential at device %s dropped (%s so far)",
                        message.device.id, self.dropped)

    async def run(self) -> None:
        """The supervised job: one credential at a time, in arrival order."""
        while True:
            message = await self._queue.get()
            try:
                await self.handle(message)
            except Exception:  # one bad credential must not stop the doors
                log.exception("door flow failed on a credential at device %s",
                              message.device.id)
            finally:
                self._queue.task_done()

    async def drain(self) -> None:
        """Handle what is queued now (tests, the bench), without the job."""
        while not self._queue.empty():
            message = self._queue.get_nowait()
            await self.handle(message)
            self._queue.task_done()

    async def handle(self, message: Delivered) -> Outcome:
        observation = message.observation
        assert isinstance(observation, CredentialPresented)
        device, at = message.device, observation.envelope.received_at
        command = None
        async with self._uow() as uow:
            door = await uow.find_one(Door, device_id=device.id)
            scope = door_scope(device, door)
            facts = await self._facts(uow, read_credential(observation.credential), scope, at)
            decision = await self._count(facts, at)
            entry = AccessLogEntry(
                site_id=device.site_id, device_id=device.id, presented=facts.presented,
                allowed=decision.allowed, at=at, reasons=list(decision.reasons),
                door_id=door.id if door is not None else None,
                credential_id=facts.credential_id, resident_id=facts.resident_id,
                visitor_pass_id=facts.visitor_pass.id if facts.visitor_pass else None,
                unit_id=facts.unit_id)
            uow.add(entry)
            await uow.flush()
            if decision.allowed and self._gateway is not None:
                command = unlock_command(device.id, device.key, self._clock(),
                                         f"access:{entry.id}")
                entry.command_id = command.id
            await uow.commit()
            assert entry.id is not None
            log_id = entry.id
        self.handled += 1
        status = None
        if command is not None and self._gateway is not None and self._command_log is not None:
            status = await send_unlock(command, self._gateway, self._command_log, self._clock())
        return Outcome(log_id, decision, command, status)

    async def _count(self, facts: _Facts, at: datetime) -> Decision:
        decision, visitor_pass = facts.decision, facts.visitor_pass
        if not (decision.allowed and decision.counts_entry and visitor_pass is not None):
            return decision
        assert visitor_pass.id is not None
        if self._count_entry is None:  # one process, one worker: the transaction's own count
            visitor_pass.entries_used += 1
            visitor_pass.last_entry_at = at
            return decision
        if await self._count_entry(visitor_pass.id, at):
            return decision
        return refuse(f"visitor pass {visitor_pass.id}: its last entry was taken meanwhile")

    async def _facts(self, uow: UnitOfWork, read: Read, scope: DoorScope,
                     at: datetime) -> _Facts:
        match read:
            case CardRead(number):
                fingerprint = card_fingerprint(self._config.secret, number)
                cards = [c for c in await uow.find(AccessCredential, site_id=scope.site_id,
                                                   secret=fingerprint)
                         if c.kind == CredentialKind.CARD]
                # The live card if there is one, else the latest revoked: "revoked" says more
                # than "not known".
                cards.sort(key=lambda c: (c.live_key is not None, c.id or 0))
                return await self._resident(uow, cards[-1] if cards else None,
                                            CredentialKind.CARD, True, scope, at)
            case ResidentCode(credential_id, code):
                credential = await uow.get(AccessCredential, credential_id)
                code_ok = credential is not None and resident_code_ok(
                    qr_key(self._config.secret, credential_id, credential.secret), code, at,
                    self._config.qr_step_s)
                return await self._resident(uow, credential, CredentialKind.QR, code_ok,
                                            scope, at)
            case VisitorCode(pass_id, code):
                return await self._visitor(uow, pass_id, code, scope, at)
            case Unreadable(reason):
                return _Facts(refuse(reason), Presented.UNREADABLE)
        raise AssertionError(read)  # pragma: no cover - the match is exhaustive

    async def _resident(self, uow: UnitOfWork, credential: AccessCredential | None,
                        kind: CredentialKind, code_ok: bool, scope: DoorScope,
                        at: datetime) -> _Facts:
        presented = Presented.CARD if kind == CredentialKind.CARD else Presented.QR
        if credential is None or credential.kind != kind:
            return _Facts(decide_resident(None, kind, code_ok=False, homes=frozenset(),
                                          door=scope, at=at), presented)
        homes = await homes_of(uow, credential.resident_id, scope.site_id, at)
        decision = decide_resident(credential, kind, code_ok=code_ok, homes=homes, door=scope,
                                   at=at)
        # A stale or wrong code is kept against its credential, not its resident: the
        # resident's own log holds their entries, not someone's guesses.
        if not code_ok:
            return _Facts(decision, presented, credential.id)
        return _Facts(decision, presented, credential.id, credential.resident_id)

    async def _visitor(self, uow: UnitOfWork, pass_id: int, code: str, scope: DoorScope,
                       at: datetime) -> _Facts:
        visitor_pass = await uow.get(VisitorPass, pass_id)
        code_ok = visitor_pass is not None and visitor_code_ok(
            self._config.secret, pass_id, visitor_pass.salt, code)
        unit = await uow.get(Unit, visitor_pass.unit_id) if visitor_pass is not None else None
        decision = decide_visitor(visitor_pass, code_ok=code_ok,
                                  visit_building=unit.building_id if unit else None,
                                  door=scope, at=at)
        if not code_ok or visitor_pass is None:
            return _Facts(decision, Presented.VISITOR)
        return _Facts(decision, Presented.VISITOR, visitor_pass=visitor_pass,
                      unit_id=visitor_pass.unit_id)


def door_scope(device: DeviceInfo, door: Door | None) -> DoorScope:
    """A door record says whom the door admits; without one, the device's building does."""
    return DoorScope(device.site_id, door.building_id if door is not None else device.building_id)
