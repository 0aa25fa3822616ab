"""GET /api/v1/devices/{device_id}/telemetry: steps, the point limit, 422s by field, scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from hub.store.telemetry import roll_up
from tests.integration.api.conftest import Api
from tests.integration.telemetry.conftest import NOW, add_raw, at

MORNING = {"metric": "floor", "from": "2026-11-26T08:00:00Z", "to": "2026-11-26T09:00:00Z"}
# The API's clock: raw rows are kept from 2026-11-19 09:30, minute buckets from 2026-08-28.
API_NOW = NOW + timedelta(hours=1)


async def get(api: Api, device: int, user: str = "manager", **params: Any) -> httpx.Response:
    return await api.client.get(f"/api/v1/devices/{device}/telemetry", params=params,
                                headers=api.world.auth(user))


def assert_422(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field, response.text


@pytest.fixture
async def rides(api: Api) -> Api:
    """Lift b1 this morning: floors 3, 7, 5 in its first minute, a door word, 2 at 08:01."""
    api.hub.clock = lambda: API_NOW
    lift = api.world.lift_b1
    await add_raw(api.hub.engine, lift, "floor", [
        (at("08:00:05"), 3), (at("08:00:40"), 7), (at("08:00:20"), 5), (at("08:01:10"), 2)])
    await add_raw(api.hub.engine, lift, "door", [(at("08:00:06"), "closed")])
    for _ in range(2):
        await roll_up(api.hub.engine, now=NOW, raw_retention=timedelta(days=7))
    return api


async def test_a_short_range_answers_raw_readings_oldest_first(rides: Api) -> None:
    response = await get(rides, rides.world.lift_b1, **MORNING)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["device_id"], body["metric"], body["step"]) == (rides.world.lift_b1, "floor",
                                                                 "raw")
    assert (body["from"], body["to"]) == ("2026-11-26T08:00:00Z", "2026-11-26T09:00:00Z")
    assert [(p["time"][11:19], p["value"]) for p in body["points"]] == [
        ("08:00:05", 3.0), ("08:00:20", 5.0), ("08:00:40", 7.0), ("08:01:10", 2.0)]


async def test_words_come_back_as_text(rides: Api) -> None:
    response = await get(rides, rides.world.lift_b1, **{**MORNING, "metric": "door"})

    assert response.json()["points"] == [
        {"time": "2026-11-26T08:00:06Z", "value": None, "text": "closed"}]


async def test_minute_buckets_carry_count_sum_min_max_avg_and_last(rides: Api) -> None:
    response = await get(rides, rides.world.lift_b1, step="1m", **MORNING)

    assert response.status_code == 200, response.text
    assert response.json()["step"] == "1m"
    assert response.json()["points"] == [
        {"time": "2026-11-26T08:00:00Z", "count": 3, "sum": 15.0, "min": 3.0, "max": 7.0,
         "avg": 5.0, "last": 7.0},
        {"time": "2026-11-26T08:01:00Z", "count": 1, "sum": 2.0, "min": 2.0, "max": 2.0,
         "avg": 2.0, "last": 2.0}]


async def test_hour_buckets_start_at_the_hour_holding_from(rides: Api) -> None:
    response = await get(rides, rides.world.lift_b1, step="1h", metric="floor",
                         **{"from": "2026-11-26T16:30:00+08:00", "to": "2026-11-26T17:00:00+08:00"})

    assert [(p["time"], p["count"], p["last"]) for p in response.json()["points"]] == [
        ("2026-11-26T08:00:00Z", 4, 2.0)]


async def test_auto_turns_to_minute_buckets_when_raw_rows_exceed_the_limit(api: Api) -> None:
    api.hub.clock = lambda: API_NOW
    lift = api.world.lift_b1
    await add_raw(api.hub.engine, lift, "speed_mm_s",
                  [(at("08:00:00") + timedelta(seconds=s), 1000 + s % 7) for s in range(2001)])
    for _ in range(2):
        await roll_up(api.hub.engine, now=NOW, raw_retention=timedelta(days=7))

    auto = await get(api, lift, **{**MORNING, "metric": "speed_mm_s"})
    raw = await get(api, lift, step="raw", **{**MORNING, "metric": "speed_mm_s"})

    assert auto.status_code == 200, auto.text
    assert auto.json()["step"] == "1m"
    assert len(auto.json()["points"]) == 34  # 2,001 seconds from 08:00:00
    assert sum(p["count"] for p in auto.json()["points"]) == 2001
    assert_422(raw, "query.step")
    assert "2000" in raw.json()["error"]["message"]


async def test_auto_answers_few_raw_rows_over_days_while_raw_rows_are_kept(rides: Api) -> None:
    response = await get(rides, rides.world.lift_b1, metric="floor",
                         **{"from": "2026-11-24T00:00:00Z", "to": "2026-11-27T00:00:00Z"})

    assert (response.json()["step"], len(response.json()["points"])) == ("raw", 4)


async def test_auto_answers_buckets_when_from_is_older_than_raw_retention(rides: Api) -> None:
    """Raw rows before 2026-11-19 09:30 are gone: a raw answer would look like no data."""
    lift = rides.world.lift_b1
    weeks = await get(rides, lift, metric="floor",
                      **{"from": "2026-11-10T00:00:00Z", "to": "2026-11-27T00:00:00Z"})
    hours = await get(rides, lift, metric="floor",
                      **{"from": "2026-11-19T00:00:00Z", "to": "2026-11-19T12:00:00Z"})

    assert weeks.json()["step"] == "1h"
    assert [(p["time"], p["count"]) for p in weeks.json()["points"]] == [
        ("2026-11-26T08:00:00Z", 4)]
    assert hours.json()["step"] == "1m"


async def test_minute_buckets_over_three_days_are_refused_naming_step(rides: Api) -> None:
    response = await get(rides, rides.world.lift_b1, step="1m", metric="floor",
                         **{"from": "2026-11-24T00:00:00Z", "to": "2026-11-27T00:00:00Z"})

    assert_422(response, "query.step")
    assert "4320 buckets" in response.json()["error"]["message"]


async def test_a_range_no_step_can_answer_is_refused_naming_from(rides: Api) -> None:
    response = await get(rides, rides.world.lift_b1, metric="floor",
                         **{"from": "2026-01-01T00:00:00Z", "to": "2026-11-27T00:00:00Z"})

    assert_422(response, "query.from")


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-11-26T09:00:00Z", "to": "2026-11-26T08:00:00Z"}, "query.from"),
    ({"from": "2026-11-26T08:00:00Z", "to": "2026-11-26T08:00:00Z"}, "query.from"),
    ({"from": "2026-11-26T08:00:00"}, "query.from"),  # no offset: which 08:00?
    ({"to": "yesterday"}, "query.to"),
    ({"step": "5m"}, "query.step"),
    ({"metric": "floor; drop table"}, "query.metric"),
    ({"metric": None}, "query.metric"),
])
async def test_bad_queries_are_422_naming_the_field(rides: Api, params: dict[str, Any],
                                                    field: str) -> None:
    query = {k: v for k, v in {**MORNING, **params}.items() if v is not None}

    assert_422(await get(rides, rides.world.lift_b1, **query), field)


async def test_a_building_scoped_technician_sees_only_devices_of_that_building(
        rides: Api) -> None:
    w = rides.world

    answers = {name: (await get(rides, device, "b2-tech", **MORNING)).status_code
               for name, device in (("b2", w.lift_b2), ("b1", w.lift_b1),
                                    ("site gate", w.gate_lakeside), ("river", w.lift_river))}

    assert answers == {"b2": 200, "b1": 404, "site gate": 404, "river": 404}


async def test_a_device_out_of_scope_answers_like_one_that_does_not_exist(rides: Api) -> None:
    hidden = await get(rides, rides.world.lift_b1, "river-manager", **MORNING)
    absent = await get(rides, 2_000_000_000, "river-manager", **MORNING)

    assert (hidden.status_code, absent.status_code) == (404, 404)
    assert hidden.json()["error"]["message"].replace(str(rides.world.lift_b1), "?") == \
        absent.json()["error"]["message"].replace("2000000000", "?")


@pytest.mark.parametrize("user", ["alice", "finance"])
async def test_residents_and_finance_are_refused_by_policy(rides: Api, user: str) -> None:
    response = await get(rides, rides.world.lift_b1, user, **MORNING)

    assert response.status_code == 403
    assert "3.0" not in response.text


@pytest.mark.parametrize("user", ["admin", "manager", "tech", "desk", "guard"])
async def test_estate_staff_read_the_lift(rides: Api, user: str) -> None:
    response = await get(rides, rides.world.lift_b1, user, **MORNING)

    assert response.status_code == 200
    assert len(response.json()["points"]) == 4
