"""Announcements and notifications through the API: staff write within their scope,
residents see what applies to them at the hub's time with their read flag, the feed, the
live stream and preferences."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx

from hub.domain.accounts import SYSTEM, Role
from hub.domain.commands import CreateAccount, GrantIn, Login
from hub.domain.notifications import Channel
from hub.domain.outcomes import Cause, Notify
from hub.notify.broker import LiveItem
from tests.integration.api.conftest import Api
from tests.integration.api.probing import snapshot
from tests.integration.api.world import PASSWORD
from tests.integration.notices.conftest import Clock

HOUR = timedelta(hours=1)


def _clock(api: Api) -> Clock:
    clock = Clock(api.hub.clock())
    api.hub.clock = clock
    return clock


async def _announce(api: Api, username: str = "desk", **body: Any) -> httpx.Response:
    values: dict[str, Any] = {"site_id": api.world.lakeside, "title": "Water off",
                              "body": "Tuesday 10:00-12:00", "publish": True}
    values.update(body)
    return await api.client.post("/api/v1/announcements", json=values,
                                 headers=api.world.auth(username))


async def _mine(api: Api, username: str, **params: Any) -> dict[str, dict[str, Any]]:
    response = await api.client.get("/api/v1/me/announcements", params=params,
                                    headers=api.world.auth(username))
    assert response.status_code == 200, response.text
    return {item["title"]: item for item in response.json()["items"]}


async def test_scheduled_notices_show_only_between_publication_and_expiry(api: Api) -> None:
    w, clock = api.world, _clock(api)
    start = clock.now
    made = await _announce(api, title="Lift B1 service", audience="buildings",
                           building_ids=[w.b1], publish_at=(start + HOUR).isoformat(),
                           expires_at=(start + 3 * HOUR).isoformat())
    assert made.status_code == 201, made.text
    seen = {}
    for hours in (0, 1, 2, 3):
        clock.now = start + hours * HOUR
        seen[hours] = "Lift B1 service" in await _mine(api, "alice")
    print(f"alice sees the scheduled notice at +0h..+3h: {seen}")
    assert seen == {0: False, 1: True, 2: True, 3: False}


async def test_an_announcement_reaches_its_buildings_or_units_and_no_one_else(
        api: Api) -> None:
    w = api.world
    targeted: tuple[tuple[str, str, dict[str, Any]], ...] = (
        ("B2 only", "buildings", {"building_ids": [w.b2]}),
        ("Unit B only", "units", {"unit_ids": [w.unit_b]}),
        ("Everyone", "site", {}))
    for title, audience, targets in targeted:
        made = await _announce(api, title=title, audience=audience, **targets)
        assert made.status_code == 201, made.text
    alice, bob = await _mine(api, "alice"), await _mine(api, "bob")
    assert "Everyone" in alice and "Everyone" in bob
    assert "Unit B only" in bob and "Unit B only" not in alice
    assert "B2 only" not in alice and "B2 only" not in bob
    assert "Riverside gate repaint" not in alice  # the other site's


async def test_read_state_is_per_resident_and_pinned_notices_come_first(api: Api) -> None:
    w = api.world
    pinned = (await _announce(api, title="Fire drill Saturday", pinned=True)).json()["id"]
    await _announce(api, title="Newer, not pinned")
    alice = await api.client.get("/api/v1/me/announcements", headers=w.auth("alice"))
    assert alice.json()["items"][0]["title"] == "Fire drill Saturday"
    read = await api.client.post(f"/api/v1/me/announcements/{pinned}/read",
                                 headers=w.auth("alice"))
    twice = await api.client.post(f"/api/v1/me/announcements/{pinned}/read",
                                  headers=w.auth("alice"))
    assert (read.status_code, twice.status_code) == (204, 204)
    alice_flags = {t: a["read"] for t, a in (await _mine(api, "alice")).items()}
    bob_flags = {t: a["read"] for t, a in (await _mine(api, "bob")).items()}
    print(f"read flags: alice {alice_flags}, bob {bob_flags}")
    assert alice_flags["Fire drill Saturday"] is True
    assert bob_flags["Fire drill Saturday"] is False
    unread = await _mine(api, "alice", unread="true")
    assert "Fire drill Saturday" not in unread and "Newer, not pinned" in unread


async def test_a_resident_cannot_mark_what_is_not_addressed_to_them(api: Api) -> None:
    w = api.world
    for ident in (w.ann_b2, w.ann_river):
        response = await api.client.post(f"/api/v1/me/announcements/{ident}/read",
                                         headers=w.auth("alice"))
        assert response.status_code == 404


async def test_withdrawn_disappears_and_cannot_be_changed(api: Api) -> None:
    w = api.world
    ident = (await _announce(api, title="Gas check")).json()["id"]
    withdrawn = await api.client.post(f"/api/v1/announcements/{ident}/withdraw",
                                      headers=w.auth("manager"))
    assert withdrawn.status_code == 204
    assert "Gas check" not in await _mine(api, "alice")
    patch = await api.client.patch(f"/api/v1/announcements/{ident}", json={"pinned": True},
                                   headers=w.auth("desk"))
    again = await api.client.post(f"/api/v1/announcements/{ident}/withdraw",
                                  headers=w.auth("desk"))
    assert (patch.status_code, again.status_code) == (409, 409)
    staff = (await api.client.get(f"/api/v1/announcements/{ident}",
                                  headers=w.auth("desk"))).json()
    assert staff["status"] == "withdrawn"


async def test_a_draft_published_later_with_notify_fills_the_residents_feeds(
        api: Api) -> None:
    w = api.world
    ident = (await _announce(api, title="Elevator upgrade", publish=False, audience="buildings",
                             building_ids=[w.b1])).json()["id"]
    assert "Elevator upgrade" not in await _mine(api, "alice")
    published = await api.client.post(f"/api/v1/announcements/{ident}/publish",
                                      json={"notify_residents": True}, headers=w.auth("desk"))
    assert published.status_code == 204
    feeds = {u: [n["title"] for n in (await api.client.get(
        "/api/v1/me/notifications", headers=w.auth(u))).json()["items"]]
        for u in ("alice", "bob", "manager")}
    assert "Elevator upgrade" in feeds["alice"] and "Elevator upgrade" in feeds["bob"]
    assert "Elevator upgrade" not in feeds["manager"]


async def test_bad_windows_and_fields_are_422_naming_them(api: Api) -> None:
    w = api.world
    start = api.hub.clock()
    backwards = await _announce(api, publish_at=(start + HOUR).isoformat(),
                                expires_at=start.isoformat())
    naive = await _announce(api, publish_at="2030-01-01T08:00:00")
    no_buildings = await _announce(api, audience="buildings")
    ident = w.ann_b1
    patch = await api.client.patch(f"/api/v1/announcements/{ident}",
                                   json={"expires_at": "2000-01-01T00:00:00Z"},
                                   headers=w.auth("desk"))
    forged = await api.client.patch(f"/api/v1/announcements/{ident}",
                                    json={"pinned": True, "status": "draft"},
                                    headers=w.auth("desk"))
    fields = [r.json()["error"]["field"] for r in (backwards, naive, no_buildings, patch,
                                                   forged)]
    assert [r.status_code for r in (backwards, naive, no_buildings, patch, forged)] == \
        [422] * 5
    assert fields == ["expires_at", "body.publish_at", "building_ids", "expires_at",
                      "body.status"]


async def _building_desk(api: Api) -> dict[str, str]:
    """A service desk account of lakeside's Building 2 only."""
    w = api.world
    await api.hub.bus.handle(CreateAccount(SYSTEM, username="b2-desk", password=PASSWORD,
                                           role=Role.SERVICE_DESK,
                                           grants=(GrantIn(w.lakeside, w.b2),)))
    tokens = await api.hub.bus.handle(Login("b2-desk", PASSWORD))
    return {"Authorization": f"Bearer {tokens.access_token}"}


