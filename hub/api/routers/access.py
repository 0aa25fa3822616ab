"""Access control for staff: doors, residents' cards, visitor passes to approve, a visitor's
code to check, a door to open by hand, and the access log (location data)."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import ActorDep, BusDep, HubDep, PagingDep, SessionDep, page_of
from hub.api.schemas.access import (
    AccessLogOut,
    CardIn,
    CredentialOut,
    DecideIn,
    DoorIn,
    DoorOut,
    OpenedOut,
    OpenIn,
    VerifiedOut,
    VerifyIn,
    VisitorPassOut,
)
from hub.api.schemas.common import Created, Id, Page
from hub.domain.access.model import PassStatus
from hub.handlers import access as h
from hub.views import access as views
from hub.views.property import page

router = APIRouter(prefix="/api/v1/access", tags=["access"])


@router.get("/doors")
async def list_doors(actor: ActorDep, db: SessionDep, paging: PagingDep,
                     site_id: Id | None = None) -> Page[DoorOut]:
    items, total = await page(db, views.door_query(actor, site_id), paging.limit,
                              paging.offset)
    return Page[DoorOut].model_validate(page_of(items, total, paging))


@router.post("/doors", status_code=201)
async def register_door(body: DoorIn, actor: ActorDep, bus: BusDep) -> Created:
    """A door controller (a device of kind `door`) and the building whose residents it
    admits; without a building, the whole site's (a site gate)."""
    return Created(id=await bus.handle(h.RegisterDoor(actor, body.device_id, body.name,
                                                      body.building_id)))


@router.post("/doors/{door_id}/open")
async def open_door(door_id: Id, body: OpenIn, actor: ActorDep, bus: BusDep) -> OpenedOut:
    """Open a door by hand for someone at it: the reason is kept in the access log, the
    opening in the audit log, and `unlock` goes to the door."""
    opened: h.DoorOpened = await bus.handle(h.OpenDoor(actor, door_id, body.reason))
    return OpenedOut(access_log_id=opened.log_id, command_id=opened.command_id,
                     status=opened.status)


@router.get("/credentials")
async def list_credentials(actor: ActorDep, db: SessionDep, paging: PagingDep, hub: HubDep,
                           resident_id: Id | None = None) -> Page[CredentialOut]:
    query = views.credential_query(actor, hub.clock().date(), resident_id)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[CredentialOut].model_validate(page_of(items, total, paging))


@router.post("/credentials", status_code=201)
async def issue_card(body: CardIn, actor: ActorDep, bus: BusDep) -> Created:
    """A card for a resident; only its keyed fingerprint is kept, never the number."""
    return Created(id=await bus.handle(h.IssueCard(actor, body.resident_id, body.card,
                                                   body.label)))


@router.post("/credentials/{credential_id}/revoke", status_code=204)
async def revoke_credential(credential_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.RevokeCredential(actor, credential_id))


@router.get("/visitor-passes")
async def list_visitor_passes(actor: ActorDep, db: SessionDep, paging: PagingDep,
                              status: PassStatus | None = None,
                              site_id: Id | None = None) -> Page[VisitorPassOut]:
    """Newest first; `status=pending` is what waits for approval."""
    items, total = await page(db, views.pass_query(actor, status, site_id), paging.limit,
                              paging.offset)
    shown = [views.shown_pass(actor, item) for item in items]
    return Page[VisitorPassOut].model_validate(page_of(shown, total, paging))


@router.post("/visitor-passes/{visitor_pass_id}/approve", status_code=204)
async def approve_visitor_pass(visitor_pass_id: Id, body: DecideIn, actor: ActorDep,
                               bus: BusDep) -> None:
    await bus.handle(h.DecideVisitorPass(actor, visitor_pass_id, True, body.note))


@router.post("/visitor-passes/{visitor_pass_id}/reject", status_code=204)
async def reject_visitor_pass(visitor_pass_id: Id, body: DecideIn, actor: ActorDep,
                              bus: BusDep) -> None:
    await bus.handle(h.DecideVisitorPass(actor, visitor_pass_id, False, body.note))


@router.post("/verify")
async def verify_visitor_code(body: VerifyIn, actor: ActorDep, bus: BusDep) -> VerifiedOut:
    """Who a visitor's code is for and whether it admits now; counts no entry, audited."""
    verified: h.Verified = await bus.handle(h.VerifyVisitorCode(actor, body.code))
    found = verified.visitor_pass
    shown = None if found is None else VisitorPassOut.model_validate(
        views.shown_pass(actor, {c.name: getattr(found, c.name) for c in views.PASS_COLUMNS}))
    return VerifiedOut(valid=verified.decision.allowed,
                       reasons=list(verified.decision.reasons), visitor_pass=shown)


@router.get("/log")
async def access_log(actor: ActorDep, db: SessionDep, paging: PagingDep,
                     site_id: Id | None = None, door_id: Id | None = None,
                     resident_id: Id | None = None,
                     visitor_pass_id: Id | None = None) -> Page[AccessLogOut]:
    """Every decision at a door, newest first: location data, for security and managers."""
    query = views.log_query(actor, site_id=site_id, door_id=door_id, resident_id=resident_id,
                            visitor_pass_id=visitor_pass_id)
    items, total = await page(db, query, paging.limit, paging.offset)
    return Page[AccessLogOut].model_validate(page_of(items, total, paging))
