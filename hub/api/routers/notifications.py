"""My notifications: the feed, read state, the live stream (SSE) and my preferences."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from hub.api.deps import (
    ActorDep,
    BusDep,
    CallerDep,
    HubDep,
    PagingDep,
    ReadDep,
    SessionDep,
    page_of,
)
from hub.api.limits import TooManyAttempts
from hub.api.schemas.common import Id
from hub.api.schemas.notifications import (
    FeedPage,
    PreferencesIn,
    PreferencesOut,
    ReadAllOut,
)
from hub.domain import notifications as d
from hub.domain.accounts import Account, AuthSession
from hub.domain.errors import Invalid
from hub.domain.notifications import Category
from hub.notify.broker import LiveItem, Subscription
from hub.views import notifications as views
from hub.views.property import household_page, household_params

router = APIRouter(prefix="/api/v1/me", tags=["notifications"])
MISSED_MAX = 100  # sent again on reconnect (Last-Event-ID)
STREAM_MAX_S = 300.0  # then the client reconnects: no connection lives for ever


@router.get("/notifications")
async def my_notifications(actor: ActorDep, db: ReadDep, paging: PagingDep,
                           unread: bool | None = None,
                           category: Category | None = None) -> FeedPage:
    items, total = await household_page(db, views.my_feed(unread, category),
                                        household_params(actor), paging.limit, paging.offset)
    return FeedPage.model_validate({**page_of(items, total, paging),
                                    "unread": await views.unread_count(db, actor.account_id)})


@router.post("/notifications/{notification_id}/read", status_code=204)
async def read_notification(notification_id: Id, actor: ActorDep, bus: BusDep,
                            hub: HubDep) -> None:
    await bus.handle(d.ReadNotification(actor=actor, notification_id=notification_id,
                                        at=hub.clock()))


@router.post("/notifications/read-all")
async def read_all_notifications(actor: ActorDep, bus: BusDep, hub: HubDep) -> ReadAllOut:
    return ReadAllOut(marked=await bus.handle(d.ReadAllNotifications(actor=actor,
                                                                     at=hub.clock())))


def sse(item: LiveItem) -> str:
    data = json.dumps(item.data, ensure_ascii=False, separators=(",", ":"))
    head = f"id: {item.id}\n" if item.id is not None else ""
    return f"{head}event: {item.event}\ndata: {data}\n\n"


# The feed rows after an id, oldest first: what a stream missed, or what another worker
# stored (the broker is per process; several `hub run` workers share the database).
Since = Callable[[int], Awaitable[list[LiveItem]]]
SignedIn = Callable[[], Awaitable[bool]]


async def _always() -> bool:
    return True


async def stream_events(subscription: Subscription, since: Since, after: int,
                        heartbeat_s: float, max_s: float,
                        signed_in: SignedIn = _always) -> AsyncGenerator[str, None]:
    """The rows after `after`, then live items as they come. When nothing came for
    `heartbeat_s`, the rows stored meanwhile (by any worker), else a comment line as
    heartbeat. Each id is sent once. Ends after `max_s` (`event: reconnect`: the client comes
    back with Last-Event-ID) or when the broker drops a subscriber too slow to keep up.
    At every heartbeat the login behind the stream is checked again: after a logout, a
    disabled account or an expired session it ends with `event: signed-out`, so a stream
    opened before never outlives its login by more than one heartbeat."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_s
    last = after
    try:
        yield "retry: 5000\n: connected\n\n"
        for item in await since(last):
            last = max(last, item.id or 0)
            yield sse(item)
        while (left := deadline - loop.time()) > 0:
            try:
                live = await subscription.next(min(heartbeat_s, left))
            except TimeoutError:
                if not await signed_in():
                    yield "event: signed-out\ndata: {}\n\n"
                    return
                stored = await since(last)
                for item in stored:
                    last = max(last, item.id or 0)
                    yield sse(item)
                if not stored:
                    yield ": heartbeat\n\n"
                continue
            if live is None:
                yield "event: dropped\ndata: {}\n\n"
                return
            if live.id is None or live.id > last:
                last = max(last, live.id or 0)
                yield sse(live)
        yield "event: reconnect\ndata: {}\n\n"
    finally:
        subscription.close()


@router.get("/notifications/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def notification_stream(
    caller: CallerDep, hub: HubDep,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
    accept: Annotated[str, Header(max_length=500)] = "",
    max_s: Annotated[float, Query(ge=0, le=STREAM_MAX_S,
                                  description="close the stream after this many seconds "
                                              "(0: what was missed, then close)")
                     ] = STREAM_MAX_S,
) -> StreamingResponse:
    """Server-Sent Events: `event: notification` with the feed row as JSON data. With a
    Last-Event-ID header, the notifications after it come first (at most 100). A client
    that does not send `Accept: text/event-stream` (EventSource does) gets what was missed
    and the end at once, not a connection held open."""
    if "text/event-stream" not in accept:
        max_s = 0.0
    if last_event_id and not last_event_id.isdigit():
        raise Invalid("Last-Event-ID must be a notification id", field="header.last-event-id")
    account, login_id = caller.actor.account_id, caller.session_id

    async def signed_in() -> bool:
        async with hub.sessions() as db:
            login = await db.get(AuthSession, login_id)
            user = await db.get(Account, account)
            return (login is not None and login.live_at(hub.clock())
                    and user is not None and user.active)

    async def since(after: int) -> list[LiveItem]:
        # A session of its own each time: a dependency's would stay open for the whole stream.
        async with hub.sessions() as db:
            rows = (await db.execute(views.feed_query(account, after_id=after)
                                     .limit(MISSED_MAX))).all()
        return [LiveItem("notification", r.id, views.live_data(r._mapping))
                for r in reversed(rows)]

    if last_event_id:
        after = int(last_event_id)
    else:  # before subscribing: what is stored after this point comes live or by polling
        async with hub.sessions() as db:
            after = await views.newest_id(db, account)
    try:
        subscription = hub.notices.broker.subscribe(account)
    except OverflowError:
        raise TooManyAttempts("too many live streams; read the feed instead",
                              retry_after=30) from None
    return StreamingResponse(
        stream_events(subscription, since, after, hub.notices.heartbeat_s, max_s, signed_in),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/notification-preferences")
async def my_preferences(actor: ActorDep, db: SessionDep) -> PreferencesOut:
    return PreferencesOut.model_validate(await views.preferences(db, actor.account_id))


@router.put("/notification-preferences")
async def set_preferences(body: PreferencesIn, actor: ActorDep, bus: BusDep,
                          db: SessionDep) -> PreferencesOut:
    await bus.handle(d.SetNotificationPreferences(
        actor=actor, channels={k.value: sorted({c.value for c in v})
                               for k, v in body.channels.items()},
        quiet_start=body.quiet_start, quiet_end=body.quiet_end, timezone=body.timezone))
    await db.rollback()  # read what was just stored, not a snapshot from before
    return PreferencesOut.model_validate(await views.preferences(db, actor.account_id))