async def test_building_staff_see_and_write_only_for_their_buildings(api: Api) -> None:
    w = api.world
    auth = await _building_desk(api)
    listed = (await api.client.get("/api/v1/announcements", headers=auth)).json()
    ids = {a["id"] for a in listed["items"]}
    assert ids == {w.ann_lakeside, w.ann_b2}
    site_wide = await api.client.post("/api/v1/announcements", headers=auth, json={
        "site_id": w.lakeside, "title": "All of lakeside"})
    to_b1 = await api.client.post("/api/v1/announcements", headers=auth, json={
        "site_id": w.lakeside, "title": "B1", "audience": "buildings", "building_ids": [w.b1]})
    to_b2 = await api.client.post("/api/v1/announcements", headers=auth, json={
        "site_id": w.lakeside, "title": "B2", "audience": "buildings", "building_ids": [w.b2]})
    change_site_wide = await api.client.post(f"/api/v1/announcements/{w.ann_lakeside}/withdraw",
                                             headers=auth)
    b1 = await api.client.get(f"/api/v1/announcements/{w.ann_b1}", headers=auth)
    assert [r.status_code for r in (site_wide, to_b1, to_b2, change_site_wide, b1)] == \
        [403, 404, 201, 403, 404]


async def test_the_feed_read_state_is_the_callers_own(api: Api) -> None:
    w = api.world
    feed = (await api.client.get("/api/v1/me/notifications", headers=w.auth("alice"))).json()
    assert [n["id"] for n in feed["items"]] == [w.note_alice]
    assert feed["unread"] == 1
    before = await snapshot(api, skip=frozenset({"audit_log"}))
    bobs = await api.client.post(f"/api/v1/me/notifications/{w.note_bob}/read",
                                 headers=w.auth("alice"))
    assert bobs.status_code == 404
    assert await snapshot(api, skip=frozenset({"audit_log"})) == before
    mine = await api.client.post(f"/api/v1/me/notifications/{w.note_alice}/read",
                                 headers=w.auth("alice"))
    assert mine.status_code == 204
    after = (await api.client.get("/api/v1/me/notifications", headers=w.auth("alice"))).json()
    assert after["unread"] == 0
    assert after["items"][0]["read_at"] is not None
    bob = (await api.client.get("/api/v1/me/notifications", params={"unread": "true"},
                                headers=w.auth("bob"))).json()
    assert [n["id"] for n in bob["items"]] == [w.note_bob]
    marked = await api.client.post("/api/v1/me/notifications/read-all", headers=w.auth("bob"))
    assert marked.json() == {"marked": 1}


