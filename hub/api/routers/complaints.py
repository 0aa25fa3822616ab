"""Complaints and suggestions: residents submit (with photos), follow and rate theirs;
staff list, reply, move and escalate those of their sites or buildings."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from hub.api.deps import ActorDep, BusDep, HubDep, PagingDep, SessionDep, page_of
from hub.api.limits import TooManyAttempts
from hub.api.schemas.common import Created, Id, Page
from hub.api.schemas.complaints import (
    ComplaintOut,
    EscalateIn,
    MyComplaintOut,
    RateIn,
    ReplyIn,
    StatusIn,
)
from hub.domain import complaints as d
from hub.domain.accounts import Actor
from hub.domain.complaints import MAX_PHOTOS, ComplaintCategory, ComplaintStatus
from hub.domain.errors import Invalid, NotFound
from hub.media import MAX_PHOTO_BYTES, Photo
from hub.store.notice_tables import complaints
from hub.views import complaints as views
from hub.views.property import one, page

router = APIRouter(prefix="/api/v1", tags=["complaints"])
FORM_FIELDS = frozenset({"unit_id", "category", "title", "content", "photos"})


@router.post("/me/complaints", status_code=201)
async def submit_complaint(
    request: Request, actor: ActorDep, bus: BusDep, hub: HubDep,
    category: Annotated[ComplaintCategory, Form()],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    content: Annotated[str, Form(min_length=1, max_length=d.MAX_CONTENT)],
    unit_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    photos: Annotated[list[UploadFile], File(description="JPEG or PNG, at most 5 MB each, "
                                                         "at most 5")] = [],  # noqa: B006
) -> Created:
    """multipart/form-data. Without unit_id, the one unit the resident lives in."""
    unknown = sorted(set((await request.form()).keys()) - FORM_FIELDS)
    if unknown:
        raise Invalid(f"body.{unknown[0]}: unknown or protected field; not accepted",
                      field=f"body.{unknown[0]}")
    if not hub.notices.complaint_limit.take(actor.account_id, time.monotonic()):
        raise TooManyAttempts("too many complaints from this account; try again later",
                              retry_after=600)
    if len(photos) > MAX_PHOTOS:
        raise Invalid(f"at most {MAX_PHOTOS} photos, not {len(photos)}", field="body.photos")
    unit = unit_id if unit_id is not None else _only_unit(actor)
    stored: list[Photo] = []
    checked = [await _checked(hub, upload, i) for i, upload in enumerate(photos)]
    for i, data in enumerate(checked):  # every photo checked before any is stored
        stored.append(await hub.notices.photos.save(data, field=f"body.photos.{i}"))
    command = d.SubmitComplaint(actor=actor, unit_id=unit, category=category,
                                title=title.strip(), content=content.strip(),
                                photos=tuple(p.ref for p in stored), at=hub.clock())
    return Created(id=await bus.handle(command))


def _only_unit(actor: Actor) -> int:
    if len(actor.unit_ids) != 1:
        raise Invalid("body.unit_id: say which of your units this is about",
                      field="body.unit_id")
    return next(iter(actor.unit_ids))


async def _checked(hub: HubDep, upload: UploadFile, i: int) -> bytes:
    data = await upload.read(MAX_PHOTO_BYTES + 1)
    name = (upload.filename or "")[:100]
    where = f"body.photos.{i}" + (f" ({name})" if name else "")
    try:
        hub.notices.photos.check(data, field=where)
    except Invalid as err:
        raise Invalid(err.message, field=f"body.photos.{i}") from None
    return data


@router.get("/me/complaints")
async def my_complaints(actor: ActorDep, db: SessionDep, paging: PagingDep,
                        status: ComplaintStatus | None = None) -> Page[MyComplaintOut]:
    query = views.complaint_query(actor, status=status)
    items, total = await page(db, query, paging.limit, paging.offset)
    items = await views.with_replies(db, items, for_staff=False)
    return Page[MyComplaintOut].model_validate(page_of(items, total, paging))


async def _one(db: SessionDep, actor: Actor, complaint_id: int, *,
               for_staff: bool) -> dict[str, Any]:
    query = views.complaint_query(actor).where(complaints.c.id == complaint_id)
    row = await one(db, query, "complaint", complaint_id)
    return (await views.with_replies(db, [row], for_staff=for_staff))[0]


@router.get("/me/complaints/{complaint_id}")
async def my_complaint(complaint_id: Id, actor: ActorDep, db: SessionDep) -> MyComplaintOut:
    return MyComplaintOut.model_validate(await _one(db, actor, complaint_id, for_staff=False))


@router.post("/me/complaints/{complaint_id}/rate", status_code=204)
async def rate_complaint(complaint_id: Id, body: RateIn, actor: ActorDep, bus: BusDep,
                         hub: HubDep) -> None:
    """Satisfaction 1-5, once, after a reply or closing."""
    await bus.handle(d.RateComplaint(actor=actor, complaint_id=complaint_id,
                                     satisfaction=body.satisfaction, comment=body.comment,
                                     at=hub.clock()))


async def _photo(db: SessionDep, hub: HubDep, actor: Actor, complaint_id: int,
                 photo_no: int) -> Response:
    """Found through the complaint, in the caller's scope; then by its reference."""
    row = await _one(db, actor, complaint_id, for_staff=False)
    if not 1 <= photo_no <= len(row["photos"]):
        raise NotFound("photo", photo_no)
    data, media_type = await hub.notices.photos.read(row["photos"][photo_no - 1])
    return Response(content=data, media_type=media_type,
                    headers={"Cache-Control": "private, max-age=86400"})


