"""Parking tariffs through the API: managers publish tariffs and versions, guards and finance
read them and quote any stay (itemised, to the cent, by the version in force at entry);
another site's tariffs do not exist for them; bad rules and stays are 422 naming the field."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api
from tests.integration.api.probing import audit_rows, snapshot

MORNING = {"entry": "2026-11-27T09:00:00+08:00", "exit": "2026-11-27T11:40:00+08:00"}


async def _quote(api: Api, tariff: int, body: dict[str, Any], username: str = "guard"
                 ) -> dict[str, Any]:
    response = await api.client.post(f"/api/v1/parking/tariffs/{tariff}/quote", json=body,
                                     headers=api.world.auth(username))
    assert response.status_code == 200, response.text
    quoted: dict[str, Any] = response.json()
    return quoted


async def test_a_guard_quotes_a_stay_itemised_to_the_cent(api: Api) -> None:
    quoted = await _quote(api, api.world.tariff_lakeside, MORNING)
    assert (quoted["total"], quoted["currency"], quoted["version"]) == ("11.00", "CNY", 1)
    assert [(x["kind"], x["start"], x["units"], x["amount"]) for x in quoted["lines"]] == [
        ("free", "2026-11-27T09:00:00+08:00", None, "0.00"),
        ("first_period", "2026-11-27T09:15:00+08:00", 1, "5.00"),
        ("day", "2026-11-27T10:15:00+08:00", 3, "6.00"),
    ]
    assert quoted["lines"][2]["explain_en"] == \
        "Day 08:00–20:00: ¥2.00 per started 30 minutes × 3 = ¥6.00"
    assert quoted["lines"][2]["explain_zh"].startswith("日间08:00–20:00 每30分钟 ¥2.00")
    # The same stay written in UTC is read on the site's clock (Asia/Shanghai): the same fee.
    utc = await _quote(api, api.world.tariff_lakeside, {
        "entry": "2026-11-27T01:00:00Z", "exit": "2026-11-27T03:40:00Z"}, "finance")
    assert utc["total"] == "11.00" and utc["lines"][1]["start"] == "2026-11-27T09:15:00+08:00"


async def test_green_plates_coupons_and_an_earlier_entry_of_the_same_plate(api: Api) -> None:
    tariff = api.world.tariff_lakeside
    green = await _quote(api, tariff, {"entry": "2026-11-27T18:00:00+08:00",
                                       "exit": "2026-11-27T22:10:00+08:00",
                                       "plate_color": "green"})
    assert green["total"] == "5.50"
    assert green["lines"][-1]["explain_en"] == "Green plate ×0.5: ¥11.00 → ¥5.50"
    coupons = await _quote(api, tariff, {**MORNING, "coupons": [
        {"kind": "amount", "value": "5"}, {"kind": "percent", "value": "10"}]})
    assert coupons["total"] == "4.90"  # 10% first (¥1.10), then ¥5
    evening = await _quote(api, tariff, {
        "entry": "2026-11-27T18:00:00+08:00", "exit": "2026-11-28T10:00:00+08:00",
        "prior_charges": [{"entry": "2026-11-27T09:00:00+08:00",
                           "exit": "2026-11-27T14:00:00+08:00", "amount": "21.00"}]})
    assert evening["total"] == "13.00"
    assert [(w["earlier"], w["charged"]) for w in evening["windows"]] == [
        ("21.00", "9.00"), ("0.00", "4.00")]


async def test_a_new_version_applies_to_stays_entering_after_it(api: Api) -> None:
    w = api.world
    url = f"/api/v1/parking/tariffs/{w.tariff_lakeside}/versions"
    rules = {"free_minutes": 15, "first_period_minutes": 60, "first_period_price": "6.00",
             "unit_minutes": 30, "unit_price": "3.00"}
    added = await api.client.post(url, headers=w.auth("manager"), json={
        "effective_from": "2099-01-01T00:00:00+08:00", "rules": rules})
    assert added.status_code == 201, added.text
    before = await _quote(api, w.tariff_lakeside, {"entry": "2098-12-31T09:00:00+08:00",
                                                   "exit": "2098-12-31T11:40:00+08:00"})
    after = await _quote(api, w.tariff_lakeside, {"entry": "2099-01-01T09:00:00+08:00",
                                                  "exit": "2099-01-01T11:40:00+08:00"})
    assert (before["version"], before["total"]) == (1, "11.00")
    assert (after["version"], after["total"]) == (2, "15.00")  # ¥6 + 3 × ¥3
    # A stay that entered before the change and left after it keeps the old version.
    across = await _quote(api, w.tariff_lakeside, {"entry": "2098-12-31T22:00:00+08:00",
                                                   "exit": "2099-01-01T01:00:00+08:00"})
    assert across["version"] == 1
    shown = await api.client.get(f"/api/v1/parking/tariffs/{w.tariff_lakeside}",
                                 headers=w.auth("finance"))
    assert [v["number"] for v in shown.json()["versions"]] == [1, 2]
    assert shown.json()["versions"][1]["rules"]["unit_price"] == "3.00"

    past = await api.client.post(url, headers=w.auth("manager"), json={
        "effective_from": "2026-01-02T00:00:00+08:00", "rules": rules})
    again = await api.client.post(url, headers=w.auth("manager"), json={
        "effective_from": "2099-01-01T00:00:00+08:00", "rules": rules})
    assert (past.status_code, past.json()["error"]["field"]) == (409, "effective_from")
    assert (again.status_code, again.json()["error"]["field"]) == (409, "effective_from")


async def test_managers_publish_guards_and_finance_only_read(api: Api) -> None:
    w = api.world
    body = {"site_id": w.lakeside, "code": "per-entry", "name": "按次 per entry",
            "effective_from": "2026-01-01T00:00:00+08:00",
            "rules": {"mode": "per_entry", "entry_price": "10.00", "free_minutes": 15,
                      "free_mode": "grace",
                      "cap": {"amount": "20.00", "window": "calendar_day"},
                      "class_multipliers": {"large": "2"}}}
    for username in ("guard", "finance"):
        refused = await api.client.post("/api/v1/parking/tariffs", json=body,
                                        headers=w.auth(username))
        assert refused.status_code == 403
    created = await api.client.post("/api/v1/parking/tariffs", json=body,
                                    headers=w.auth("manager"))
    assert created.status_code == 201, created.text
    tariff = created.json()["id"]
    large = await _quote(api, tariff, {**MORNING, "vehicle_class": "large"})
    assert large["total"] == "20.00"
    listed = await api.client.get(f"/api/v1/parking/tariffs?site_id={w.lakeside}",
                                  headers=w.auth("guard"))
    assert [t["code"] for t in listed.json()["items"]] == ["visitors", "per-entry"]
    duplicate = await api.client.post("/api/v1/parking/tariffs", json=body,
                                      headers=w.auth("admin"))
    assert (duplicate.status_code, duplicate.json()["error"]["field"]) == (409, "code")
    changes = await audit_rows(api, "config_changed")
    assert any(row["target"] == f"tariff:{tariff}" for row in changes)


async def test_another_sites_tariff_does_not_exist_for_its_manager(api: Api) -> None:
    w = api.world
    auth = w.auth("river-manager")
    for response in (
            await api.client.get(f"/api/v1/parking/tariffs/{w.tariff_lakeside}", headers=auth),
            await api.client.post(f"/api/v1/parking/tariffs/{w.tariff_lakeside}/quote",
                                  json=MORNING, headers=auth)):
        assert response.status_code == 404
    listed = await api.client.get("/api/v1/parking/tariffs", headers=auth)
    assert [t["id"] for t in listed.json()["items"]] == [w.tariff_river]
    created = await api.client.post("/api/v1/parking/tariffs", headers=auth, json={
        "site_id": w.lakeside, "code": "x", "name": "x",
        "effective_from": "2026-01-01T00:00:00+08:00", "rules": {}})
    assert created.status_code == 404


async def test_bad_rules_and_stays_are_refused_naming_the_field(api: Api) -> None:
    w = api.world
    before = await snapshot(api)
    base = {"site_id": w.lakeside, "code": "bad", "name": "bad",
            "effective_from": "2026-01-01T00:00:00+08:00"}
    cases = [
        ({**base, "rules": {"night": {"start": "20:00", "end": "20:00", "unit_minutes": 60,
                                      "unit_price": "1"}}}, "rules.night.end"),
        ({**base, "rules": {"mode": "per_entry", "night": {
            "start": "20:00", "end": "08:00", "unit_minutes": 60, "unit_price": "1"}}},
         "rules.mode"),
        ({**base, "rules": {"unit_price": "-1"}}, "body.rules.unit_price"),
        ({**base, "rules": {"unit_price": "1.005"}}, "body.rules.unit_price"),
        ({**base, "rules": {"unit_minutes": 0}}, "body.rules.unit_minutes"),
        ({**base, "rules": {"plate_multipliers": {"purple": "2"}}},
         "body.rules.plate_multipliers.purple.[key]"),
        ({**base, "effective_from": "2026-01-01T00:00:00", "rules": {}},
         "body.effective_from"),
    ]
    for body, field in cases:
        response = await api.client.post("/api/v1/parking/tariffs", json=body,
                                         headers=w.auth("manager"))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["field"] == field, response.text
    url = f"/api/v1/parking/tariffs/{w.tariff_lakeside}/quote"
    stays = [
        ({"entry": MORNING["exit"], "exit": MORNING["entry"]}, "exit"),
        ({"entry": "2025-06-01T09:00:00+08:00", "exit": "2025-06-01T10:00:00+08:00"},
         "entry"),
        ({"entry": "9999-12-31T20:00:00+08:00", "exit": "9999-12-31T22:00:00+08:00"},
         "entry"),
        ({**MORNING, "coupons": [{"kind": "percent", "value": "0"}]}, "coupons.value"),
        ({**MORNING, "coupons": [{"kind": "gift"}]}, "body.coupons.0.kind"),
        ({**MORNING, "prior_charges": [{"entry": MORNING["exit"], "exit": MORNING["exit"],
                                        "amount": "1.00"}]}, "prior_charges.entry"),
    ]
    for body, field in stays:
        response = await api.client.post(url, json=body, headers=w.auth("guard"))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["field"] == field, response.text
    assert await snapshot(api) == before