async def test_preferences_default_then_stored_and_bad_ones_named(api: Api) -> None:
    w = api.world
    auth = w.auth("alice")
    defaults = (await api.client.get("/api/v1/me/notification-preferences",
                                     headers=auth)).json()
    assert defaults["channels"]["alert"] == ["in_app", "sms"]
    assert defaults["quiet_start"] is None
    stored = await api.client.put("/api/v1/me/notification-preferences", headers=auth, json={
        "channels": {"announcement": ["wechat"], "billing": []},
        "quiet_start": "22:00", "quiet_end": "07:00"})
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body["channels"]["announcement"] == ["in_app", "wechat"]
    assert body["channels"]["billing"] == ["in_app"]
    assert (body["quiet_start"], body["quiet_end"]) == ("22:00", "07:00")
    bob = (await api.client.get("/api/v1/me/notification-preferences",
                                headers=w.auth("bob"))).json()
    assert bob["quiet_start"] is None
    bad = {
        "body.channels.gossip": {"channels": {"gossip": ["sms"]}},
        "body.channels.alert.0": {"channels": {"alert": ["pigeon"]}},
        "body.quiet_start": {"quiet_start": "25:00", "quiet_end": "07:00"},
        "quiet_end": {"quiet_start": "22:00"},
        "timezone": {"timezone": "Mars/Olympus"},
        "body.account_id": {"account_id": w.accounts["bob"]},
    }
    for field, payload in bad.items():
        response = await api.client.put("/api/v1/me/notification-preferences", headers=auth,
                                        json=payload)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["error"]["field"].startswith(field), response.text


async def test_quiet_hours_and_rate_limits_apply_to_texts_not_to_the_feed(api: Api) -> None:
    w, hub = api.world, api.hub
    sms = hub.notices.notifier.providers[Channel.SMS]
    await api.client.put("/api/v1/me/notification-preferences", headers=w.auth("alice"),
                         json={"channels": {"general": ["sms"]},
                               "quiet_start": "00:00", "quiet_end": "23:59"})
    await api.client.put("/api/v1/me/notification-preferences", headers=w.auth("bob"),
                         json={"channels": {"general": ["sms"]}})
    sent_before = len(sms.sent)  # type: ignore[attr-defined]
    for i in range(7):
        await hub.bus.handle(Notify(site_id=w.lakeside, building_id=w.b1, title=f"Notice {i}",
                                    body="", at=_late_evening(), cause=Cause()))
    texts = [m.account_id for m in sms.sent[sent_before:]]  # type: ignore[attr-defined]
    counts = dict(hub.notices.notifier.counts)
    print(f"7 notices to b1: texts to {texts}; counts {counts}")
    assert texts == [w.accounts["bob"]] * 5  # 5 an hour; alice is in quiet hours
    assert counts["rate_limited.sms"] == 2
    assert counts["held_quiet_hours"] == 7
    feed = (await api.client.get("/api/v1/me/notifications", headers=w.auth("alice"))).json()
    assert feed["unread"] == 8  # the seeded one and all seven


def _late_evening() -> datetime:
    return datetime.fromisoformat("2026-11-27T15:30:00+00:00")  # 23:30 in Shanghai


