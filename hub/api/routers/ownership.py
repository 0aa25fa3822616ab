"""A unit's ownership history (产权变更), leases, move-in and move-out, for staff."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import ActorDep, BusDep, HubDep, SessionDep
from hub.api.schemas.common import Created, Id
from hub.api.schemas.ownership import (
    LeaseIn,
    LeaseOut,
    MoveInIn,
    MoveOutIn,
    OwnershipChangeIn,
    OwnershipHistoryOut,
)
from hub.handlers.ownership import MoveIn, MoveOut, RecordOwnershipChange, RegisterLease
from hub.views import household as views

router = APIRouter(prefix="/api/v1/units/{unit_id}", tags=["ownership"])


@router.get("/ownership")
async def ownership_history(unit_id: Id, actor: ActorDep, db: SessionDep,
                            hub: HubDep) -> OwnershipHistoryOut:
    """The chain of owners, newest first, with the unit's status and vacancy today."""
    found = await views.ownership_history(db, actor, unit_id, hub.clock().date())
    return OwnershipHistoryOut.model_validate(found)


@router.post("/ownership", status_code=201)
async def record_ownership_change(unit_id: Id, body: OwnershipChangeIn, actor: ActorDep,
                                  bus: BusDep) -> Created:
    """Close the current ownership on `on` and open the next; a change on or before the
    current ownership's start is refused (409) with both dates, and nothing changes."""
    command = RecordOwnershipChange(
        actor, unit_id=unit_id, on=body.on, reason=body.reason,
        owners=tuple((o.resident_id, o.share) for o in body.owners),
        document_ref=body.document_ref, note=body.note)
    return Created(id=await bus.handle(command))


@router.get("/leases")
async def list_leases(unit_id: Id, actor: ActorDep, db: SessionDep,
                      hub: HubDep) -> list[LeaseOut]:
    rows = await views.leases_of(db, actor, unit_id, hub.clock().date())
    return [LeaseOut.model_validate(row) for row in rows]


@router.post("/leases", status_code=201)
async def register_lease(unit_id: Id, body: LeaseIn, actor: ActorDep, bus: BusDep) -> Created:
    """A rental registration: the tenants live in the unit for the lease's dates."""
    command = RegisterLease(actor, unit_id=unit_id, tenant_ids=tuple(body.tenant_ids),
                            starts_on=body.starts_on, ends_on=body.ends_on,
                            document_ref=body.document_ref, monthly_rent=body.monthly_rent)
    return Created(id=await bus.handle(command))


@router.post("/move-in", status_code=201)
async def move_in(unit_id: Id, body: MoveInIn, actor: ActorDep, bus: BusDep) -> Created:
    """Open a residency at a date; answers the residency's id."""
    return Created(id=await bus.handle(MoveIn(actor, unit_id=unit_id,
                                              resident_id=body.resident_id,
                                              relation=body.relation,
                                              moved_in=body.moved_in)))


@router.post("/move-out", status_code=204)
async def move_out(unit_id: Id, body: MoveOutIn, actor: ActorDep, bus: BusDep) -> None:
    """End the residents' residencies at a date; the last one out leaves the unit vacant."""
    await bus.handle(MoveOut(actor, unit_id=unit_id, resident_ids=tuple(body.resident_ids),
                             moved_out=body.moved_out))
