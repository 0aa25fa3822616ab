"""Parking sessions through the API: guards and managers read who is inside, the history
and each session's decisions and charge; they close sessions, open lanes and take cash,
each audited with its reason; residents read only their household's stays and charges;
finance and other sites see nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from hub.domain.parking.sessions import ParkingSession, SessionState, present_key
from hub.domain.parking.standing import Standing
from hub.store.parking_registry_tables import parking_lots
from tests.integration.api.conftest import Api
from tests.integration.api.probing import audit_rows
from tests.integration.parking_gate.seed import ENTRY, PLATE_A, PLATE_B, PLATE_RIVER


async def _get(api: Api, url: str, username: str, **params: Any) -> Any:
    response = await api.client.get(url, params=params, headers=api.world.auth(username))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_guard_sees_who_is_inside_their_site_only(api: Api) -> None:
    w = api.world
    inside = await _get(api, "/api/v1/parking/sessions", "guard", state="inside")
    assert sorted(s["plate"] for s in inside["items"]) == [PLATE_A, PLATE_B]
    assert (await _get(api, "/api/v1/parking/sessions", "guard", plate="沪A·11111")
            )["total"] == 1
    assert (await _get(api, "/api/v1/parking/sessions", "guard", state="history"))["total"] == 0
    river = await _get(api, "/api/v1/parking/sessions", "river-manager")
    assert [s["plate"] for s in river["items"]] == [PLATE_RIVER]
    detail = await _get(api, f"/api/v1/parking/sessions/{w.session_b}", "manager")
    assert detail["charge"]["amount"] == "7.00" and detail["charge"]["status"] == "due"
    assert [d["verdict"] for d in detail["decisions"]] == ["open"]
    refused = await api.client.get("/api/v1/parking/sessions", headers=w.auth("finance"))
    assert refused.status_code == 403


async def test_cash_pays_the_charge_and_lets_the_waiting_car_out(api: Api) -> None:
    w = api.world
    url = f"/api/v1/parking/sessions/{w.session_b}/cash"
    wrong = await api.client.post(url, json={"amount": "5.00"}, headers=w.auth("guard"))
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "amount"
    paid = await api.client.post(url, json={"amount": "7.00"}, headers=w.auth("guard"))
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["paid_by"]) == ("paid", "cash")
    session = await _get(api, f"/api/v1/parking/sessions/{w.session_b}", "guard")
    assert session["state"] == "left" and session["paid_amount"] == "7.00"
    assert session["decisions"][-1]["verdict"] == "open"
    again = await api.client.post(url, json={"amount": "7.00"}, headers=w.auth("guard"))
    assert again.status_code == 409
    (audit,) = await audit_rows(api, "parking_override")
    assert audit["target"] == f"parking_session:{w.session_b}"
    assert audit["detail"] == {"change": "cash", "amount": "7.00"}


async def test_a_guard_closes_a_session_with_a_reason(api: Api) -> None:
    w = api.world
    url = f"/api/v1/parking/sessions/{w.session_a}/close"
    missing = await api.client.post(url, json={"reason": ""}, headers=w.auth("guard"))
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "body.reason"
    closed = await api.client.post(url, json={"reason": "left through the fire gate"},
                                   headers=w.auth("guard"))
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed_by_staff"
    assert closed.json()["close_reason"] == "left through the fire gate"
    twice = await api.client.post(url, json={"reason": "again"}, headers=w.auth("guard"))
    assert twice.status_code == 409
    (audit,) = await audit_rows(api, "parking_override")
    assert (audit["target"], audit["detail"]) == (f"parking_session:{w.session_a}",
                                                  {"change": "closed"})
    inside = await _get(api, "/api/v1/parking/sessions", "guard", state="inside")
    assert [s["plate"] for s in inside["items"]] == [PLATE_B]


async def test_occupancy_counts_cars_per_lot(api: Api) -> None:
    w = api.world
    async with api.hub.engine.begin() as connection:
        lot = (await connection.execute(insert(parking_lots).values(
            site_id=w.lakeside, code="b2", name="地下二层 B2", temporary_capacity=3)
            .returning(parking_lots.c.id))).scalar_one()
    async with api.hub.sessions() as db, db.begin():
        for plate, standing in (("沪K10001", Standing.TEMPORARY), ("沪K10002", Standing.VISITOR),
                                ("沪K10003", Standing.MONTHLY)):
            db.add(ParkingSession(site_id=w.lakeside, lot_id=lot, plate=plate,
                                  standing=standing, state=SessionState.INSIDE,
                                  updated_at=ENTRY, entry_at=ENTRY,
                                  present_key=present_key(lot, plate)))
    lots = await _get(api, "/api/v1/parking/occupancy", "desk", site_id=w.lakeside)
    b2 = next(x for x in lots if x["lot_id"] == lot)
    assert (b2["temporary_capacity"], b2["inside_total"], b2["inside_temporary"]) == (3, 3, 2)
    assert await _get(api, "/api/v1/parking/occupancy", "guard", site_id=w.riverside) == []


async def test_residents_read_their_own_stays_and_charges_only(api: Api) -> None:
    alice = await _get(api, "/api/v1/me/parking/sessions", "alice")
    assert [s["plate"] for s in alice["items"]] == [PLATE_A]
    assert "review_reason" not in alice["items"][0]
    assert (await _get(api, "/api/v1/me/parking/charges", "alice"))["total"] == 0
    bob = await _get(api, "/api/v1/me/parking/charges", "bob")
    assert [(c["plate"], c["amount"]) for c in bob["items"]] == [(PLATE_B, "7.00")]
    staff_only = await api.client.get("/api/v1/parking/sessions",
                                      headers=api.world.auth("alice"))
    assert staff_only.status_code == 403
