"""Residents, their national ID numbers (sealed), and their residencies."""

from __future__ import annotations

from hub.domain import national_id
from hub.domain.audit import AuditAction, entry_by
from hub.domain.commands import (
    AddResidency,
    EndResidency,
    RegisterResident,
    ResidencyIn,
    RevealNationalId,
)
from hub.domain.errors import Conflict, Invalid, NotFound
from hub.domain.residents import Residency, Resident
from hub.handlers.scope import managed_site, visible_residency, visible_resident, visible_unit
from hub.ports import Clock, UnitOfWork
from hub.security.pii import PiiVault

MIN_REASON = 5


async def register_resident(cmd: RegisterResident, uow: UnitOfWork, vault: PiiVault) -> int:
    if cmd.residencies:
        for wanted in cmd.residencies:
            unit = await visible_unit(uow, cmd.actor, wanted.unit_id)
            if unit.site_id != cmd.site_id:
                raise Invalid("a residency's unit must be in the resident's site",
                              field="residencies.unit_id")
    else:
        await managed_site(uow, cmd.actor, cmd.site_id)
    resident = Resident(site_id=cmd.site_id, name=cmd.name, phone=cmd.phone)
    uow.add(resident)
    if cmd.national_id is not None:
        await set_national_id(uow, vault, resident, cmd.national_id)
    await uow.flush()
    assert resident.id is not None
    for wanted in cmd.residencies:
        uow.add(_residency(resident.id, wanted))
    await uow.commit()
    return resident.id


async def add_residency(cmd: AddResidency, uow: UnitOfWork) -> int:
    resident = await visible_resident(uow, cmd.actor, cmd.resident_id)
    unit = await visible_unit(uow, cmd.actor, cmd.residency.unit_id)
    if unit.site_id != resident.site_id:
        raise Invalid("the unit must be in the resident's site", field="unit_id")
    assert resident.id is not None
    for current in await uow.find(Residency, resident_id=resident.id, unit_id=unit.id):
        if current.moved_out is None:
            raise Conflict("this resident already lives in this unit", field="unit_id")
    residency = _residency(resident.id, cmd.residency)
    uow.add(residency)
    await uow.commit()
    assert residency.id is not None
    return residency.id


async def end_residency(cmd: EndResidency, uow: UnitOfWork) -> None:
    residency = await visible_residency(uow, cmd.actor, cmd.residency_id)
    residency.move_out(cmd.moved_out)
    await uow.commit()


async def reveal_national_id(cmd: RevealNationalId, uow: UnitOfWork, vault: PiiVault,
                             clock: Clock) -> str:
    resident = await visible_resident(uow, cmd.actor, cmd.resident_id)
    if len(cmd.reason.strip()) < MIN_REASON:
        raise Invalid(f"reason must say why, in at least {MIN_REASON} characters",
                      field="reason")
    if resident.national_id_cipher is None or resident.id is None:
        raise NotFound("national_id of resident", cmd.resident_id)
    plain = vault.decrypt(resident.national_id_cipher, context(resident.id))
    # The reason is the staff member's own words; it is kept, but never the number.
    uow.audit(entry_by(cmd.actor, clock(), AuditAction.PII_REVEALED, f"resident:{resident.id}",
                     {"field": "national_id", "reason": cmd.reason.strip()[:200]}))
    await uow.commit()
    return plain


async def set_national_id(uow: UnitOfWork, vault: PiiVault, resident: Resident,
                          raw: str) -> None:
    """Validate, index, mask and seal a number; the ciphertext is bound to the resident's id."""
    value = national_id.normalise(raw)
    index = vault.blind_index(value)
    same = await uow.find_one(Resident, site_id=resident.site_id, national_id_index=index)
    if same is not None and same is not resident:
        raise Conflict("a resident with this national_id exists in this site",
                       field="national_id")
    resident.national_id_index = index
    resident.national_id_masked = national_id.mask(value)
    await uow.flush()  # the id, which the ciphertext is bound to
    assert resident.id is not None
    resident.national_id_cipher = vault.encrypt(value, context(resident.id))


def context(resident_id: int) -> str:
    return f"resident:{resident_id}:national_id"


def _residency(resident_id: int, wanted: ResidencyIn) -> Residency:
    return Residency(resident_id=resident_id, unit_id=wanted.unit_id,
                     relation=wanted.relation, moved_in=wanted.moved_in)
