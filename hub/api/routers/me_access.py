"""The resident app's doors and visitors: my QR code, my visitor passes, my access log."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import ActorDep, BusDep, HubDep, PagingDep, SessionDep, page_of
from hub.api.schemas.access import (
    AccessLogOut,
    IssuedPassOut,
    MyVisitorPassOut,
    QrOut,
    VisitorPassIn,
)
from hub.api.schemas.common import Id, Page
from hub.domain.access.codes import visitor_token
from hub.domain.access.model import PassStatus
from hub.handlers import access as h
from hub.handlers.access_common import AccessConfig
from hub.views import access as views
from hub.views.property import page

router = APIRouter(prefix="/api/v1/me", tags=["me"])


@router.get("/credentials/qr")
async def my_qr_code(actor: ActorDep, bus: BusDep) -> QrOut:
    """The code to show at a door now. It changes every `step_s` seconds: fetch it again at
    `expires_at` (a screenshot stops working shortly after)."""
    shown: h.QrCode = await bus.handle(h.ShowMyQrCode(actor))
    return QrOut(code=shown.code, expires_at=shown.expires_at, step_s=shown.step_s)


@router.post("/visitor-passes", status_code=201)
async def issue_visitor_pass(body: VisitorPassIn, actor: ActorDep, bus: BusDep
                             ) -> IssuedPassOut:
    """A pass for a visitor to my household: share `code` with them. With `needs_approval`
    (or when the site requires it) it admits once staff approve it."""
    issued: h.IssuedPass = await bus.handle(h.IssueVisitorPass(
        actor, body.visitor_name, body.valid_from, body.valid_until, body.unit_id,
        body.visitor_phone, body.entries, body.plate, body.free_minutes, body.needs_approval))
    return IssuedPassOut(id=issued.id, status=issued.status, code=issued.code)


@router.get("/visitor-passes")
async def my_visitor_passes(actor: ActorDep, db: SessionDep, paging: PagingDep, hub: HubDep,
                            status: PassStatus | None = None) -> Page[MyVisitorPassOut]:
    """My households' passes, newest first, with the code of those that may still admit."""
    items, total = await page(db, views.pass_query(actor, status), paging.limit,
                              paging.offset)
    secret = AccessConfig.from_settings(hub.settings).secret
    now = hub.clock()
    salts = await views.pass_salts(db, [item["id"] for item in items])
    for item in items:
        live = item["status"] in (PassStatus.ACTIVE, PassStatus.PENDING) \
            and item["valid_until"] > now
        item["code"] = "QR:" + visitor_token(secret, item["id"], salts[item["id"]]) \
            if live else None
    return Page[MyVisitorPassOut].model_validate(page_of(items, total, paging))


@router.delete("/visitor-passes/{visitor_pass_id}", status_code=204)
async def cancel_visitor_pass(visitor_pass_id: Id, actor: ActorDep, bus: BusDep) -> None:
    await bus.handle(h.CancelVisitorPass(actor, visitor_pass_id))


@router.get("/access-log")
async def my_access_log(actor: ActorDep, db: SessionDep, paging: PagingDep
                        ) -> Page[AccessLogOut]:
    """My entries at the doors and my visitors', newest first."""
    items, total = await page(db, views.log_query(actor), paging.limit, paging.offset)
    return Page[AccessLogOut].model_validate(page_of(items, total, paging))
