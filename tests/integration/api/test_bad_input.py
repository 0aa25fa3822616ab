"""Bad input: every malformed, mistyped, oversized or impossible request is a 4xx that names
what is wrong, in the one error shape, and leaves the stored data as it was."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.probing import Snapshot, snapshot
from tests.integration.api.world import BOB_ID, valid_national_id

JSON = {"content-type": "application/json"}
HUGE = 2**70


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field", "details"}
    if field is not None:
        assert error["field"] == field, error


@pytest.fixture
async def unchanged(api: Api) -> AsyncIterator[Snapshot]:
    """The stored data (sessions and the audit log aside) is the same after the test."""
    skip = frozenset({"audit_log", "auth_sessions"})
    before = await snapshot(api, skip=skip)
    yield before
    assert await snapshot(api, skip=skip) == before


async def test_malformed_json_is_422_naming_the_body(api: Api, unchanged: Snapshot) -> None:
    response = await api.client.post("/api/v1/sites", content=b'{"name": ',
                                     headers={**api.world.auth("admin"), **JSON})
    assert_error(response, 422)
    assert response.json()["error"]["field"].startswith("body")
    assert "malformed JSON" in response.json()["error"]["message"]


@pytest.mark.parametrize("content", [b"", b"null", b"[]", b'"lakeside"', b"42", b"\xff\xfe",
                                     b'{"code": "x", "name": "y"} trailing'])
async def test_a_body_that_is_not_an_object_is_422(api: Api, unchanged: Snapshot,
                                                   content: bytes) -> None:
    response = await api.client.post("/api/v1/sites", content=content,
                                     headers={**api.world.auth("admin"), **JSON})
    assert_error(response, 422)
    assert response.json()["error"]["field"].startswith("body")


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    ("POST", "/api/v1/buildings", {"code": "b9", "name": "B9", "floors": "ten"}, "body.floors"),
    ("PATCH", "/api/v1/buildings/{b1}", {"floors": "ten"}, "body.floors"),
    ("PATCH", "/api/v1/buildings/{b1}", {"floors": 10.5}, "body.floors"),
    ("PATCH", "/api/v1/buildings/{b1}", {"floors": 0}, "body.floors"),
    ("PATCH", "/api/v1/buildings/{b1}", {"floors": [18]}, "body.floors"),
    ("PATCH", "/api/v1/units/{unit_a}", {"gross_area": "NaN"}, "body.gross_area"),
    ("PATCH", "/api/v1/units/{unit_a}", {"gross_area": "-1"}, "body.gross_area"),
    ("PATCH", "/api/v1/units/{unit_a}", {"gross_area": "1e400"}, "body.gross_area"),
    ("PATCH", "/api/v1/units/{unit_a}", {"status": "demolished"}, "body.status"),
    ("PATCH", "/api/v1/units/{unit_a}", {"floor": 0}, "floor"),
    ("PATCH", "/api/v1/units/{unit_a}", {"floor": 19}, "floor"),
    ("PATCH", "/api/v1/units/{unit_a}", {}, "body"),
    ("PATCH", "/api/v1/residents/{alice}", {"phone": "+86 138"}, "body.phone"),
    ("PATCH", "/api/v1/residents/{alice}", {"name": "   "}, "body.name"),
    ("PATCH", "/api/v1/residents/{alice}", {"name": "x" * 101}, "body.name"),
    ("POST", "/api/v1/sites", {"code": "Bad Code!", "name": "x"}, "body.code"),
    ("POST", "/api/v1/residencies/{residency_bob}/end", {"moved_out": "2019-01-01"},
     "moved_out"),
    ("POST", "/api/v1/residencies/{residency_bob}/end", {"moved_out": "2024-02-30"},
     "body.moved_out"),
    ("POST", "/api/v1/staff", {"username": "ab", "password": "long-enough-pw",
                               "role": "finance"}, "body.username"),
    ("POST", "/api/v1/staff", {"username": "shortpw", "password": "short",
                               "role": "finance"}, "body.password"),
    ("POST", "/api/v1/staff", {"username": "norole", "password": "long-enough-pw",
                               "role": "overlord"}, "body.role"),
])
async def test_a_wrong_value_is_422_naming_its_field(api: Api, unchanged: Snapshot, method: str,
                                                     path: str, body: dict[str, Any],
                                                     field: str) -> None:
    w = api.world
    if method == "POST" and path == "/api/v1/buildings":
        body = {"site_id": w.lakeside, **body}
    response = await api.client.request(method, path.format(**vars(w)), json=body,
                                        headers=w.auth("admin"))
    assert_error(response, 422, field)


@pytest.mark.parametrize("path", ["/api/v1/units/{id}", "/api/v1/residents/{id}",
                                  "/api/v1/sites/{id}", "/api/v1/buildings/{id}",
                                  "/api/v1/staff/{id}"])
@pytest.mark.parametrize("ident", ["abc", "1.5", str(HUGE), str(-HUGE), "1e3"])
async def test_an_id_that_is_not_a_row_number_is_422(api: Api, unchanged: Snapshot, path: str,
                                                     ident: str) -> None:
    response = await api.client.get(path.format(id=ident), headers=api.world.auth("admin"))
    assert_error(response, 422)
    assert response.json()["error"]["field"].startswith("path.")


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/buildings", {"site_id": HUGE, "code": "b9", "name": "B9", "floors": 3},
     "body.site_id"),
    ("/api/v1/units", {"building_id": HUGE, "number": "9-1", "floor": 1, "gross_area": "50",
                       "inner_area": "40"}, "body.building_id"),
    ("/api/v1/residents", {"site_id": -HUGE, "name": "赵敏"}, "body.site_id"),
    ("/api/v1/staff", {"username": "spy", "password": "long-enough-pw", "role": "security",
                       "grants": [{"site_id": HUGE}]}, "body.grants.0.site_id"),
])
async def test_an_out_of_range_id_in_a_body_is_422(api: Api, unchanged: Snapshot, path: str,
                                                   body: dict[str, Any], field: str) -> None:
    response = await api.client.post(path, json=body, headers=api.world.auth("admin"))
    assert_error(response, 422, field)


@pytest.mark.parametrize("query", ["site_id", "building_id", "unit_id"])
async def test_an_out_of_range_id_in_a_query_is_422(api: Api, unchanged: Snapshot,
                                                    query: str) -> None:
    response = await api.client.get("/api/v1/residents", params={query: str(HUGE)},
                                    headers=api.world.auth("admin"))
    assert_error(response, 422, f"query.{query}")


async def test_a_body_over_the_limit_is_413(api: Api, unchanged: Snapshot) -> None:
    limit = api.settings.api.max_body_bytes
    body = b'{"name": "' + b"x" * limit + b'"}'
    response = await api.client.post("/api/v1/sites", content=body,
                                     headers={**api.world.auth("admin"), **JSON})
    assert_error(response, 413)
    assert response.json()["error"]["code"] == "too_large"


async def test_a_streamed_body_over_the_limit_is_413(api: Api, unchanged: Snapshot) -> None:
    limit = api.settings.api.max_body_bytes
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"name": "'
        while sent <= 4 * limit:
            sent += 65536
            yield b"x" * 65536
        yield b'"}'

    request = api.client.build_request("POST", "/api/v1/sites", content=chunks(),
                                       headers={**api.world.auth("admin"), **JSON})
    assert "content-length" not in request.headers
    response = await api.client.send(request)
    assert_error(response, 413)
    assert response.json()["error"]["code"] == "too_large"


async def test_a_streamed_login_form_over_the_limit_is_413(api: Api,
                                                           unchanged: Snapshot) -> None:
    limit = api.settings.api.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b"username=admin&password="
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    response = await api.client.post(
        "/api/v1/auth/login", content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"})
    assert_error(response, 413)


async def test_a_body_just_under_the_limit_is_read(api: Api) -> None:
    limit = api.settings.api.max_body_bytes
    padding = " " * (limit - 100)
    body = f'{{"code": "hilltop", "name": "Hilltop"{padding}}}'.encode()
    response = await api.client.post("/api/v1/sites", content=body,
                                     headers={**api.world.auth("admin"), **JSON})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("number", "message"), [
    (BOB_ID[:17] + ("0" if BOB_ID[17] != "0" else "1"), "check digit"),
    (valid_national_id("11010519790230456"), "birth date"),
    (valid_national_id("11010519791322456"), "birth date"),
    (BOB_ID[:17], "18 characters"),
    ("0" + BOB_ID[1:], "18 characters"),
])
async def test_an_invalid_national_id_is_422_naming_it(api: Api, unchanged: Snapshot,
                                                        number: str, message: str) -> None:
    w = api.world
    response = await api.client.post("/api/v1/residents", headers=w.auth("desk"), json={
        "site_id": w.lakeside, "name": "错号", "national_id": number})
    assert_error(response, 422)
    assert response.json()["error"]["field"].rsplit(".", 1)[-1] == "national_id"
    assert message in response.json()["error"]["message"]


async def test_an_impossible_move_in_date_is_422(api: Api, unchanged: Snapshot) -> None:
    w = api.world
    response = await api.client.post(f"/api/v1/residents/{w.alice}/residencies",
                                     headers=w.auth("desk"),
                                     json={"unit_id": w.unit_c, "relation": "family",
                                           "moved_in": "2024-02-30"})
    assert_error(response, 422, "body.moved_in")


async def test_a_duplicate_unit_number_in_a_building_is_409(api: Api,
                                                            unchanged: Snapshot) -> None:
    w = api.world
    created = await api.client.post("/api/v1/units", headers=w.auth("desk"), json={
        "building_id": w.b1, "number": "1-0301", "floor": 3, "gross_area": "89.75",
        "inner_area": "72.10"})
    renamed = await api.client.patch(f"/api/v1/units/{w.unit_b}", headers=w.auth("desk"),
                                     json={"number": "1-0301"})
    assert_error(created, 409, "number")
    assert_error(renamed, 409, "number")


async def test_the_same_number_in_another_building_is_allowed(api: Api) -> None:
    w = api.world
    response = await api.client.post("/api/v1/units", headers=w.auth("desk"), json={
        "building_id": w.b2, "number": "1-0301", "floor": 3, "gross_area": "89.75",
        "inner_area": "72.10"})
    assert response.status_code == 201


async def test_two_units_with_one_number_at_once_make_one_unit(api: Api) -> None:
    w = api.world
    body = {"building_id": w.b1, "number": "1-1801", "floor": 18, "gross_area": "90",
            "inner_area": "70"}
    answers = await asyncio.gather(*(api.client.post("/api/v1/units", headers=w.auth("desk"),
                                                     json=body) for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409]
    units = await api.client.get("/api/v1/units", params={"number": "1-1801"},
                                 headers=w.auth("desk"))
    assert units.json()["total"] == 1


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": "1000000"}, "query.limit"), ({"limit": "0"}, "query.limit"),
    ({"limit": "-1"}, "query.limit"), ({"limit": "ten"}, "query.limit"),
    ({"offset": "-1"}, "query.offset"), ({"offset": str(HUGE)}, "query.offset"),
    ({"status": "demolished"}, "query.status"), ({"number": "x" * 33}, "query.number"),
])
async def test_a_bad_page_or_filter_is_422_naming_it(api: Api, unchanged: Snapshot,
                                                     params: dict[str, str], field: str) -> None:
    response = await api.client.get("/api/v1/units", params=params,
                                    headers=api.world.auth("admin"))
    assert_error(response, 422, field)


async def test_the_largest_page_is_allowed(api: Api) -> None:
    most = api.settings.api.max_page_size
    response = await api.client.get("/api/v1/units", params={"limit": most},
                                    headers=api.world.auth("admin"))
    assert response.status_code == 200
    assert response.json()["limit"] == most


@pytest.mark.parametrize("depth", [50, 5_000, 200_000])
async def test_deeply_nested_json_is_refused_without_a_server_error(api: Api,
                                                                    unchanged: Snapshot,
                                                                    depth: int) -> None:
    body = b'{"code": "deep", "name": ' + b"[" * depth + b"]" * depth + b"}"
    if len(body) > api.settings.api.max_body_bytes:
        pytest.skip("deeper than the body limit allows")
    response = await api.client.post("/api/v1/sites", content=body,
                                     headers={**api.world.auth("admin"), **JSON})
    assert 400 <= response.status_code < 500
    assert set(response.json()["error"]) == {"code", "message", "field", "details"}
    assert (await api.client.get("/health")).status_code == 200


async def test_control_characters_and_odd_unicode_are_stored_as_sent(api: Api) -> None:
    w = api.world
    name = "楼\u200b\U0001f3e0 <b>1</b> '; DROP TABLE units; --"
    response = await api.client.patch(f"/api/v1/buildings/{w.b2}", headers=w.auth("admin"),
                                      json={"name": name})
    assert response.status_code == 204
    stored = await api.client.get(f"/api/v1/buildings/{w.b2}", headers=w.auth("admin"))
    assert stored.json()["name"] == name
    assert (await api.client.get("/api/v1/units", headers=w.auth("admin"))).json()["total"] == 4
