"""Announcements: staff write and publish them; residents read what applies to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import ActorDep, BusDep, HubDep, PagingDep, ReadDep, SessionDep, page_of
from hub.api.routers.property import set_fields
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.notices import (
    AnnouncementIn,
    AnnouncementOut,
    AnnouncementPatch,
    MyAnnouncementOut,
    PublishIn,
)
from hub.domain import notices as n
from hub.domain.notices import NoticeStatus
from hub.store.notice_tables import announcements
from hub.views import notices as views
from hub.views.property import household_page, household_params, one, page

router = APIRouter(prefix="/api/v1", tags=["announcements"])


@router.get("/announcements")
async def list_announcements(
    actor: ActorDep, db: SessionDep, paging: PagingDep, site_id: Id | None = None,
    building_id: Id | None = None, status: NoticeStatus | None = None,
    key: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[AnnouncementOut]:
    query = views.staff_query(actor, site_id=site_id, building_id=building_id, status=status,
                              key=key)
    items, total = await page(db, query, paging.limit, paging.offset)
    items = await views.with_targets(db, items)
    return Page[AnnouncementOut].model_validate(page_of(items, total, paging))


@router.post("/announcements", status_code=201)
async def create_announcement(body: AnnouncementIn, actor: ActorDep, bus: BusDep,
                              hub: HubDep) -> Created:
    command = n.CreateAnnouncement(
        actor=actor, site_id=body.site_id, title=body.title, body=body.body,
        audience=body.audience, building_ids=tuple(body.building_ids),
        unit_ids=tuple(body.unit_ids), pinned=body.pinned, publish_at=body.publish_at,
        expires_at=body.expires_at, publish=body.publish,
        notify_residents=body.notify_residents, at=hub.clock())
    return Created(id=await bus.handle(command))


@router.get("/announcements/{announcement_id}")
async def get_announcement(announcement_id: Id, actor: ActorDep,
                           db: SessionDep) -> AnnouncementOut:
    query = views.staff_query(actor).where(announcements.c.id == announcement_id)
    row = await one(db, query, "announcement", announcement_id)
    return AnnouncementOut.model_validate((await views.with_targets(db, [row]))[0])


@router.patch("/announcements/{announcement_id}", status_code=204)
async def change_announcement(announcement_id: Id, body: AnnouncementPatch, actor: ActorDep,
                              bus: BusDep, hub: HubDep) -> None:
    changes = set_fields(body, nullable=frozenset({"publish_at", "expires_at"}))
    await bus.handle(n.ChangeAnnouncement(actor=actor, announcement_id=announcement_id,
                                          changes=changes, at=hub.clock()))


@router.post("/announcements/{announcement_id}/publish", status_code=204)
async def publish_announcement(announcement_id: Id, actor: ActorDep, bus: BusDep, hub: HubDep,
                               body: PublishIn | None = None) -> None:
    await bus.handle(n.PublishAnnouncement(
        actor=actor, announcement_id=announcement_id, at=hub.clock(),
        notify_residents=body.notify_residents if body else False))


@router.post("/announcements/{announcement_id}/withdraw", status_code=204)
async def withdraw_announcement(announcement_id: Id, actor: ActorDep, bus: BusDep,
                                hub: HubDep) -> None:
    await bus.handle(n.EndAnnouncement(actor=actor, announcement_id=announcement_id,
                                       at=hub.clock()))


@router.get("/me/announcements")
async def my_announcements(actor: ActorDep, db: ReadDep, paging: PagingDep, hub: HubDep,
                           unread: bool | None = None) -> Page[MyAnnouncementOut]:
    """What applies to my units now (site-wide, my buildings, my units), pinned first."""
    items, total = await household_page(db, views.my_notices(unread),
                                        household_params(actor, now=hub.clock()),
                                        paging.limit, paging.offset)
    return Page[MyAnnouncementOut].model_validate(page_of(items, total, paging))


@router.post("/me/announcements/{announcement_id}/read", status_code=204)
async def read_announcement(announcement_id: Id, actor: ActorDep, bus: BusDep,
                            hub: HubDep) -> None:
    await bus.handle(n.ReadAnnouncement(actor=actor, announcement_id=announcement_id,
                                        at=hub.clock()))