async def test_the_stream_delivers_a_notification_published_after_subscribing(
        api: Api) -> None:
    """The app driven over ASGI directly: httpx's ASGI transport returns only whole bodies."""
    w = api.world
    sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    gone = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        await sent.put(message)

    path = "/api/v1/me/notifications/stream"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
             "server": ("hub.test", 80),
             "headers": [(b"host", b"hub.test"), (b"accept", b"text/event-stream"),
                         (b"authorization", w.auth("alice")["Authorization"].encode())]}
    app = asyncio.create_task(api.app(scope, receive, send))  # type: ignore[arg-type]
    start = await sent.get()
    assert start["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
    assert (await sent.get())["body"].startswith(b"retry: 5000")
    assert api.hub.notices.broker.subscribers == 1
    await api.hub.bus.handle(Notify(site_id=w.lakeside, building_id=w.b1, title="Lift B1 back",
                                    body="In service again", at=api.hub.clock(),
                                    cause=Cause(rule_id="elevator.offline")))
    event = (await sent.get())["body"].decode()
    print(f"streamed: {event!r}")
    assert event.startswith("id: ") and "event: notification" in event
    assert '"title":"Lift B1 back"' in event and '"rule_id":"elevator.offline"' in event
    gone.set()
    await app
    assert api.hub.notices.broker.subscribers == 0


async def test_a_reconnecting_stream_gets_what_it_missed_first(api: Api) -> None:
    w = api.world
    response = await api.client.get("/api/v1/me/notifications/stream",
                                    params={"max_s": 0},
                                    headers={**w.auth("alice"),
                                             "Last-Event-ID": str(w.note_alice - 1)})
    assert response.status_code == 200
    assert f"id: {w.note_alice}\nevent: notification\n" in response.text
    assert response.text.endswith("event: reconnect\ndata: {}\n\n")
    bad = await api.client.get("/api/v1/me/notifications/stream", params={"max_s": 0},
                               headers={**w.auth("alice"), "Last-Event-ID": "abc"})
    assert bad.status_code == 422


async def test_health_reports_live_streams_and_drops(api: Api) -> None:
    broker = api.hub.notices.broker
    slow = broker.subscribe(api.world.accounts["alice"])
    for i in range(broker.queue_size + 1):
        broker.publish(api.world.accounts["alice"], LiveItem("notification", i, {}))
    report = (await api.client.get("/health")).json()["components"]["notifications"]
    print(f"/health notifications: {report}")
    assert slow.dropped
    assert (report["status"], report["subscribers"], report["dropped_subscribers"]) == \
        ("ok", 0, 1)


async def test_rescheduling_a_published_notice_moves_it_and_clearing_the_time_shows_it_now(
        api: Api) -> None:
    w, clock = api.world, _clock(api)
    ident = (await _announce(api, title="Pool closed")).json()["id"]
    later = await api.client.patch(f"/api/v1/announcements/{ident}", headers=w.auth("desk"),
                                   json={"publish_at": (clock.now + HOUR).isoformat()})
    assert later.status_code == 204
    assert "Pool closed" not in await _mine(api, "alice")
    cleared = await api.client.patch(f"/api/v1/announcements/{ident}", headers=w.auth("desk"),
                                     json={"publish_at": None})
    assert cleared.status_code == 204
    assert "Pool closed" in await _mine(api, "alice")


async def test_a_client_not_asking_for_an_event_stream_is_not_held_open(api: Api) -> None:
    """Crawlers and API tools (schemathesis) send no `Accept: text/event-stream`: they get
    the stream's start and its end at once, whatever max_s says."""
    response = await api.client.get("/api/v1/me/notifications/stream", params={"max_s": 300},
                                    headers=api.world.auth("alice"))
    assert response.status_code == 200
    assert response.text.endswith("event: reconnect\ndata: {}\n\n")
    assert api.hub.notices.broker.subscribers == 0


async def test_texts_held_by_quiet_hours_go_out_when_the_hours_end(api: Api) -> None:
    w, hub = api.world, api.hub
    notifier = hub.notices.notifier
    sms = notifier.providers[Channel.SMS]
    await api.client.put("/api/v1/me/notification-preferences", headers=w.auth("alice"),
                         json={"channels": {"general": ["sms"]},
                               "quiet_start": "22:00", "quiet_end": "07:00"})
    sent_before = len(sms.sent)  # type: ignore[attr-defined]
    await hub.bus.handle(Notify(site_id=w.lakeside, unit_id=w.unit_a, title="Water off",
                                body="", at=_late_evening(), cause=Cause()))
    texts = sms.sent[sent_before:]  # type: ignore[attr-defined]
    assert w.accounts["alice"] not in [m.account_id for m in texts]  # held: 23:30 there

    just_before = datetime.fromisoformat("2026-11-27T22:59:00+00:00")  # 06:59 in Shanghai
    assert await notifier.send_deferred(just_before) == 0
    seven = datetime.fromisoformat("2026-11-27T23:00:00+00:00")  # 07:00 in Shanghai
    assert await notifier.send_deferred(seven) == 1
    after = [(m.account_id, m.title) for m in sms.sent[sent_before:]]  # type: ignore[attr-defined]
    assert after.count((w.accounts["alice"], "Water off")) == 1
    assert await notifier.send_deferred(seven) == 0  # sent once, then forgotten