@router.get("/me/complaints/{complaint_id}/photos/{photo_no}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
async def my_complaint_photo(complaint_id: Id, photo_no: Id, actor: ActorDep, db: SessionDep,
                             hub: HubDep) -> Response:
    return await _photo(db, hub, actor, complaint_id, photo_no)


@router.get("/complaints")
async def list_complaints(
    actor: ActorDep, db: SessionDep, paging: PagingDep, hub: HubDep,
    site_id: Id | None = None, building_id: Id | None = None, unit_id: Id | None = None,
    status: ComplaintStatus | None = None, category: ComplaintCategory | None = None,
    escalated: bool | None = None, overdue: bool = False,
) -> Page[ComplaintOut]:
    query = views.complaint_query(actor, site_id=site_id, building_id=building_id,
                                  unit_id=unit_id, status=status, category=category,
                                  escalated=escalated,
                                  overdue_at=hub.clock() if overdue else None)
    items, total = await page(db, query, paging.limit, paging.offset)
    items = await views.with_replies(db, items, for_staff=True)
    return Page[ComplaintOut].model_validate(page_of(items, total, paging))


@router.get("/complaints/{complaint_id}")
async def get_complaint(complaint_id: Id, actor: ActorDep, db: SessionDep) -> ComplaintOut:
    return ComplaintOut.model_validate(await _one(db, actor, complaint_id, for_staff=True))


@router.get("/complaints/{complaint_id}/photos/{photo_no}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}})
async def complaint_photo(complaint_id: Id, photo_no: Id, actor: ActorDep, db: SessionDep,
                          hub: HubDep) -> Response:
    return await _photo(db, hub, actor, complaint_id, photo_no)


@router.post("/complaints/{complaint_id}/reply", status_code=201)
async def reply_to_complaint(complaint_id: Id, body: ReplyIn, actor: ActorDep, bus: BusDep,
                             hub: HubDep) -> Created:
    """The household is notified; the complaint becomes replied."""
    return Created(id=await bus.handle(d.ReplyToComplaint(
        actor=actor, complaint_id=complaint_id, body=body.body, at=hub.clock())))


@router.post("/complaints/{complaint_id}/status", status_code=204)
async def change_complaint_status(complaint_id: Id, body: StatusIn, actor: ActorDep,
                                  bus: BusDep, hub: HubDep) -> None:
    await bus.handle(d.ChangeComplaintStatus(actor=actor, complaint_id=complaint_id,
                                             status=body.status, at=hub.clock()))


@router.post("/complaints/{complaint_id}/escalate", status_code=204)
async def escalate_complaint(complaint_id: Id, actor: ActorDep, bus: BusDep, hub: HubDep,
                             body: EscalateIn | None = None) -> None:
    """To the site's managers (notified), once."""
    await bus.handle(d.EscalateComplaint(
        actor=actor, complaint_id=complaint_id, at=hub.clock(),
        reason=body.reason if body else "escalated by staff"))
