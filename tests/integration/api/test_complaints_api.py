"""Complaints and suggestions through the API: residents submit with photos for their own
household, follow and rate them; staff list, reply, move and escalate within their scope."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from hub.api.limits import upload_routes
from hub.domain.accounts import SYSTEM, Role
from hub.domain.commands import CreateAccount, GrantIn, Login
from hub.store.notice_tables import complaints
from tests.integration.api.conftest import Api
from tests.integration.api.probing import snapshot
from tests.integration.api.world import PASSWORD

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x02" * 40
FORM = {"category": "sanitation", "title": "Bins not emptied", "content": "Since Monday"}


async def _submit(api: Api, username: str = "alice",
                  photos: list[tuple[str, bytes]] | None = None, **form: Any) -> httpx.Response:
    data = {**FORM, **{k: str(v) for k, v in form.items()}}
    files = [("photos", (name, content, "application/octet-stream"))
             for name, content in photos or []]
    return await api.client.post("/api/v1/me/complaints", data=data, files=files or None,
                                 headers=api.world.auth(username))


def _stored_photos(api: Api) -> list[Path]:
    root = api.settings.data_dir / "media"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_resident_submits_with_photos_and_gets_them_back(api: Api) -> None:
    w = api.world
    made = await _submit(api, photos=[("bins.png", PNG), ("street.jpg", JPEG)])
    assert made.status_code == 201, made.text
    ident = made.json()["id"]
    mine = (await api.client.get(f"/api/v1/me/complaints/{ident}",
                                 headers=w.auth("alice"))).json()
    assert (mine["unit_id"], mine["status"], mine["photo_count"]) == (w.unit_a, "new", 2)
    first = await api.client.get(f"/api/v1/me/complaints/{ident}/photos/1",
                                 headers=w.auth("alice"))
    second = await api.client.get(f"/api/v1/complaints/{ident}/photos/2",
                                  headers=w.auth("desk"))
    assert (first.content, first.headers["content-type"]) == (PNG, "image/png")
    assert (second.content, second.headers["content-type"]) == (JPEG, "image/jpeg")
    third = await api.client.get(f"/api/v1/me/complaints/{ident}/photos/3",
                                 headers=w.auth("alice"))
    bobs = await api.client.get(f"/api/v1/me/complaints/{ident}/photos/1",
                                headers=w.auth("bob"))
    assert (third.status_code, bobs.status_code) == (404, 404)
    assert len(_stored_photos(api)) == 2


async def test_a_text_file_named_jpg_is_refused_and_nothing_is_stored(api: Api) -> None:
    before = await snapshot(api, skip=frozenset({"audit_log"}))
    response = await _submit(api, photos=[("bins.png", PNG),
                                          ("notes.jpg", b"Bins: not emptied since Monday")])
    print(f"a text file named .jpg: {response.status_code} {response.json()['error']}")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "body.photos.1"
    assert "notes.jpg" in error["message"]
    assert "not a JPEG or PNG" in error["message"]
    assert await snapshot(api, skip=frozenset({"audit_log"})) == before
    assert _stored_photos(api) == []


async def test_photos_are_limited_in_number_and_size(api: Api) -> None:
    six = await _submit(api, photos=[(f"p{i}.png", PNG + bytes([i])) for i in range(6)])
    big = await _submit(api, photos=[("huge.jpg", JPEG + b"\x00" * (5 * 1024 * 1024))])
    assert six.status_code == 422
    assert six.json()["error"]["field"] == "body.photos"
    assert big.status_code in (413, 422)  # the body limit (1 MB by default) or the 5 MB one


async def test_only_my_own_unit_and_only_declared_fields(api: Api) -> None:
    w = api.world
    before = await snapshot(api, skip=frozenset({"audit_log"}))
    bobs_unit = await _submit(api, unit_id=w.unit_b)
    river = await _submit(api, unit_id=w.unit_river)
    forged = await _submit(api, status="closed")
    forged_site = await _submit(api, site_id=w.riverside)
    unknown_category = await _submit(api, category="aliens")
    assert [r.status_code for r in (bobs_unit, river, forged, forged_site,
                                    unknown_category)] == [404, 404, 422, 422, 422]
    assert forged.json()["error"]["field"] == "body.status"
    assert forged_site.json()["error"]["field"] == "body.site_id"
    assert unknown_category.json()["error"]["field"] == "body.category"
    assert await snapshot(api, skip=frozenset({"audit_log"})) == before


async def test_residents_list_only_their_households_complaints(api: Api) -> None:
    w = api.world
    for username, expected in (("alice", [w.complaint_a]), ("bob", [w.complaint_b])):
        listed = (await api.client.get("/api/v1/me/complaints",
                                       headers=w.auth(username))).json()
        assert [c["id"] for c in listed["items"]] == expected
    alice_gets_bobs = await api.client.get(f"/api/v1/me/complaints/{w.complaint_b}",
                                           headers=w.auth("alice"))
    assert alice_gets_bobs.status_code == 404
    assert "Barking" not in alice_gets_bobs.text


async def _feed_titles(api: Api, username: str) -> list[str]:
    feed = (await api.client.get("/api/v1/me/notifications",
                                 headers=api.world.auth(username))).json()
    return [n["title"] for n in feed["items"]]


async def test_reply_notifies_the_resident_then_one_rating(api: Api) -> None:
    w = api.world
    ident = (await _submit(api)).json()["id"]
    too_early = await api.client.post(f"/api/v1/me/complaints/{ident}/rate",
                                      json={"satisfaction": 5}, headers=w.auth("alice"))
    assert too_early.status_code == 409
    moved = await api.client.post(f"/api/v1/complaints/{ident}/status",
                                  json={"status": "in_progress"}, headers=w.auth("desk"))
    replied = await api.client.post(f"/api/v1/complaints/{ident}/reply",
                                    json={"body": "Collected this morning."},
                                    headers=w.auth("desk"))
    assert (moved.status_code, replied.status_code) == (204, 201)
    assert "Reply to your complaint: Bins not emptied" in await _feed_titles(api, "alice")
    bob_rates = await api.client.post(f"/api/v1/me/complaints/{ident}/rate",
                                      json={"satisfaction": 1}, headers=w.auth("bob"))
    rated = await api.client.post(f"/api/v1/me/complaints/{ident}/rate",
                                  json={"satisfaction": 4, "comment": "quick"},
                                  headers=w.auth("alice"))
    again = await api.client.post(f"/api/v1/me/complaints/{ident}/rate",
                                  json={"satisfaction": 1}, headers=w.auth("alice"))
    out_of_range = await api.client.post(f"/api/v1/me/complaints/{ident}/rate",
                                         json={"satisfaction": 6}, headers=w.auth("alice"))
    assert [r.status_code for r in (bob_rates, rated, again, out_of_range)] == \
        [404, 204, 409, 422]
    mine = (await api.client.get(f"/api/v1/me/complaints/{ident}",
                                 headers=w.auth("alice"))).json()
    assert (mine["status"], mine["rating"], mine["rating_comment"]) == ("replied", 4, "quick")
    assert [r["body"] for r in mine["replies"]] == ["Collected this morning."]
    assert "author_id" not in mine["replies"][0]  # staff account ids stay with staff
    staff = (await api.client.get(f"/api/v1/complaints/{ident}",
                                  headers=w.auth("desk"))).json()
    assert staff["replies"][0]["author_id"] == w.accounts["desk"]


async def test_status_rules_through_the_api(api: Api) -> None:
    w = api.world
    ident = w.complaint_a
    replied_by_hand = await api.client.post(f"/api/v1/complaints/{ident}/status",
                                            json={"status": "replied"}, headers=w.auth("desk"))
    closed = await api.client.post(f"/api/v1/complaints/{ident}/status",
                                   json={"status": "closed"}, headers=w.auth("manager"))
    reopened = await api.client.post(f"/api/v1/complaints/{ident}/status",
                                     json={"status": "in_progress"}, headers=w.auth("desk"))
    reply_closed = await api.client.post(f"/api/v1/complaints/{ident}/reply",
                                         json={"body": "late"}, headers=w.auth("desk"))
    assert [r.status_code for r in (replied_by_hand, closed, reopened, reply_closed)] == \
        [422, 204, 409, 409]


async def test_escalation_by_staff_notifies_the_managers_once(api: Api) -> None:
    w = api.world
    first = await api.client.post(f"/api/v1/complaints/{w.complaint_b}/escalate",
                                  json={"reason": "third time this month"},
                                  headers=w.auth("desk"))
    second = await api.client.post(f"/api/v1/complaints/{w.complaint_b}/escalate",
                                   headers=w.auth("desk"))
    assert (first.status_code, second.status_code) == (204, 409)
    titles = await _feed_titles(api, "manager")
    print(f"manager's feed after escalating twice: {titles}")
    assert titles.count("Complaint escalated: Barking next to 1-0302") == 1
    assert "Complaint escalated: Barking next to 1-0302" not in \
        await _feed_titles(api, "river-manager")
    escalated = (await api.client.get("/api/v1/complaints", params={"escalated": "true"},
                                      headers=w.auth("manager"))).json()
    assert [c["id"] for c in escalated["items"]] == [w.complaint_b]


async def test_staff_lists_filter_and_stay_in_scope(api: Api) -> None:
    w = api.world
    desk = (await api.client.get("/api/v1/complaints", params={"building_id": w.b1},
                                 headers=w.auth("desk"))).json()
    assert sorted(c["id"] for c in desk["items"]) == sorted([w.complaint_a, w.complaint_b])
    river = (await api.client.get("/api/v1/complaints",
                                  headers=w.auth("river-manager"))).json()
    assert [c["id"] for c in river["items"]] == [w.complaint_river]
    await api.hub.bus.handle(CreateAccount(SYSTEM, username="b2-desk", password=PASSWORD,
                                           role=Role.SERVICE_DESK,
                                           grants=(GrantIn(w.lakeside, w.b2),)))
    tokens = await api.hub.bus.handle(Login("b2-desk", PASSWORD))
    b2 = {"Authorization": f"Bearer {tokens.access_token}"}
    listed = (await api.client.get("/api/v1/complaints", headers=b2)).json()
    one = await api.client.get(f"/api/v1/complaints/{w.complaint_a}", headers=b2)
    reply = await api.client.post(f"/api/v1/complaints/{w.complaint_a}/reply",
                                  json={"body": "not mine"}, headers=b2)
    assert (listed["items"], one.status_code, reply.status_code) == ([], 404, 404)
    async with api.hub.engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(complaints))
    assert total == 3


async def test_a_resident_files_at_most_ten_complaints_an_hour(api: Api) -> None:
    answers = [(await _submit(api, title=f"Complaint {i}")).status_code for i in range(12)]
    refused = await _submit(api, title="one more")
    print(f"12 complaints from alice: {answers.count(201)} accepted, {answers.count(429)} "
          f"refused (Retry-After {refused.headers.get('retry-after')})")
    assert answers == [201] * 10 + [429] * 2
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert (await _submit(api, "bob")).status_code == 201


async def test_photos_of_several_megabytes_pass_where_a_json_body_that_size_does_not(
        api: Api) -> None:
    # Routes that take files get api.max_upload_bytes (27 MiB); every other route keeps
    # api.max_body_bytes (1 MiB): a phone's photos are 2-5 MB each.
    big = JPEG + b"\x03" * (3 * 1_048_576)
    made = await _submit(api, photos=[("one.jpg", big), ("two.jpg", big + b"\x04")])
    assert made.status_code == 201, made.text
    json_body = await api.client.post(
        "/api/v1/me/complaints/1/rate", json={"rating": 5, "comment": "x" * 2_000_000},
        headers=api.world.auth("alice"))
    assert json_body.status_code == 413
    too_many = await _submit(api, photos=[(f"{n}.jpg", big + bytes([n])) for n in range(9)])
    assert too_many.status_code == 413
    assert "28311552 bytes" in too_many.json()["error"]["message"]


async def test_only_routes_that_take_files_get_the_upload_limit(api: Api) -> None:
    takes_files = upload_routes(api.app)
    assert takes_files("POST", "/api/v1/me/complaints")
    assert takes_files("POST", "/api/v1/me/repairs")
    assert takes_files("POST", "/api/v1/imports/residents")
    assert not takes_files("GET", "/api/v1/me/complaints")
    assert not takes_files("POST", "/api/v1/sites")
    assert not takes_files("POST", "/api/v1/me/complaints/1/rate")
