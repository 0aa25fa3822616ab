"""Ownership changes (产权变更), rental registration, move-in and move-out, by staff.

Every one of them is audited and leaves the unit's status as its residencies and leases say
on the day (hub.domain.ownership.derive_status). A move dated in the future changes the status
when its day comes: `refresh_unit_statuses` is the job that does it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.domain.audit import AuditAction, entry_by
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid
from hub.domain.ownership import (
    Lease,
    LeaseTenant,
    OwnerShare,
    Ownership,
    TransferReason,
    check_lease,
    derive_status,
    transfer,
)
from hub.domain.property import Unit
from hub.domain.residents import Relation, Residency, Resident
from hub.handlers.scope import visible_unit
from hub.ports import Clock, UnitOfWork


@dataclass(frozen=True)
class RecordOwnershipChange(Command):
    unit_id: int
    on: date
    reason: TransferReason
    owners: tuple[tuple[int, Decimal], ...]  # (resident id, share in percent)
    document_ref: str
    note: str = ""


@dataclass(frozen=True)
class RegisterLease(Command):
    unit_id: int
    tenant_ids: tuple[int, ...]
    starts_on: date
    ends_on: date
    document_ref: str
    monthly_rent: Decimal | None = None


@dataclass(frozen=True)
class MoveIn(Command):
    unit_id: int
    resident_id: int
    relation: Relation
    moved_in: date


@dataclass(frozen=True)
class MoveOut(Command):
    unit_id: int
    resident_ids: tuple[int, ...]
    moved_out: date


async def record_ownership_change(cmd: RecordOwnershipChange, uow: UnitOfWork,
                                  clock: Clock) -> int:
    unit = await visible_unit(uow, cmd.actor, cmd.unit_id)
    assert unit.id is not None
    await _site_residents(uow, unit, [r for r, _ in cmd.owners], "owners")
    now = clock()
    new = Ownership(unit_id=unit.id, started_on=cmd.on, reason=cmd.reason,
                    document_ref=cmd.document_ref, recorded_by=cmd.actor.account_id,
                    recorded_at=now, note=cmd.note,
                    owners=[OwnerShare(resident_id=r, share=s) for r, s in cmd.owners])
    closed = transfer(await uow.find(Ownership, unit_id=unit.id), new, now.date())
    if closed is not None:
        await uow.flush()  # the old one gives up the unit's open slot before the new takes it
    uow.add(new)
    await uow.flush()
    assert new.id is not None
    uow.audit(entry_by(cmd.actor, now, AuditAction.OWNERSHIP_CHANGED, f"unit:{unit.id}", {
        "ownership": str(new.id), "on": cmd.on.isoformat(), "reason": cmd.reason.value,
        "owners": ",".join(str(r) for r, _ in cmd.owners),
        "closed": str(closed.id) if closed is not None else "",
        "document_ref": cmd.document_ref}))
    await uow.commit()
    return new.id


async def register_lease(cmd: RegisterLease, uow: UnitOfWork, clock: Clock) -> int:
    unit = await visible_unit(uow, cmd.actor, cmd.unit_id)
    assert unit.id is not None
    await _site_residents(uow, unit, list(cmd.tenant_ids), "tenant_ids")
    now = clock()
    lease = Lease(unit_id=unit.id, starts_on=cmd.starts_on, ends_on=cmd.ends_on,
                  document_ref=cmd.document_ref, recorded_by=cmd.actor.account_id,
                  recorded_at=now, monthly_rent=cmd.monthly_rent,
                  tenants=[LeaseTenant(resident_id=r) for r in cmd.tenant_ids])
    check_lease(await uow.find(Lease, unit_id=unit.id), lease)
    stays = await uow.find(Residency, unit_id=unit.id)
    for n, tenant in enumerate(cmd.tenant_ids):
        for stay in stays:
            if stay.resident_id == tenant and _overlaps(stay, cmd.starts_on, cmd.ends_on):
                raise Conflict(f"resident {tenant} already lives in this unit from "
                               f"{stay.moved_in}" + (f" to {stay.moved_out}" if stay.moved_out
                                                     else ""), field=f"tenant_ids.{n}")
        # The tenants live there for the lease's dates; an early move-out shortens both.
        uow.add(Residency(resident_id=tenant, unit_id=unit.id, relation=Relation.TENANT,
                          moved_in=cmd.starts_on, moved_out=cmd.ends_on))
    uow.add(lease)
    await uow.flush()
    assert lease.id is not None
    await refresh_status(uow, unit, now.date())
    uow.audit(entry_by(cmd.actor, now, AuditAction.LEASE_REGISTERED, f"unit:{unit.id}", {
        "lease": str(lease.id), "from": cmd.starts_on.isoformat(),
        "to": cmd.ends_on.isoformat(), "tenants": ",".join(map(str, cmd.tenant_ids)),
        "document_ref": cmd.document_ref}))
    await uow.commit()
    return lease.id


async def move_in(cmd: MoveIn, uow: UnitOfWork, clock: Clock) -> int:
    unit = await visible_unit(uow, cmd.actor, cmd.unit_id)
    assert unit.id is not None
    await _site_residents(uow, unit, [cmd.resident_id], "resident_id")
    for stay in await uow.find(Residency, resident_id=cmd.resident_id, unit_id=unit.id):
        if stay.moved_out is None or stay.moved_out > cmd.moved_in:
            raise Conflict(f"resident {cmd.resident_id} already lives in this unit from "
                           f"{stay.moved_in}" + (f" to {stay.moved_out}" if stay.moved_out
                                                 else ""), field="resident_id")
    residency = Residency(resident_id=cmd.resident_id, unit_id=unit.id, relation=cmd.relation,
                          moved_in=cmd.moved_in)
    uow.add(residency)
    await uow.flush()
    assert residency.id is not None
    now = clock()
    await refresh_status(uow, unit, now.date())
    uow.audit(entry_by(cmd.actor, now, AuditAction.MOVED_IN, f"unit:{unit.id}", {
        "residency": str(residency.id), "resident": str(cmd.resident_id),
        "relation": cmd.relation.value, "on": cmd.moved_in.isoformat()}))
    await uow.commit()
    return residency.id


async def move_out(cmd: MoveOut, uow: UnitOfWork, clock: Clock) -> None:
    unit = await visible_unit(uow, cmd.actor, cmd.unit_id)
    assert unit.id is not None
    if not cmd.resident_ids or len(set(cmd.resident_ids)) != len(cmd.resident_ids):
        raise Invalid("name each resident moving out once", field="resident_ids")
    stays = await uow.find(Residency, unit_id=unit.id)
    ended: list[Residency] = []
    for n, resident_id in enumerate(cmd.resident_ids):
        stay = next((s for s in stays if s.resident_id == resident_id
                     and s.active_on(cmd.moved_out)), None)
        if stay is None:
            raise Invalid(f"resident {resident_id} does not live in this unit on "
                          f"{cmd.moved_out}", field=f"resident_ids.{n}")
        if stay.moved_in == cmd.moved_out:
            raise Invalid(f"resident {resident_id} moved in on {stay.moved_in}; a move-out "
                          "must come after it", field="moved_out")
        stay.moved_out = cmd.moved_out
        ended.append(stay)
    await _end_emptied_leases(uow, unit.id, stays, cmd.moved_out)
    now = clock()
    await refresh_status(uow, unit, now.date())
    uow.audit(entry_by(cmd.actor, now, AuditAction.MOVED_OUT, f"unit:{unit.id}", {
        "residencies": ",".join(str(s.id) for s in ended),
        "residents": ",".join(map(str, cmd.resident_ids)), "on": cmd.moved_out.isoformat(),
        "status": unit.status.value}))
    await uow.commit()


async def _end_emptied_leases(uow: UnitOfWork, unit_id: int, stays: Sequence[Residency],
                              day: date) -> None:
    """A lease whose tenants have all moved out ends on the day the last of them left."""
    for lease in await uow.find(Lease, unit_id=unit_id):
        if not lease.current_on(day) or day == lease.starts_on:
            continue
        tenants = {t.resident_id for t in lease.tenants}
        if not any(s.resident_id in tenants and s.active_on(day) for s in stays):
            lease.ends_on = day


async def refresh_status(uow: UnitOfWork, unit: Unit, today: date) -> None:
    assert unit.id is not None
    unit.status = derive_status(unit.status, await uow.find(Residency, unit_id=unit.id),
                                await uow.find(Lease, unit_id=unit.id), today)


async def refresh_unit_statuses(uow_factory: Callable[[], UnitOfWork], since: date,
                                today: date) -> int:
    """Bring the status of units whose residencies or leases began or ended after `since`,
    up to and including `today`, in line with them. Returns how many units changed.

    For the lead to schedule daily (as run_scheduled_announcements is): a move-out dated next
    week makes the unit vacant on that day, not when it was recorded."""
    changed = 0
    async with uow_factory() as uow:
        units: set[int] = set()
        for stay in await uow.find(Residency):
            if any(d is not None and since < d <= today for d in (stay.moved_in,
                                                                   stay.moved_out)):
                units.add(stay.unit_id)
        for lease in await uow.find(Lease):
            if any(since < d <= today for d in (lease.starts_on, lease.ends_on)):
                units.add(lease.unit_id)
        for unit_id in sorted(units):
            unit = await uow.get(Unit, unit_id)
            if unit is None:
                continue
            before = unit.status
            await refresh_status(uow, unit, today)
            changed += unit.status != before
        await uow.commit()
    return changed


class UnitStatusStep:
    """A hub.periodic step: each pass refreshes the units whose moves or leases fell due since
    the previous pass (the first pass looks back `lookback_days`). Dates are the clock's."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], lookback_days: int = 31) -> None:
        self._uow_factory = uow_factory
        self._lookback = timedelta(days=lookback_days)
        self._last: date | None = None

    async def __call__(self, now: datetime) -> int:
        today = now.date()
        since = self._last if self._last is not None else today - self._lookback
        changed = await refresh_unit_statuses(self._uow_factory, min(since, today), today)
        self._last = today
        return changed


async def _site_residents(uow: UnitOfWork, unit: Unit, ids: Sequence[int],
                          field: str) -> list[Resident]:
    """The residents named, each of the unit's site; others are named as not found there."""
    found = []
    for n, resident_id in enumerate(ids):
        resident = await uow.get(Resident, resident_id)
        if resident is None or resident.site_id != unit.site_id:
            where = field if len(ids) == 1 and field == "resident_id" else f"{field}.{n}"
            raise Invalid(f"resident {resident_id} is not a resident of this unit's site",
                          field=where)
        found.append(resident)
    return found


def _overlaps(stay: Residency, start: date, end: date) -> bool:
    return stay.moved_in < end and (stay.moved_out is None or start < stay.moved_out)


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    RecordOwnershipChange: record_ownership_change,
    RegisterLease: register_lease,
    MoveIn: move_in,
    MoveOut: move_out,
}
