"""The resident app's parking: my household's cars' stays and their charges."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import ActorDep, PagingDep, SessionDep, page_of
from hub.api.schemas.common import Page
from hub.api.schemas.parking_sessions import ChargeOut, MySessionOut
from hub.views import parking_sessions as views
from hub.views.property import page

router = APIRouter(prefix="/api/v1/me/parking", tags=["me"])


@router.get("/sessions")
async def my_sessions(actor: ActorDep, db: SessionDep, paging: PagingDep) -> Page[MySessionOut]:
    """Stays of my household's vehicles and of cars I host, newest first."""
    items, total = await page(db, views.session_query(actor), paging.limit, paging.offset)
    return Page[MySessionOut].model_validate(page_of(items, total, paging))


@router.get("/charges")
async def my_charges(actor: ActorDep, db: SessionDep, paging: PagingDep) -> Page[ChargeOut]:
    """Charges of those stays, itemised."""
    items, total = await page(db, views.charge_query(actor), paging.limit, paging.offset)
    return Page[ChargeOut].model_validate(page_of(items, total, paging))
